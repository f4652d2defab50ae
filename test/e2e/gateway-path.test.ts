import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../scripts/local/gateway/server';
import { startIdentityServer, type IdentityServer } from '../../scripts/local/identity/server';
import {
  APIM_IDENTITY,
  APP_ROLE,
  LOCAL_TENANT_ID,
  localFunctionAppSettings,
} from '../../scripts/local/shared/environment';
import { APIM_DIR, ROOT, copyApim, removeDir, request } from '../local/gateway/support';

/**
 * The whole local secured path over real HTTP, as `npm start` runs it: the identity stand-in,
 * the built-in function host (`node dist/scripts/local/host/main.js`, a child process) and the gateway,
 * whose `authentication-managed-identity` gets its token with @azure/identity's
 * ManagedIdentityCredential. A counting proxy between the gateway and the function app records
 * every request the function app receives.
 */

const KEY = crypto.randomBytes(24).toString('base64url');
const IDENTITY_HEADER = crypto.randomBytes(24).toString('base64url');
const ON_ERROR_BODY = {
  type: 'about:blank',
  title: 'The request could not be completed.',
  code: 'gateway_error',
};

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** Forwards everything to `target` and records what passed. */
async function startCountingProxy(
  target: string,
): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const outgoing = http.request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (incoming) => {
        res.writeHead(incoming.statusCode ?? 502, incoming.headers);
        incoming.pipe(res);
      },
    );
    outgoing.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(outgoing);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `node dist/scripts/local/host/main.js` on an ephemeral port, trusting the identity stand-in. */
