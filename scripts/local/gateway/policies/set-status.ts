import type { Element } from '@xmldom/xmldom';
import type { PolicyReader } from '../policy-reader';
import { policyElement } from './element';

/**
 * `set-status` (learn.microsoft.com/azure/api-management/set-status-policy): `code` and `reason`,
 * both required. It sets the status of the response, so locally it runs in outbound and on-error
 * and inside `return-response`; in inbound and backend, where the local gateway has no response
 * yet, it is named at start and skipped. The reason phrase is read but not sent: the local
 * gateway answers with the standard phrase of the code.
 */

export interface StatusConfig {
  readonly code: number;
  readonly reason: string;
}

/** Reads `code` (100 to 599) and `reason` of a `<set-status>`. */
export function parseStatus(
  reader: PolicyReader,
  element: Element,
  attributes: ReadonlyMap<string, string>,
): StatusConfig {
  const code = reader.wholeNumber(element, attributes, 'code', { min: 100, max: 599 });
  const reason = reader.required(element, attributes, 'reason');
  reader.noChildren(element);
  return { code, reason };
}

export const STATUS_ATTRIBUTES = ['code', 'reason'] as const;

export default policyElement<StatusConfig>({
  name: 'set-status',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: STATUS_ATTRIBUTES,
  parse(element, attributes, context) {
    const reader: PolicyReader = context.reader;
    if (context.section === 'inbound' || context.section === 'backend') {
      reader.fail(
        'unsupported_element',
        element,
        `the local gateway runs <set-status> in outbound, on-error and inside <return-response>, not in <${context.section}>.`,
      );
    }
    return parseStatus(reader, element, attributes);
  },
  execute({ code }, { state }) {
    if (state.response) state.response.status = code;
  },
});
