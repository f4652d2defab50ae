import type { PolicyReader } from '../policy-reader';
import { policyElement } from './element';

/**
 * `rewrite-uri` (learn.microsoft.com/azure/api-management/rewrite-uri-policy): inbound. The
 * request goes to the backend at `template` (a path relative to the backend's URL, with its own
 * query parameters) instead of the operation's path. `copy-unmatched-params` (default true) adds
 * the incoming query parameters that are not in the operation's URL template; the local gateway's
 * operations come from OpenAPI paths, which hold no query, so that is every incoming parameter
 * the rewritten template does not set itself. A template with `{parameters}` of the operation's
 * path is named at start and skipped.
 */

export interface RewriteUriConfig {
  readonly path: string;
  readonly query: URLSearchParams;
  readonly copyUnmatched: boolean;
}

export default policyElement<RewriteUriConfig>({
  name: 'rewrite-uri',
  sections: ['inbound'],
  attributes: ['template', 'copy-unmatched-params'],
  parse(element, attributes, context) {
    const reader: PolicyReader = context.reader;
    reader.noChildren(element);
    const template = reader.required(element, attributes, 'template').trim();
    if (/[{}]/.test(template)) {
      reader.fail(
        'unsupported_attribute',
        element,
        `the template "${template}" has {parameters}, which the local gateway does not fill in.`,
      );
    }
    const copy = (attributes.get('copy-unmatched-params') ?? 'true').trim();
    if (copy !== 'true' && copy !== 'false') {
      reader.fail(
        'invalid_value',
        element,
        '"copy-unmatched-params" on <rewrite-uri> must be true or false.',
      );
    }
    const queryAt = template.indexOf('?');
    const rawPath = queryAt === -1 ? template : template.slice(0, queryAt);
    if (/[\s#]/.test(rawPath) || rawPath.startsWith('//') || /^[a-z][a-z0-9+.-]*:/i.test(rawPath)) {
      reader.fail('invalid_value', element, `the template "${template}" is not a path and query.`);
    }
    return {
      path: rawPath.startsWith('/') ? rawPath : `/${rawPath}`,
      query: new URLSearchParams(queryAt === -1 ? '' : template.slice(queryAt + 1)),
      copyUnmatched: copy === 'true',
    };
  },
  execute({ path, query, copyUnmatched }, { state }) {
    const { request } = state;
    const incoming = new URLSearchParams(request.query);
    for (const name of [...request.query.keys()]) request.query.delete(name);
    for (const [name, value] of query) request.query.append(name, value);
    if (copyUnmatched) {
      for (const [name, value] of incoming) {
        if (!query.has(name)) request.query.append(name, value);
      }
    }
    request.operationPath = path;
  },
});
