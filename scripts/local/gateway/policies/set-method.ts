import type { PolicyReader } from '../policy-reader';
import { policyElement } from './element';

/**
 * `set-method` (learn.microsoft.com/azure/api-management/set-method-policy): the request's HTTP
 * method, as text (`<set-method>POST</set-method>`); inbound and on-error. The backend gets the
 * new method; routing was done on the client's.
 */

/** An HTTP method token (RFC 9110 section 9.1). */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export default policyElement<{ readonly method: string }>({
  name: 'set-method',
  sections: ['inbound', 'on-error'],
  attributes: [],
  parse(element, _attributes, context) {
    const reader: PolicyReader = context.reader;
    const method = reader.resolve(reader.text(element), element, '<set-method>').trim();
    if (!METHOD.test(method)) {
      reader.fail(
        'invalid_value',
        element,
        `<set-method> must hold an HTTP method, got "${method}".`,
      );
    }
    return { method: method.toUpperCase() };
  },
  execute({ method }, { state }) {
    state.request.method = method;
  },
});
