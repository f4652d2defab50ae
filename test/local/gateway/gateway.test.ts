import fs from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { PolicyLoadError } from '../../../scripts/local/gateway/errors';
import {
  gatewayCurl,
  managedIdentityCredentialFromEnv,
  startGateway,
  type GatewayOptions,
  type RunningGateway,
} from '../../../scripts/local/gateway/server';
import { LOCAL_API_CLIENT_ID } from '../../../scripts/local/shared/environment';
import { PortInUseError } from '../../../scripts/local/shared/ports';
import {
  APIM_DIR,
  FAKE_TOKEN,
  RecordingCredential,
  copyApim,
  removeDir,
  request,
  startEchoBackend,
  type EchoBackend,
} from './support';

const KEY = 'test-subscription-key-0123456789';
const MISSING =
  'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.';
const INVALID =
  'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.';
const ON_ERROR_BODY = {
  type: 'about:blank',
  title: 'The request could not be completed.',
  code: 'gateway_error',
};
const CLIENT_SECRETS = ['client-sent-token', 'forged-principal', 'hop-secret'];

let echo: EchoBackend;
const logs: string[] = [];
const credential = new RecordingCredential();
const started: RunningGateway[] = [];
const tempDirs: string[] = [];

async function gateway(overrides: Partial<GatewayOptions> = {}): Promise<RunningGateway> {
  const running = await startGateway({
    port: 0,
    apimDir: APIM_DIR,
    functionsBaseUrl: echo.url,
    subscriptionKey: KEY,
    credential,
    log: (line) => logs.push(line),
    ...overrides,
  });
  started.push(running);
  return running;
}

function apimCopy(edit: (file: string, text: string) => string): string {
  const dir = copyApim(edit);
  tempDirs.push(dir);
  return dir;
}

/** apim/ with extra operations in the OpenAPI document. */
function withOperations(paths: Record<string, unknown>): string {
  return apimCopy((file, text) => {
    if (file !== 'openapi.yaml') return text;
    const document = parse(text) as { paths: Record<string, unknown> };
    Object.assign(document.paths, paths);
    return stringify(document);
  });
}

let main: RunningGateway;

beforeAll(async () => {
  echo = await startEchoBackend();
  main = await gateway();
});

afterAll(async () => {
  await Promise.all(started.map((g) => g.close()));
  await echo.close();
  tempDirs.forEach(removeDir);
});

function backendSawNoKey(): void {
  expect(JSON.stringify(echo.requests)).not.toContain(KEY);
}

describe('routing: only the operations apim/openapi.yaml declares, under /api', () => {
  it.each([
    ['GET', '/'],
    ['GET', '/hello'],
    ['GET', '/api'],
    ['GET', '/api/'],
    ['GET', '/api/nope'],
    ['GET', '/api/hello/'],
    ['GET', '/api/Hello'],
    ['GET', '/other/hello'],
    ['POST', '/api/hello'],
    ['DELETE', '/api/whoami'],
  ])('%s %s -> 404 like API Management, backend not called', async (method, route) => {
    const before = echo.requests.length;
    const reply = await request(`${main.url}${route}`, {
      method,
      headers: { 'Ocp-Apim-Subscription-Key': KEY },
    });
    expect(reply.status).toBe(404);
    expect(reply.json()).toEqual({ statusCode: 404, message: 'Resource not found' });
    expect(echo.requests.length).toBe(before);
  });
});

describe("API Management's status endpoint", () => {
  it('answers 200 with no body and no key, backend not called; other methods 404', async () => {
    const before = echo.requests.length;
    const reply = await request(`${main.url}/status-0123456789abcdef`);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('');
    const post = await request(`${main.url}/status-0123456789abcdef`, { method: 'POST' });
    expect(post.status).toBe(404);
    expect(echo.requests.length).toBe(before);
  });
});

