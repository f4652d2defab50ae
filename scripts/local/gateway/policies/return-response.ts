import { PolicyAnswer } from '../failure';
import { HeaderMap, type GatewayResponse } from '../messages';
import type { PolicyReader } from '../policy-reader';
import { policyElement, SECTIONS } from './element';
import { NAME_VALUE_ATTRIBUTES, parseNameValue, type NameValueConfig } from './name-value';
import { applyHeader } from './set-header';
import { parseStatus, STATUS_ATTRIBUTES } from './set-status';

/**
 * `return-response` (learn.microsoft.com/azure/api-management/return-response-policy): ends the
 * pipeline and answers the caller, "200 OK with no body" by default, or what its `<set-status>`,
 * `<set-header>` and `<set-body>` (literal text) children make; all sections and scopes. The
 * policies after it do not run, on-error neither. `response-variable-name` needs a context
 * variable (from `send-request`), which the local gateway does not have: it is named at start.
 */

type Step =
  | { readonly kind: 'status'; readonly code: number }
  | { readonly kind: 'header'; readonly header: NameValueConfig }
  | { readonly kind: 'body'; readonly body: string };

export default policyElement<{ readonly steps: readonly Step[] }>({
  name: 'return-response',
  sections: SECTIONS,
  attributes: [],
  parse(element, _attributes, context) {
    const reader: PolicyReader = context.reader;
    const steps = reader.elementChildren(element, '<return-response>').map((child): Step => {
      switch (child.tagName) {
        case 'set-status':
          return {
            kind: 'status',
            code: parseStatus(reader, child, reader.attributes(child, STATUS_ATTRIBUTES)).code,
          };
        case 'set-header':
          return {
            kind: 'header',
            header: parseNameValue(child, reader.attributes(child, NAME_VALUE_ATTRIBUTES), context),
          };
        case 'set-body':
          reader.attributes(child, []);
          return { kind: 'body', body: reader.resolve(reader.text(child), child, '<set-body>') };
        default:
          return reader.fail(
            'unsupported_element',
            child,
            `<${child.tagName}> inside <return-response> is not allowed (only <set-status>, <set-header>, <set-body>).`,
          );
      }
    });
    return { steps };
  },
  execute({ steps }) {
    const response: GatewayResponse = {
      status: 200,
      headers: new HeaderMap(),
      body: Buffer.alloc(0),
    };
    for (const step of steps) {
      if (step.kind === 'status') response.status = step.code;
      else if (step.kind === 'header') applyHeader(response.headers, step.header);
      else response.body = Buffer.from(step.body);
    }
    throw new PolicyAnswer('return-response', response);
  },
});
