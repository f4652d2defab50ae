import { policyElement } from './element';
import { NAME_VALUE_ATTRIBUTES, parseNameValue, type NameValueConfig } from './name-value';

/**
 * `set-query-parameter` (learn.microsoft.com/azure/api-management/set-query-parameter-policy):
 * inbound and backend; each `<value>` is one parameter of that name.
 */

export function applyQueryParameter(
  query: URLSearchParams,
  { name, action, values }: NameValueConfig,
): void {
  if (action === 'skip' && query.has(name)) return;
  if (action === 'delete' || action === 'override' || action === 'skip') query.delete(name);
  if (action !== 'delete') for (const value of values) query.append(name, value);
}

export default policyElement<NameValueConfig>({
  name: 'set-query-parameter',
  sections: ['inbound', 'backend'],
  attributes: NAME_VALUE_ATTRIBUTES,
  parse: parseNameValue,
  execute(config, { state }) {
    applyQueryParameter(state.request.query, config);
  },
});
