import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServiceEndpoint, scopeForEndpoint } from '../../../scripts/azd/shared/endpoint';
import { RestClient, retryAfterMs } from '../../../scripts/azd/shared/rest';

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

let server: http.Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A loopback server that answers with the given replies in order (the last one repeats). */
async function serve(replies: Reply[]) {
  const seen: { method: string; url: string }[] = [];
  server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    const reply = replies[Math.min(seen.length - 1, replies.length - 1)]!;
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.body ?? '');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function client(
  url: string,
  credential: TokenCredential,
  sleeps: number[] = [],
  now = () => Date.now(),
) {
  return new RestClient({
    endpoint: new URL(url),
    scope: 'https://graph.microsoft.com/.default',
    credential,
    serviceName: 'Test service',
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    now,
    maxRetryDelayMs: 30_000,
  });
}

function countingCredential(expiresInMs = 3600_000) {
  const calls: string[] = [];
  const credential: TokenCredential = {
    getToken(scope): Promise<AccessToken> {
      calls.push(String(scope));
      return Promise.resolve({
        token: `token-${calls.length}`,
        expiresOnTimestamp: Date.now() + expiresInMs,
      });
    },
  };
  return { credential, calls };
}

describe('RestClient', () => {
  it('caches the token across requests', async () => {
    const { url } = await serve([{ status: 200, body: '{}' }]);
    const { credential, calls } = countingCredential();
    const rest = client(url, credential);
    await rest.request({ method: 'GET', path: '/a', expect: [200] });
    await rest.request({ method: 'GET', path: '/b', expect: [200] });
    expect(calls).toHaveLength(1);
  });

  it('gets a new token when the cached one is about to expire', async () => {
    const { url } = await serve([{ status: 200, body: '{}' }]);
    const { credential, calls } = countingCredential(60_000);
    const rest = client(url, credential);
    await rest.request({ method: 'GET', path: '/a', expect: [200] });
    await rest.request({ method: 'GET', path: '/b', expect: [200] });
    expect(calls).toHaveLength(2);
  });

  it('caps a long Retry-After at the maximum wait', async () => {
    const { url, seen } = await serve([
      { status: 429, headers: { 'retry-after': '3600' } },
      { status: 200, body: '{}' },
    ]);
    const sleeps: number[] = [];
    await client(url, countingCredential().credential, sleeps).request({
      method: 'GET',
      path: '/a',
      expect: [200],
    });
    expect(sleeps).toEqual([30_000]);
    expect(seen).toHaveLength(2);
  });

  it('retries a POST on 429 but not on 500, where it may have been processed', async () => {
    const throttled = await serve([
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 201, body: '{}' },
    ]);
    const sleeps: number[] = [];
    await client(throttled.url, countingCredential().credential, sleeps).request({
      method: 'POST',
      path: '/a',
      expect: [201],
    });
    expect(throttled.seen).toHaveLength(2);
    server!.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));

    const failing = await serve([
      { status: 500, body: '{"error":{"code":"Boom","message":"boom"}}' },
    ]);
    const error = await client(failing.url, countingCredential().credential)
      .request({ method: 'POST', path: '/a', expect: [201] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'service_error', status: 500, serviceCode: 'Boom' });
    expect(failing.seen).toHaveLength(1);
  });

  it('retries a GET that could not connect, a bounded number of times', async () => {
    const sleeps: number[] = [];
    const error = await client('http://127.0.0.1:9', countingCredential().credential, sleeps)
      .request({ method: 'GET', path: '/a', expect: [200] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'network_error' });
    expect(sleeps).toEqual([1000, 2000, 4000, 8000]);
  });

  it('turns a credential failure into a message that says to sign in, without any token', async () => {
    const { url, seen } = await serve([{ status: 200, body: '{}' }]);
    const credential: TokenCredential = {
      getToken: () =>
        Promise.reject(new Error("Please run 'azd auth login' from a command prompt.")),
    };
    const error = await client(url, credential)
      .request({ method: 'GET', path: '/a', expect: [200] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'credential_unavailable' });
    expect((error as Error).message).toContain('azd auth login');
    expect(seen).toEqual([]);
  });

  it('reports malformed JSON as an invalid response', async () => {
    const { url } = await serve([{ status: 200, body: '{not json' }]);
    const error = await client(url, countingCredential().credential)
      .request({ method: 'GET', path: '/a', expect: [200] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_response' });
  });

  it('does not follow redirects (the token would go with them)', async () => {
    const { url, seen } = await serve([
      { status: 302, headers: { location: 'http://127.0.0.1:9/elsewhere' } },
    ]);
    const error = await client(url, countingCredential().credential)
      .request({ method: 'GET', path: '/a', expect: [200] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'service_error', status: 302 });
    expect(seen).toHaveLength(1);
  });
});

describe('retryAfterMs', () => {
  it.each([
    ['7', 7000],
    ['0', 0],
    [' 12 ', 12_000],
    [new Date(1_000_000 + 5000).toUTCString(), 5000],
    ['soon', undefined],
    ['', undefined],
  ])('%j -> %j', (header, expected) => {
    expect(retryAfterMs(header, 1_000_000)).toBe(expected);
  });
});

describe('parseServiceEndpoint', () => {
  it.each([
    'https://graph.microsoft.com',
    'https://graph.microsoft.us',
    'http://127.0.0.1:8080',
    'http://localhost:1',
    'http://[::1]:2',
  ])('accepts %s', (value) => {
    expect(parseServiceEndpoint('GRAPH_ENDPOINT', value).href).toContain(new URL(value).host);
  });

  it.each([
    'http://graph.microsoft.com',
    'http://127.0.0.1.example.com',
    'file:///etc/passwd',
    'https://graph.microsoft.com/?x=1',
    'https://a:b@graph.microsoft.com',
    '',
  ])('refuses %j, naming the setting', (value) => {
    expect(() => parseServiceEndpoint('GRAPH_ENDPOINT', value)).toThrow(/GRAPH_ENDPOINT/);
  });

  it('asks sovereign clouds for their own scope, and loopback stand-ins for the public one', () => {
    expect(
      scopeForEndpoint(
        new URL('https://graph.microsoft.us'),
        'https://graph.microsoft.com/.default',
      ),
    ).toBe('https://graph.microsoft.us/.default');
    expect(
      scopeForEndpoint(new URL('http://127.0.0.1:1'), 'https://graph.microsoft.com/.default'),
    ).toBe('https://graph.microsoft.com/.default');
  });
});