describe('a request target that is no URL', () => {
  it('-> 400, not 500, backend not called', async () => {
    const before = echo.requests.length;
    const logged = logs.length;
    const { port } = new URL(main.url);
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = http.request({
        host: '127.0.0.1',
        port,
        path: 'http://[zz/api/hello',
        headers: { 'Ocp-Apim-Subscription-Key': KEY },
      });
      outgoing.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      outgoing.on('error', reject);
      outgoing.end();
    });
    expect(status).toBe(400);
    expect(echo.requests.length).toBe(before);
    expect(logs.slice(logged).filter((line) => line.startsWith('error:'))).toEqual([]);
  });
});

describe('subscription key', () => {
  it.each([
    ['no key', {}, '/api/hello', MISSING],
    ['a wrong key in the header', { 'Ocp-Apim-Subscription-Key': 'wrong' }, '/api/hello', INVALID],
    ['an empty key', { 'Ocp-Apim-Subscription-Key': '' }, '/api/whoami', INVALID],
    [
      'a key that is a prefix of the right one',
      { 'Ocp-Apim-Subscription-Key': KEY.slice(0, -1) },
      '/api/hello',
      INVALID,
    ],
    ['the key twice', { 'Ocp-Apim-Subscription-Key': [KEY, KEY] }, '/api/hello', INVALID],
    ['a wrong key in the query', {}, '/api/hello?subscription-key=wrong', INVALID],
    ['the key under another name', { 'X-Subscription-Key': KEY }, `/api/hello?key=${KEY}`, MISSING],
  ])('%s -> 401, backend and identity not called', async (_what, headers, route, message) => {
    const before = echo.requests.length;
    const scopes = credential.scopes.length;
    const reply = await request(`${main.url}${route}`, { headers });
    expect(reply.status).toBe(401);
    expect(reply.json()).toEqual({ statusCode: 401, message });
    expect(echo.requests.length).toBe(before);
    expect(credential.scopes.length).toBe(scopes);
  });
});

