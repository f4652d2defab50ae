import type { IncomingMessage } from 'node:http';

/**
 * Why the JWKS could not be used. Its message is written for the log (the refusal note of a 503,
 * functions/auth/refusal-note.ts): it names the cause, timeout, HTTP status, size or body, and
 * never holds the body itself.
 */
export class JwksFetchError extends Error {
  override readonly name = 'JwksFetchError';
}

/**
 * GET a JWKS with a deadline that covers the whole exchange (connect, headers and body), a size
 * cap, and no redirects (a 3xx is a failure, like any other status but 200). Every failure is a
 * `JwksFetchError` that says what went wrong.
 *
 * It uses node:http or node:https, taken with `process.getBuiltinModule` on the first fetch: the
 * app does not pay for TLS while it loads, only when it first needs the keys (which it asks for as
 * it starts, in the background). Node's global `fetch` would load a whole second HTTP stack on its
 * first call, and `import()` would start the ES module loader.
 */
export async function fetchJwks(
  uri: string,
  timeoutMs: number,
  maxBytes: number,
): Promise<{ keys: unknown[] }> {
  const url = new URL(uri);
  const client =
    url.protocol === 'https:'
      ? process.getBuiltinModule('node:https')
      : process.getBuiltinModule('node:http');
  const body = await new Promise<Buffer>((resolve, reject) => {
    const request = client.get(url, { headers: { accept: 'application/json' } });
    const deadline = setTimeout(() => {
      fail(new JwksFetchError(`the JWKS endpoint did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(deadline);
      request.destroy();
      reject(error);
    };
    request.on('error', (error) => {
      fail(new JwksFetchError(`the JWKS endpoint could not be reached (${describe(error)})`));
    });
    request.on('response', (response: IncomingMessage) => {
      response.on('error', (error) => {
        fail(new JwksFetchError(`the JWKS response was cut off (${describe(error)})`));
      });
      if (response.statusCode !== 200) {
        fail(new JwksFetchError(`the JWKS endpoint answered HTTP ${response.statusCode ?? 0}`));
        return;
      }
      const tooLarge = new JwksFetchError(`the JWKS response is larger than ${maxBytes} bytes`);
      // Without a Content-Length this is NaN, and no comparison with NaN holds.
      if (Number(response.headers['content-length']) > maxBytes) {
        fail(tooLarge);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) fail(tooLarge);
        else chunks.push(chunk);
      });
      response.on('end', () => {
        clearTimeout(deadline);
        resolve(Buffer.concat(chunks));
      });
    });
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new JwksFetchError('the JWKS response is not JSON');
  }
  if (!Array.isArray((parsed as { keys?: unknown } | null)?.keys)) {
    throw new JwksFetchError('the JWKS response has no "keys" array');
  }
  return parsed as { keys: unknown[] };
}

/** A socket error as its code (`ECONNREFUSED`, `ENOTFOUND`, `CERT_HAS_EXPIRED`...), else its message. */
function describe(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}