async function startHost(
  identityUrl: string,
): Promise<{ url: string; output: () => string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'dist', 'scripts', 'local', 'host', 'main.js')],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: '0', ...localFunctionAppSettings(identityUrl) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`The built-in host did not start:\n${output}`)),
      20_000,
    );
    const check = (): void => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\r?\n/.exec(output); // the whole line
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The built-in host exited (${String(code)}):\n${output}`));
    });
  });
  return { url, output: () => output, child };
}

let identity: IdentityServer;
let host: Awaited<ReturnType<typeof startHost>>;
let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
let gateway: RunningGateway;
const gatewayLogs: string[] = [];
const others: RunningGateway[] = [];
const tempDirs: string[] = [];

beforeAll(async () => {
  identity = await startIdentityServer({ identityHeader: IDENTITY_HEADER, log: () => undefined });
  // As on App Service: ManagedIdentityCredential reads these (one identity per process).
  process.env.IDENTITY_ENDPOINT = identity.urls.managedIdentityEndpoint('apim');
  process.env.IDENTITY_HEADER = IDENTITY_HEADER;
  host = await startHost(identity.url);
  proxy = await startCountingProxy(host.url);
  gateway = await startGateway({
    port: 0,
    apimDir: APIM_DIR,
    functionsBaseUrl: proxy.url,
    subscriptionKey: KEY,
    log: (line) => gatewayLogs.push(line),
  });
});

afterAll(async () => {
  await Promise.all([gateway, ...others].filter(Boolean).map((g) => g.close()));
  await proxy?.close();
  if (host?.child.exitCode === null) {
    const exited = new Promise((resolve) => host.child.once('exit', resolve));
    host.child.kill('SIGTERM');
    await exited;
  }
  await identity?.close();
  tempDirs.forEach(removeDir);
});

const withKey = { 'Ocp-Apim-Subscription-Key': KEY };

describe('through the gateway', () => {
  it('with the key: 200, and whoami shows API Management managed identity', async () => {
    const before = proxy.seen.length;
    const reply = await request(`${gateway.url}/api/whoami`, { headers: withKey });
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({
      objectId: APIM_IDENTITY.objectId,
      clientId: APIM_IDENTITY.clientId,
      tenantId: LOCAL_TENANT_ID,
      roles: [APP_ROLE],
    });
    expect(proxy.seen.length).toBe(before + 1);
    expect(proxy.seen.at(-1)!.headers.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('hello with the key in the query: 200', async () => {
    const reply = await request(`${gateway.url}/api/hello?name=Ada&subscription-key=${KEY}`);
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ message: 'Hello, Ada!' });
    expect(proxy.seen.at(-1)!.url).toBe('/api/hello?name=Ada');
  });

  it.each([
    ['no key', {}],
    ['a wrong key', { 'Ocp-Apim-Subscription-Key': `${KEY}x` }],
  ])(
    '%s: 401 from the gateway, through its on-error, the function never called',
    async (_what, headers) => {
      const before = proxy.seen.length;
      const reply = await request(`${gateway.url}/api/whoami`, { headers });
      expect(reply.status).toBe(401);
      expect(reply.json()).toEqual(ON_ERROR_BODY);
      expect(reply.headers['www-authenticate']).toMatch(/^AzureApiManagementKey /);
      expect(proxy.seen.length).toBe(before);
    },
  );

  it('an operation the API does not declare: 404 from the gateway, the function never called', async () => {
    const before = proxy.seen.length;
    const reply = await request(`${gateway.url}/api/admin`, { headers: withKey });
    expect(reply.status).toBe(404);
    expect(proxy.seen.length).toBe(before);
  });
});

describe('directly to the function app', () => {
  it('without a token: 401', async () => {
    const reply = await request(`${host.url}/api/whoami`);
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it("with the intruder's token (valid, same tenant, not allowed): 403", async () => {
    const reply = await request(`${host.url}/api/whoami`, {
      headers: { Authorization: `Bearer ${identity.mint('intruder')}` },
    });
    expect(reply.status).toBe(403);
  });

  it('with the subscription key but no token: 401 (the key is worth nothing without the gateway)', async () => {
    const reply = await request(`${host.url}/api/whoami`, { headers: withKey });
    expect(reply.status).toBe(401);
  });
});

describe('the policy is what grants access', () => {
  it('without authentication-managed-identity the function answers 401', async () => {
    const dir = copyApim((file, text) =>
      file === 'policies/api.xml'
        ? text.replace(/\s*<authentication-managed-identity[^>]*\/>/, '')
        : text,
    );
    tempDirs.push(dir);
    const bare = await startGateway({
      port: 0,
      apimDir: dir,
      functionsBaseUrl: proxy.url,
      subscriptionKey: KEY,
      log: () => undefined,
    });
    others.push(bare);
    expect(bare.warnings.join('\n')).toMatch(/no authentication-managed-identity/);
    const before = proxy.seen.length;
    const reply = await request(`${bare.url}/api/whoami`, {
      headers: { ...withKey, Authorization: 'Bearer forged' },
    });
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(proxy.seen.length).toBe(before + 1);
    expect(proxy.seen.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('with resource set to an object id, the identity refuses (AADSTS500011) and the gateway answers 500', async () => {
    const wrong = await startGateway({
      port: 0,
      apimDir: APIM_DIR,
      functionsBaseUrl: proxy.url,
      subscriptionKey: KEY,
      namedValues: { 'api-app-client-id': APIM_IDENTITY.objectId },
      log: (line) => gatewayLogs.push(line),
    });
    others.push(wrong);
    const before = proxy.seen.length;
    const reply = await request(`${wrong.url}/api/whoami`, { headers: withKey });
    expect(reply.status).toBe(500);
    expect(reply.json()).toEqual(ON_ERROR_BODY);
    expect(proxy.seen.length).toBe(before);
    expect(gatewayLogs.join('\n')).toContain('AADSTS500011');
  });
});

describe('secrets', () => {
  it('the subscription key never reaches the function app, and no log carries the key or a token', () => {
    expect(proxy.seen.length).toBeGreaterThan(0);
    for (const seen of proxy.seen) {
      expect(JSON.stringify(seen)).not.toContain(KEY);
      expect(Object.keys(seen.headers)).not.toContain('ocp-apim-subscription-key');
    }
    const tokens = proxy.seen
      .map((seen) => seen.headers.authorization)
      .filter((value): value is string => typeof value === 'string')
      .map((value) => value.replace(/^Bearer /, ''));
    expect(tokens.length).toBeGreaterThan(0);
    const logs = `${gatewayLogs.join('\n')}\n${host.output()}`;
    for (const secret of [KEY, IDENTITY_HEADER, ...tokens]) expect(logs).not.toContain(secret);
  });
});
