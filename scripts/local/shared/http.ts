/**
 * What the three loopback servers (identity stand-in, built-in host, gateway) share about HTTP: a
 * capped body reader, a timing-safe secret comparison, a path fit for a log line, one way to write
 * a whole response, and the answers to requests Node.js cannot parse.
 */
import crypto from 'node:crypto';
import type http from 'node:http';

/** A request path for a log line or a message: control characters replaced, at most `max` characters. */
export function printablePath(value: string, max = 200): string {
  const clean = value.replace(/\p{Cc}/gu, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/**
 * Compares a secret with what a caller sent in constant time: both sides are hashed first, so
 * neither the content nor the length of the secret shows in the time taken.
 */
export function secretsEqual(expected: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  const a = crypto.createHash('sha256').update(expected).digest();
  const b = crypto.createHash('sha256').update(actual).digest();
  return crypto.timingSafeEqual(a, b);
}

/**
 * The request body, or undefined as soon as it is known to exceed `limit` bytes (from
 * Content-Length, or while streaming). The rest is not read: answer with `Connection: close`.
 */
export function readCappedBody(
  req: http.IncomingMessage,
  limit: number,
): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.pause();
      chunks.length = 0;
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** A `application/problem+json` response (RFC 9457) of the local servers themselves. */
export interface ProblemReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function problem(status: number, title: string, detail: string): ProblemReply {
  return {
    status,
    headers: { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' },
    body: JSON.stringify({ type: 'about:blank', title, status, detail }),
  };
}

/**
 * Writes a whole response: `Content-Length` from the body (any other spelling of it dropped), the
 * body left out for HEAD (RFC 9110 section 9.3.2).
 */
export function writeResponse(
  res: http.ServerResponse,
  status: number,
  headers: Readonly<Record<string, string | string[] | number>>,
  body: Buffer | string,
  options: { head?: boolean } = {},
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const out: Record<string, string | string[] | number> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'content-length') out[name] = value;
  }
  out['Content-Length'] = String(bytes.length);
  res.writeHead(status, out);
  res.end(options.head ? undefined : bytes);
}

/**
 * Requests that Node.js cannot parse (bad framing, oversized headers, smuggling attempts) get a bare
 * 400 and a closed connection; nothing reaches the handler.
 */
export function refuseUnparsableRequests(server: http.Server): void {
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
}

/** Stops listening and ends every open connection (keep-alive ones included). */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
