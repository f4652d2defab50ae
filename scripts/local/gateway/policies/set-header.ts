import type { HeaderMap } from '../messages';
import { policyElement, SECTIONS } from './element';
import { NAME_VALUE_ATTRIBUTES, parseNameValue, type NameValueConfig } from './name-value';

/**
 * `set-header` (learn.microsoft.com/azure/api-management/set-header-policy): on the request in
 * inbound and backend, on the response in outbound and on-error. Several values go out as one
 * comma-separated header ("headerName: value1,value2,value3"), except the standard headers whose
 * values may hold commas or dates, which go out as one header per value.
 */

/** Headers API Management does not let set-header touch ("Limitations"). */
const PROTECTED_HEADERS = ['connection', 'content-length', 'keep-alive', 'transfer-encoding'];

/** Headers whose values are sent separately rather than joined ("Usage notes"). */
export const SEPARATE_VALUE_HEADERS = [
  'user-agent',
  'www-authenticate',
  'proxy-authenticate',
  'cookie',
  'set-cookie',
  'warning',
  'date',
  'expires',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'retry-after',
];

/** The header values as API Management sends them: one joined value unless the header is listed. */
export function headerValues(name: string, values: readonly string[]): string[] {
  return SEPARATE_VALUE_HEADERS.includes(name.toLowerCase()) ? [...values] : [values.join(',')];
}

export function applyHeader(headers: HeaderMap, { name, action, values }: NameValueConfig): void {
  const existing = headers.get(name);
  switch (action) {
    case 'delete':
      headers.delete(name);
      return;
    case 'skip':
      if (!existing) headers.set(name, headerValues(name, values));
      return;
    case 'append':
      headers.set(name, headerValues(name, [...(existing ?? []), ...values]));
      return;
    case 'override':
      headers.set(name, headerValues(name, values));
      return;
  }
}

export default policyElement<NameValueConfig>({
  name: 'set-header',
  sections: SECTIONS,
  attributes: NAME_VALUE_ATTRIBUTES,
  parse(element, attributes, context) {
    const config = parseNameValue(element, attributes, context);
    const { reader, section } = context;
    if (PROTECTED_HEADERS.includes(config.name.toLowerCase())) {
      reader.fail(
        'invalid_value',
        element,
        `API Management does not let set-header change "${config.name}".`,
      );
    }
    const onResponse = section === 'outbound' || section === 'on-error';
    if (onResponse && config.name.toLowerCase() === 'server' && config.action === 'delete') {
      reader.fail(
        'invalid_value',
        element,
        'API Management cannot delete the Server response header.',
      );
    }
    return config;
  },
  execute(config, { state, section }) {
    const onResponse = section === 'outbound' || section === 'on-error';
    const headers = onResponse ? state.response?.headers : state.request.headers;
    if (headers) applyHeader(headers, config);
  },
});
