import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { KEY, ON_ERROR_BODY, PROBLEM_JSON, useGatewayHarness } from './harness';
import { request } from './support';

const h = useGatewayHarness();

/** Sends `target` as the request target as is (node:http does not rewrite it). */
function rawTarget(
  url: string,
  target: string,
  method = 'GET',
): Promise<{ status: number; body: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const outgoing = http.request({
      host: '127.0.0.1',
      port,
      method,
      path: target,
      headers: { 'Ocp-Apim-Subscription-Key': KEY },
    });
    outgoing.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('routing: only the operations apim/openapi.yaml declares, under /api', () => {
  it.each([
    ['GET', '/api/'],
    ['GET', '/api/nope'],
    ['GET', '/api/hello/'],
    ['GET', '/api/Hello'],
    ['POST', '/api/hello'],
    ['DELETE', '/api/whoami'],
  ])(
    '%s %s -> 404 OperationNotFound through the API on-error, backend not called',
    async (method, route) => {
      const before = h.echo.requests.length;
      const reply = await request(`${h.main.url}${route}`, {
        method,
        headers: { 'Ocp-Apim-Subscription-Key': KEY },
      });
      expect(reply.status).toBe(404);
      expect(reply.headers['content-type']).toBe(PROBLEM_JSON);
      expect(reply.headers['cache-control']).toBe('no-store');
      expect(reply.json()).toEqual(ON_ERROR_BODY);
      expect(h.echo.requests.length).toBe(before);
    },
  );

  it.each([
    ['GET', '/'],
    ['GET', '/hello'],
    ['GET', '/api'],
    ['GET', '/other/hello'],
  ])(
    "%s %s -> 404 outside the API: only the global on-error applies (API Management's body)",
    async (method, route) => {
      const reply = await request(`${h.main.url}${route}`, { method });
      expect(reply.status).toBe(404);
      expect(reply.headers['content-type']).toBe('application/json');
      expect(reply.json()).toEqual({ statusCode: 404, message: 'Resource not found' });
    },
  );
});

describe("API Management's status endpoint", () => {
  it('answers 200 with no body and no key, backend not called; other methods 404', async () => {
    const before = h.echo.requests.length;
    const reply = await request(`${h.main.url}/status-0123456789abcdef`);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('');
    const post = await request(`${h.main.url}/status-0123456789abcdef`, { method: 'POST' });
    expect(post.status).toBe(404);
    expect(h.echo.requests.length).toBe(before);
  });
});

describe('request targets', () => {
  it.each([
    ['an absolute-form target that is no URL', 'http://[zz/api/hello'],
    ['an absolute-form target naming another host', 'http://example.net/api/hello'],
    ['an absolute-form target naming another port', 'http://127.0.0.1:1/api/hello'],
    ['another scheme', 'ftp://127.0.0.1/api/hello'],
    ['the asterisk form', '*'],
    ['a fragment', '/api/hello#x'],
  ])('%s -> 400, backend not called, nothing logged as an error', async (_what, target) => {
    const before = h.echo.requests.length;
    const logged = h.logs.length;
    const reply = await rawTarget(h.main.url, target);
    expect(reply.status).toBe(400);
    expect(h.echo.requests.length).toBe(before);
    expect(h.logs.slice(logged).filter((line) => line.startsWith('error:'))).toEqual([]);
  });

  it('an absolute-form target naming the gateway itself is served like origin-form', async () => {
    const reply = await rawTarget(h.main.url, `${h.main.url}/api/hello?name=Abs`);
    expect(reply.status).toBe(200);
    expect(h.echo.requests.at(-1)!.url).toBe('/api/hello?name=Abs');
  });

  it.each([
    '/api/hello/../whoami',
    '/api/hello/%2e%2e/whoami',
    '/api/hello/%2E%2e/whoami',
    '/api/./whoami',
    '/api/%2e/whoami',
    '/api/hello/.%2e/whoami',
  ])(
    '%s -> 404 like the function host, never another operation (no dot-segment resolution)',
    async (target) => {
      const before = h.echo.requests.length;
      const reply = await rawTarget(h.main.url, target);
      expect(reply.status).toBe(404);
      expect(h.echo.requests.length).toBe(before);
    },
  );

  it('matches operations on decoded segments, as the function host routes', async () => {
    const reply = await rawTarget(h.main.url, '/api/hell%6f?name=Enc');
    expect(reply.status).toBe(200);
    expect(h.echo.requests.at(-1)!.url).toBe('/api/hell%6f?name=Enc');
  });
});
