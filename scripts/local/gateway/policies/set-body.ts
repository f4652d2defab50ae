import { policyElement, SECTIONS } from './element';

/**
 * `set-body` (learn.microsoft.com/azure/api-management/set-body-policy), literal text only: the
 * request body in inbound and backend, the response body in outbound and on-error (it works in
 * on-error although that section's list omits it: MicrosoftDocs/azure-docs#59226).
 */
export default policyElement<{ readonly body: string }>({
  name: 'set-body',
  sections: SECTIONS,
  attributes: [],
  parse(element, _attributes, { reader }) {
    return { body: reader.resolve(reader.text(element), element, '<set-body>') };
  },
  execute({ body }, { state, section }) {
    if (section === 'outbound' || section === 'on-error') {
      if (state.response) state.response.body = Buffer.from(body);
    } else state.request.body = Buffer.from(body);
  },
});
