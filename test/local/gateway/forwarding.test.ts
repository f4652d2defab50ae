import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { LOCAL_API_CLIENT_ID } from '../../../scripts/local/shared/environment';
import { KEY, operation, useGatewayHarness } from './harness';
import { FAKE_TOKEN, request } from './support';

const h = useGatewayHarness();
const CLIENT_SECRETS = ['client-sent-token', 'forged-principal', 'hop-secret'];

function backendSawNoKey(): void {
  expect(JSON.stringify(h.echo.requests)).not.toContain(KEY);
}

describe('a request with the key', () => {
  it('reaches the function-app backend with the managed identity token and nothing the client forged', async () => {
    const before = h.echo.requests.length;
    const reply = await request(`${h.main.url}/api/hello?name=Ada`, {
      headers: {
        'Ocp-Apim-Subscription-Key': KEY,
        Authorization: 'Bearer client-sent-token',
        'X-MS-CLIENT-PRINCIPAL': 'forged-principal',
        'X-MS-CLIENT-PRINCIPAL-ID': 'forged-principal',
        'X-MS-CLIENT-PRINCIPAL-NAME': 'forged-principal',
        'X-MS-CLIENT-PRINCIPAL-IDP': 'forged-principal',
        Connection: 'keep-alive, X-Hop',
        'X-Hop': 'hop-secret',
        'X-Custom': 'kept',
      },
    });
    expect(reply.status).toBe(200);
    expect(h.echo.requests.length).toBe(before + 1);
    const seen = h.echo.requests.at(-1)!;
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe('/api/hello?name=Ada');
    expect(seen.headers.authorization).toBe(`Bearer ${FAKE_TOKEN}`);
    expect(seen.headers['x-custom']).toBe('kept');
    for (const name of Object.keys(seen.headers)) {
      expect(name).not.toMatch(/^(ocp-apim-subscription-key|x-ms-client-principal.*|x-hop)$/);
    }
    for (const secret of CLIENT_SECRETS) expect(JSON.stringify(seen)).not.toContain(secret);
    expect(h.credential.scopes.at(-1)).toBe(`${LOCAL_API_CLIENT_ID}/.default`);
    backendSawNoKey();
  });

  it('drops the headers the client names in Connection on receipt, never the token the policies set', async () => {
    const reply = await request(`${h.main.url}/api/whoami`, {
      headers: {
        'Ocp-Apim-Subscription-Key': KEY,
        Authorization: 'Bearer client-sent-token',
        Connection: 'keep-alive, Authorization',
      },
    });
    expect(reply.status).toBe(200);
    const seen = h.echo.requests.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${FAKE_TOKEN}`);
    expect(JSON.stringify(seen)).not.toContain('client-sent-token');
  });

  it('accepts the key in the query and removes it before forwarding', async () => {
    const reply = await request(`${h.main.url}/api/hello?subscription-key=${KEY}&name=Bo`);
    expect(reply.status).toBe(200);
    expect(h.echo.requests.at(-1)!.url).toBe('/api/hello?name=Bo');
    backendSawNoKey();
  });

  it('removes the headers that describe the backend from the response', async () => {
    const reply = await h.call('/api/whoami');
    expect(reply.status).toBe(200);
    expect(reply.headers['x-powered-by']).toBeUndefined();
    expect(reply.headers['x-aspnet-version']).toBeUndefined();
    expect(reply.headers['request-context']).toBeUndefined();
    expect(reply.headers['x-backend-kept']).toBe('yes');
    expect(reply.json()).toMatchObject({ method: 'GET', url: '/api/whoami' });
  });
});

describe('a scope that leaves a section out', () => {
  it('inherits the enclosing section: a product.xml without <backend> still forwards', async () => {
    const noBackend = await h.gateway({
      apimDir: h.apimCopy((file, text) => {
        if (file === 'policies/product.xml')
          return text.replace(/\s*<backend>[\s\S]*?<\/backend>/, '');
        // The API's backend defers to the enclosing scopes, so the global forward-request runs.
        if (file === 'policies/api.xml')
          return text.replace(/<forward-request[^>]*\/>/, '<base />');
        return text;
      }),
    });
    const before = h.echo.requests.length;
    const reply = await h.call('/api/hello?name=Inherit', noBackend);
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({ url: '/api/hello?name=Inherit' });
    expect(h.echo.requests.length).toBe(before + 1);
  });
});

describe('set-header with several values', () => {
  it('sends one comma-separated header, as API Management does; append joins with what was sent', async () => {
    const joined = await h.gateway({
      apimDir: h.apimCopy((file, text) =>
        file === 'policies/api.xml'
          ? text.replace(
              '<set-backend-service',
              [
                '<set-header name="X-Several" exists-action="override"><value>a</value><value>b</value><value>c</value></set-header>',
                '<set-header name="X-Appended" exists-action="append"><value>2</value></set-header>',
                '<set-header name="Warning" exists-action="override"><value>199 - "one"</value><value>199 - "two"</value></set-header>',
                '<set-backend-service',
              ].join('\n    '),
            )
          : text,
      ),
    });
    const reply = await request(`${joined.url}/api/hello`, {
      headers: { 'Ocp-Apim-Subscription-Key': KEY, 'X-Appended': '1' },
    });
    expect(reply.status).toBe(200);
    const raw = h.echo.requests.at(-1)!.rawHeaders;
    const lines = (name: string) =>
      raw.filter((_value, i) => i % 2 === 0 && raw[i]!.toLowerCase() === name).length;
    expect(h.echo.requests.at(-1)!.headers['x-several']).toBe('a,b,c');
    expect(lines('x-several')).toBe(1);
    expect(h.echo.requests.at(-1)!.headers['x-appended']).toBe('1,2');
    // Headers whose values may hold commas or dates go out one per value.
    expect(lines('warning')).toBe(2);
  });
});

describe('bodies', () => {
  const post = (url: string, body: string, headers: http.OutgoingHttpHeaders = {}) =>
    request(`${url}/api/echo`, {
      method: 'POST',
      headers: { 'Ocp-Apim-Subscription-Key': KEY, ...headers },
      body,
    });

  it('forwards the request body', async () => {
    const withPost = await h.gateway({
      apimDir: h.withOperations({ '/echo': operation('post', 'echo') }),
    });
    const reply = await post(withPost.url, 'payload', { 'Content-Type': 'text/plain' });
    expect(reply.status).toBe(200);
    const seen = h.echo.requests.at(-1)!;
    expect(seen.body).toBe('payload');
    expect(seen.headers['content-length']).toBe('7');
    expect(seen.headers['content-type']).toBe('text/plain');
  });

  it('refuses a body over 1 MiB with 413, backend not called', async () => {
    const withPost = await h.gateway({
      apimDir: h.withOperations({ '/echo': operation('post', 'echo') }),
    });
    const before = h.echo.requests.length;
    const reply = await post(withPost.url, 'x'.repeat(1024 * 1024 + 1));
    expect(reply.status).toBe(413);
    expect(h.echo.requests.length).toBe(before);
  });

  it('answers 413 from a declared Content-Length without waiting for the body, and closes', async () => {
    const withPost = await h.gateway({
      apimDir: h.withOperations({ '/echo': operation('post', 'echo') }),
    });
    const { port } = new URL(withPost.url);
    const reply = await new Promise<{ status: number; connection: string | undefined }>(
      (resolve, reject) => {
        const outgoing = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/echo',
          headers: {
            'Ocp-Apim-Subscription-Key': KEY,
            'Content-Length': String(100 * 1024 * 1024),
          },
        });
        outgoing.on('response', (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
          outgoing.destroy();
        });
        outgoing.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ECONNRESET') reject(error);
        });
        // Only a few bytes of the announced 100 MiB: the answer must not wait for the rest.
        outgoing.write('x'.repeat(10));
      },
    );
    expect(reply).toEqual({ status: 413, connection: 'close' });
  });
});
