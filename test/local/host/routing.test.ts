import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionHost, startFunctionHost } from '../../../scripts/local/host/server';
import { Fixture, createFixture } from './support';

let fixture: Fixture;
let host: FunctionHost;
const lines: string[] = [];

beforeAll(async () => {
  fixture = createFixture();
  host = await startFunctionHost({
    projectRoot: fixture.root,
    port: 0,
    log: (line) => lines.push(line),
  });
});
afterAll(async () => {
  await host.close();
  fixture.remove();
});

async function call(path: string, init?: RequestInit) {
  const response = await fetch(`${host.url}${path}`, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('routing', () => {
  it('serves every registration under /api/<route>, listed with its URL', () => {
    expect(host.routes.map((route) => route.name).sort()).toEqual(
      [
        'bad-status',
        'echo',
        'env',
        'item',
        'nothing',
        'rejects',
        'response',
        'special',
        'submit',
        'text-result',
        'throws',
      ].sort(),
    );
    expect(host.routes.find((route) => route.name === 'submit')).toMatchObject({
      methods: ['POST'],
      url: `${host.url}/api/submit`,
    });
  });

  it.each([
    ['/api/echo/7', { id: '7' }],
    ['/api/echo/7/', { id: '7' }],
    ['/api/echo/7/more', { id: '7', rest: 'more' }],
    ['/API/Echo/7', { id: '7' }],
    ['/api/echo/a%20b/c%2Fd', { id: 'a b', rest: 'c/d' }],
  ])('%s -> params %j', async (path, params) => {
    const { status, text } = await call(path);
    expect(status).toBe(200);
    expect(JSON.parse(text).params).toEqual(params);
  });

  it('prefers a literal segment over a parameter, case-insensitively', async () => {
    expect((await call('/api/items/special')).text).toBe('special');
    expect((await call('/api/items/SPECIAL')).text).toBe('special');
    expect((await call('/api/items/42')).text).toBe('item 42');
  });

  it('answers GET / with 200, like the Functions host home page, so start-up can wait on it', async () => {
    const { status, text } = await call('/');
    expect(status).toBe(200);
    expect(text).toMatch(/running/);
    expect((await call('/', { method: 'POST' })).status).toBe(404);
  });

  it.each([
    ['/api'],
    ['/api/'],
    ['/api/unknown'],
    ['/api/echo'],
    ['/api/echo/1/2/3'],
    ['/hello'],
    ['/other/echo/1'],
  ])('%s -> 404 problem', async (path) => {
    const { status, headers, text } = await call(path);
    expect(status).toBe(404);
    expect(headers.get('content-type')).toBe('application/problem+json');
    expect(JSON.parse(text)).toMatchObject({ status: 404, title: 'Not Found' });
  });

  it('answers a method the route does not take with 405 and Allow', async () => {
    const post = await call('/api/items/1', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, DELETE');
    expect(post.headers.get('content-type')).toBe('application/problem+json');
    const get = await call('/api/submit');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await call('/api/items/1', { method: 'DELETE' })).status).toBe(200);
  });

  it('answers a malformed escape in the path with 400', async () => {
    const { status } = await call('/api/echo/%E0%A4%A');
    expect(status).toBe(400);
  });

  it('logs one line per request, without the query string', async () => {
    lines.length = 0;
    await call('/api/nothing?token=secret-value');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^GET \/api\/nothing 200 nothing [0-9a-f-]{36}$/);
  });
});

describe('route prefix', () => {
  it('follows host.json extensions.http.routePrefix', async () => {
    const custom = createFixture({
      hostJson: JSON.stringify({ version: '2.0', extensions: { http: { routePrefix: 'v1/x' } } }),
    });
    const prefixed = await startFunctionHost({
      projectRoot: custom.root,
      port: 0,
      log: () => undefined,
    });
    try {
      expect((await fetch(`${prefixed.url}/v1/x/items/special`)).status).toBe(200);
      expect((await fetch(`${prefixed.url}/api/items/special`)).status).toBe(404);
      expect(prefixed.routes.find((route) => route.name === 'special')!.url).toBe(
        `${prefixed.url}/v1/x/Items/Special`,
      );
    } finally {
      await prefixed.close();
      custom.remove();
    }
  });
});
