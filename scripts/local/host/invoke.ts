import { HttpRequest, HttpResponse, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Cookie, HttpHandler } from '@azure/functions';
import type http from 'node:http';

/** A handler's answer, ready to write. */
export interface InvocationResult {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

function serializeCookie(cookie: Cookie): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain) parts.push(`Domain=${cookie.domain}`);
  if (cookie.path) parts.push(`Path=${cookie.path}`);
  if (cookie.expires !== undefined) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

function isHttpResponse(value: unknown): value is HttpResponse {
  const candidate = value as Partial<HttpResponse> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.headers instanceof Headers &&
    typeof candidate.status === 'number' &&
    typeof candidate.arrayBuffer === 'function'
  );
}

/**
 * The trigger's `HttpRequest` for a Node.js request, as the Functions host builds it. Throws when
 * the request cannot be represented (the caller answers 400).
 */
export function triggerRequest(
  req: http.IncomingMessage,
  params: Record<string, string>,
  body: Buffer,
  fallbackAuthority: string,
): HttpRequest {
  const raw = req.url ?? '/';
  const queryAt = raw.indexOf('?');
  // Every value of a repeated header, joined as the Functions host joins them: req.headers would
  // keep only the first of two Authorization headers, accepting what Azure refuses.
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values !== undefined) headers[name] = values.join(name === 'cookie' ? '; ' : ', ');
  }
  const query: Record<string, string> = {};
  const search = new URLSearchParams(queryAt === -1 ? '' : raw.slice(queryAt + 1));
  for (const name of new Set(search.keys())) query[name] = search.getAll(name).join(',');
  const host = req.headers.host;
  const authority =
    host && /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)
      ? host
      : fallbackAuthority;
  return new HttpRequest({
    method: (req.method ?? 'GET').toUpperCase(),
    url: `http://${authority}${raw}`,
    headers,
    query,
    params,
    body: body.length > 0 ? { bytes: body } : undefined,
  });
}

/**
 * Runs the handler and turns what it returns (`HttpResponseInit`, `HttpResponse` or nothing) into
 * a response. Throws what the handler throws, and a TypeError for a result the Functions host
 * refuses too.
 */
export async function invokeHandler(
  handler: HttpHandler,
  request: HttpRequest,
  context: InvocationContext,
): Promise<InvocationResult> {
  const result: unknown = await handler(request, context);
  if (result !== undefined && result !== null && typeof result !== 'object') {
    // What @azure/functions itself says of such a result under the Functions host.
    throw new TypeError(
      'The HTTP response must be an object with optional properties "body", "status", "headers", and "cookies".',
    );
  }
  const response = isHttpResponse(result)
    ? result
    : new HttpResponse(result as HttpResponseInit | undefined);
  const body = Buffer.from(await response.arrayBuffer());
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, header) => {
    if (header !== 'set-cookie' && header !== 'content-length' && header !== 'transfer-encoding')
      headers[header] = value;
  });
  const cookies = [...response.headers.getSetCookie(), ...response.cookies.map(serializeCookie)];
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  return { status: response.status, headers, body };
}
