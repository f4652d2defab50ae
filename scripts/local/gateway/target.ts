/**
 * The request target of an incoming request (RFC 9112 section 3.2): origin-form
 * (`/api/hello?x=1`), or absolute-form naming this gateway itself. An absolute-form target that
 * names another host is refused, so the gateway is never an open proxy; so are the asterisk
 * and authority forms. The path is kept as sent (no dot-segment resolution: see pathSegments).
 */

export type RequestTarget =
  | { readonly ok: true; readonly path: string; readonly query: URLSearchParams }
  | { readonly ok: false; readonly reason: 'malformed' | 'other-host' };

const ABSOLUTE_FORM = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is;

/** `ownAuthorities`: the `host:port` spellings that name this gateway, lower case. */
export function parseRequestTarget(raw: string, ownAuthorities: readonly string[]): RequestTarget {
  let rest = raw;
  const absolute = ABSOLUTE_FORM.exec(raw);
  if (absolute) {
    const [, scheme, authority, tail] = absolute as unknown as [string, string, string, string];
    if (!/^https?$/i.test(scheme)) return { ok: false, reason: 'other-host' };
    if (!ownAuthorities.includes(authority.toLowerCase()))
      return { ok: false, reason: 'other-host' };
    rest = tail === '' || tail.startsWith('?') ? `/${tail}` : tail;
  }
  if (!rest.startsWith('/') || rest.includes('#')) return { ok: false, reason: 'malformed' };
  const queryAt = rest.indexOf('?');
  const path = queryAt === -1 ? rest : rest.slice(0, queryAt);
  if (/[^\x21-\x7e]/.test(path)) return { ok: false, reason: 'malformed' };
  return {
    ok: true,
    path,
    query: new URLSearchParams(queryAt === -1 ? '' : rest.slice(queryAt + 1)),
  };
}
