import type { IncomingMessage } from 'node:http';

/**
 * GET a JWKS with a deadline that covers the whole exchange (connect, headers and body), a size
 * cap, and no redirects (a 3xx is a failure, like any other status but 200).
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
      request.destroy(new Error(`The JWKS endpoint did not answer within ${timeoutMs} ms.`));
    }, timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(deadline);
      request.destroy();
      reject(error);
    };
    request.on('error', fail);
    request.on('response', (response: IncomingMessage) => {
      response.on('error', fail);
      if (response.statusCode !== 200) {
        fail(new Error(`The JWKS endpoint answered HTTP ${response.statusCode ?? 0}.`));
        return;
      }
      if (Number(response.headers['content-length'] ?? '0') > maxBytes) {
        fail(new Error('The JWKS response is too large.'));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) fail(new Error('The JWKS response is too large.'));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        clearTimeout(deadline);
        resolve(Buffer.concat(chunks));
      });
    });
  });
  const parsed: unknown = JSON.parse(body.toString('utf8'));
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !Array.isArray((parsed as { keys?: unknown }).keys)
  ) {
    throw new Error('The JWKS response has no "keys" array.');
  }
  return parsed as { keys: unknown[] };
}