describe('a request with the key', () => {
  it('reaches the function-app backend with the managed identity token and nothing the client forged', async () => {
    const before = echo.requests.length;
    const reply = await request(`${main.url}/api/hello?name=Ada`, {
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
    expect(echo.requests.length).toBe(before + 1);
    const seen = echo.requests.at(-1)!;
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe('/api/hello?name=Ada');
    expect(seen.headers.authorization).toBe(`Bearer ${FAKE_TOKEN}`);
    expect(seen.headers['x-custom']).toBe('kept');
    for (const name of Object.keys(seen.headers)) {
      expect(name).not.toMatch(/^(ocp-apim-subscription-key|x-ms-client-principal.*|x-hop)$/);
    }
    for (const secret of CLIENT_SECRETS) expect(JSON.stringify(seen)).not.toContain(secret);
    expect(credential.scopes.at(-1)).toBe(`${LOCAL_API_CLIENT_ID}/.default`);
    backendSawNoKey();
  });

  it('drops the headers the client names in Connection on receipt, never the token the policies set', async () => {
    const reply = await request(`${main.url}/api/whoami`, {
      headers: {
        'Ocp-Apim-Subscription-Key': KEY,
        Authorization: 'Bearer client-sent-token',
        Connection: 'keep-alive, Authorization',
      },
    });
    expect(reply.status).toBe(200);
    const seen = echo.requests.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${FAKE_TOKEN}`);
    expect(JSON.stringify(seen)).not.toContain('client-sent-token');
  });

  it('accepts the key in the query and removes it before forwarding', async () => {
    const reply = await request(`${main.url}/api/hello?subscription-key=${KEY}&name=Bo`);
    expect(reply.status).toBe(200);
    expect(echo.requests.at(-1)!.url).toBe('/api/hello?name=Bo');
    backendSawNoKey();
  });

  it('removes the headers that describe the backend from the response', async () => {
    const reply = await request(`${main.url}/api/whoami`, {
      headers: { 'Ocp-Apim-Subscription-Key': KEY },
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['x-powered-by']).toBeUndefined();
    expect(reply.headers['x-aspnet-version']).toBeUndefined();
    expect(reply.headers['request-context']).toBeUndefined();
    expect(reply.headers['x-backend-kept']).toBe('yes');
    expect(reply.json()).toMatchObject({ method: 'GET', url: '/api/whoami' });
  });
});

describe('failures answer with the on-error body and leak nothing', () => {
  it('no managed identity token -> 500, backend not called', async () => {
    const before = echo.requests.length;
    credential.fail = new Error(
      'AADSTS500011: The resource principal named 3f9c2e71 was not found in the tenant. Trace ID: abc',
    );
    try {
      const reply = await request(`${main.url}/api/whoami`, {
        headers: { 'Ocp-Apim-Subscription-Key': KEY },
      });
      expect(reply.status).toBe(500);
      expect(reply.headers['content-type']).toBe('application/problem+json');
      expect(reply.json()).toEqual(ON_ERROR_BODY);
      expect(echo.requests.length).toBe(before);
    } finally {
      credential.fail = undefined;
    }
    expect(logs.some((line) => line.includes('AADSTS500011'))).toBe(true);
  });

  it('backend down -> 500', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await gateway({ functionsBaseUrl: `http://127.0.0.1:${port}` });
    const reply = await request(`${down.url}/api/hello`, {
      headers: { 'Ocp-Apim-Subscription-Key': KEY },
    });
    expect(reply.status).toBe(500);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.json()).toEqual(ON_ERROR_BODY);
    expect(reply.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|\d{4,5}/);
  });

  it('backend too slow -> 504 within the timeout', async () => {
    const slow = await gateway({
      apimDir: withOperations({
        '/slow': { get: { operationId: 'slow', responses: { '200': { description: 'x' } } } },
      }),
      backendTimeoutMs: 300,
    });
    const startedAt = Date.now();
    const reply = await request(`${slow.url}/api/slow`, {
      headers: { 'Ocp-Apim-Subscription-Key': KEY },
    });
    expect(reply.status).toBe(504);
    expect(reply.json()).toEqual(ON_ERROR_BODY);
    expect(Date.now() - startedAt).toBeLessThan(10_000); // bounded, not a speed test
  });

  it('rate limit exceeded -> 429 with Retry-After, backend not called', async () => {
    const limited = await gateway({
      apimDir: apimCopy((file, text) =>
        file === 'policies/product.xml' ? text.replace(/calls="\d+"/, 'calls="2"') : text,
      ),
    });
    const call = () =>
      request(`${limited.url}/api/hello`, { headers: { 'Ocp-Apim-Subscription-Key': KEY } });
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(200);
    const before = echo.requests.length;
    const reply = await call();
    expect(reply.status).toBe(429);
    expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
    expect(reply.json()).toEqual(ON_ERROR_BODY);
    expect(echo.requests.length).toBe(before);
  });
});

describe('bodies', () => {
  let withPost: RunningGateway;
  beforeAll(async () => {
    withPost = await gateway({
      apimDir: withOperations({
        '/echo': { post: { operationId: 'echo', responses: { '200': { description: 'x' } } } },
      }),
    });
  });

  it('forwards the request body', async () => {
    const reply = await request(`${withPost.url}/api/echo`, {
      method: 'POST',
      headers: { 'Ocp-Apim-Subscription-Key': KEY, 'Content-Type': 'text/plain' },
      body: 'payload',
    });
    expect(reply.status).toBe(200);
    const seen = echo.requests.at(-1)!;
    expect(seen.body).toBe('payload');
    expect(seen.headers['content-length']).toBe('7');
    expect(seen.headers['content-type']).toBe('text/plain');
  });

  it('refuses a body over 1 MiB with 413, backend not called', async () => {
    const before = echo.requests.length;
    const reply = await request(`${withPost.url}/api/echo`, {
      method: 'POST',
      headers: { 'Ocp-Apim-Subscription-Key': KEY },
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    expect(reply.status).toBe(413);
    expect(echo.requests.length).toBe(before);
  });

  it('answers 413 from a declared Content-Length without waiting for the body, and closes', async () => {
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

describe('start-up', () => {
  it('refuses a policy it does not implement, naming the element and its line', async () => {
    const dir = apimCopy((file, text) =>
      file === 'policies/api.xml'
        ? text.replace('<outbound>\n    <base />', '<outbound>\n    <base />\n    <cors />')
        : text,
    );
    const line =
      1 + fs.readFileSync(`${dir}/policies/api.xml`, 'utf8').split('\n').indexOf('    <cors />');
    const attempt = gateway({ apimDir: dir });
    await expect(attempt).rejects.toThrow(PolicyLoadError);
    await expect(attempt).rejects.toThrow(
      new RegExp(`policies/api\\.xml:${line}: <cors> is not implemented`),
    );
  });

  it('refuses a named value it does not have', async () => {
    await expect(gateway({ namedValues: {} })).rejects.toThrow(
      /\{\{api-app-client-id\}\}, which is not defined/,
    );
  });

  it('names the port variable when the port is taken', async () => {
    const attempt = gateway({ port: main.port, portVariable: 'GATEWAY_PORT' });
    await expect(attempt).rejects.toThrow(PortInUseError);
    await expect(attempt).rejects.toThrow(/GATEWAY_PORT/);
  });

  it.each([
    [{ subscriptionKey: ' ' }, /subscriptionKey/],
    [{ functionsBaseUrl: 'http://127.0.0.1:7071/api' }, /functionsBaseUrl/],
    [{ functionsBaseUrl: 'https://example.net' }, /functionsBaseUrl/],
    [{ backendTimeoutMs: 0 }, /backendTimeoutMs/],
  ])('refuses bad options %j', async (overrides, message) => {
    await expect(gateway(overrides)).rejects.toThrow(message);
  });

  it('needs IDENTITY_ENDPOINT and IDENTITY_HEADER for the managed identity, naming the missing one', () => {
    expect(() => managedIdentityCredentialFromEnv({})).toThrow(/^IDENTITY_ENDPOINT is not set/);
    expect(() =>
      managedIdentityCredentialFromEnv({ IDENTITY_ENDPOINT: 'http://127.0.0.1:1/msi/apim/token' }),
    ).toThrow(/^IDENTITY_HEADER is not set/);
  });

  it('warns when the policies would let the subscription key through, and strips it anyway', async () => {
    const leaky = await gateway({
      apimDir: apimCopy((file, text) =>
        file === 'policies/api.xml'
          ? text
              .replace(/\s*<set-header name="Ocp-Apim-Subscription-Key"[^>]*\/>/, '')
              .replace(/\s*<set-query-parameter name="subscription-key"[^>]*\/>/, '')
          : text,
      ),
    });
    expect(leaky.warnings.join('\n')).toMatch(/Ocp-Apim-Subscription-Key header/);
    expect(leaky.warnings.join('\n')).toMatch(/subscription-key query parameter/);
    const reply = await request(`${leaky.url}/api/hello?subscription-key=${KEY}`, {
      headers: { 'Ocp-Apim-Subscription-Key': KEY },
    });
    expect(reply.status).toBe(200);
    backendSawNoKey();
  });

  it('prints a curl that quotes the key for the shell, or names its variable', () => {
    expect(
      gatewayCurl('http://127.0.0.1:7073', { variable: 'LOCAL_SUBSCRIPTION_KEY' }, 'hello'),
    ).toBe(
      'curl -i -H "Ocp-Apim-Subscription-Key: $LOCAL_SUBSCRIPTION_KEY" http://127.0.0.1:7073/api/hello',
    );
    expect(gatewayCurl('http://127.0.0.1:7073', "it's")).toBe(
      `curl -i -H 'Ocp-Apim-Subscription-Key: it'\\''s' http://127.0.0.1:7073/api/whoami`,
    );
  });
});

describe('logs', () => {
  it('one line per request (method, path, status, duration), never a key, token or header value', () => {
    const requestLines = logs.filter((line) => /^[A-Z]+ \//.test(line));
    expect(requestLines.length).toBeGreaterThan(20);
    for (const line of requestLines) expect(line).toMatch(/^[A-Z]+ \/\S* \d{3} \d+ms$/);
    const all = logs.join('\n');
    for (const secret of [KEY, FAKE_TOKEN, ...CLIENT_SECRETS]) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/subscription-key=/);
  });
});
