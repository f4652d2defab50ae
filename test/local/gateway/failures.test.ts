import http from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  ON_ERROR_BODY,
  PROBLEM_JSON,
  addOperations,
  operation,
  useGatewayHarness,
  withoutOnErrorBody,
} from './harness';

const h = useGatewayHarness();
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function closedPort(): Promise<number> {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return port;
}

/** apim/ with a /slow operation (the echo backend never answers it) and `timeout` seconds. */
function slowApim(timeout: number, edit = (_file: string, text: string) => text): string {
  return h.apimCopy((file, text) => {
    if (file === 'openapi.yaml') return addOperations(text, { '/slow': operation('get', 'slow') });
    if (file === 'policies/api.xml')
      return edit(file, text.replace(/timeout="\d+"/, `timeout="${timeout}"`));
    return edit(file, text);
  });
}

describe('failures answer with the on-error body and leak nothing', () => {
  it('no managed identity token -> 500, backend not called', async () => {
    const before = h.echo.requests.length;
    h.credential.fail = new Error(
      'AADSTS500011: The resource principal named 3f9c2e71 was not found in the tenant. Trace ID: abc',
    );
    try {
      const reply = await h.call('/api/whoami');
      expect(reply.status).toBe(500);
      expect(reply.headers['content-type']).toBe(PROBLEM_JSON);
      expect(reply.headers['cache-control']).toBe('no-store');
      expect(reply.json()).toEqual(ON_ERROR_BODY);
      expect(h.echo.requests.length).toBe(before);
    } finally {
      h.credential.fail = undefined;
    }
    expect(h.logs.some((line) => line.includes('AADSTS500011'))).toBe(true);
  });

  it('backend down -> 500', async () => {
    const down = await h.gateway({ functionsBaseUrl: `http://127.0.0.1:${await closedPort()}` });
    const reply = await h.call('/api/hello', down);
    expect(reply.status).toBe(500);
    expect(reply.headers['content-type']).toBe(PROBLEM_JSON);
    expect(reply.json()).toEqual(ON_ERROR_BODY);
    expect(reply.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|\d{4,5}/);
  });

  it("backend down, no on-error body -> API Management's generic 500 with an activityId", async () => {
    const down = await h.gateway({
      functionsBaseUrl: `http://127.0.0.1:${await closedPort()}`,
      apimDir: h.apimCopy(withoutOnErrorBody),
    });
    const reply = await h.call('/api/hello', down);
    expect(reply.status).toBe(500);
    expect(reply.headers['content-type']).toBe('application/json');
    const body = reply.json() as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['activityId', 'message', 'statusCode']);
    expect(body).toMatchObject({ statusCode: 500, message: 'Internal server error' });
    expect(body.activityId).toMatch(GUID);
  });

  it("backend slower than the policy's forward-request timeout -> 500 (not 504), on-error body", async () => {
    const slow = await h.gateway({ apimDir: slowApim(1) });
    const reply = await h.call('/api/slow', slow);
    expect(reply.status).toBe(500);
    expect(reply.json()).toEqual(ON_ERROR_BODY);
  });

  it("backend timeout without an on-error body -> API Management's generic 500 body", async () => {
    const slow = await h.gateway({ apimDir: slowApim(1, withoutOnErrorBody) });
    const reply = await h.call('/api/slow', slow);
    expect(reply.status).toBe(500);
    const body = reply.json() as Record<string, unknown>;
    expect(body).toMatchObject({ statusCode: 500, message: 'Internal server error' });
    expect(body.activityId).toMatch(GUID);
  });

  it('the policy timeout wins over the gateway default, which applies when a policy sets none', async () => {
    const fromPolicy = await h.gateway({ apimDir: slowApim(1), backendTimeoutMs: 600_000 });
    expect((await h.call('/api/slow', fromPolicy)).status).toBe(500);
    const noTimeout = await h.gateway({
      apimDir: slowApim(1, (file, text) =>
        file === 'policies/api.xml' ? text.replace(/ timeout="\d+"/, '') : text,
      ),
      backendTimeoutMs: 200,
    });
    expect((await h.call('/api/slow', noTimeout)).status).toBe(500);
  });
});

describe('rate-limit and quota through the gateway', () => {
  const limitedApim = (calls: string) =>
    h.apimCopy((file, text) =>
      file === 'policies/product.xml' ? text.replace(/calls="100"/, `calls="${calls}"`) : text,
    );

  it('over the rate limit -> 429 with Retry-After, on-error body, backend not called', async () => {
    const limited = await h.gateway({ apimDir: limitedApim('2') });
    expect((await h.call('/api/hello', limited)).status).toBe(200);
    expect((await h.call('/api/hello', limited)).status).toBe(200);
    const before = h.echo.requests.length;
    const reply = await h.call('/api/hello', limited);
    expect(reply.status).toBe(429);
    expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(reply.headers['retry-after'])).toBeLessThanOrEqual(10);
    expect(reply.json()).toEqual(ON_ERROR_BODY);
    expect(h.echo.requests.length).toBe(before);
  });

  it("over the rate limit without an on-error body -> API Management's 429 body", async () => {
    const limited = await h.gateway({
      apimDir: h.apimCopy((file, text) =>
        withoutOnErrorBody(
          file,
          file === 'policies/product.xml' ? text.replace(/calls="100"/, 'calls="1"') : text,
        ),
      ),
    });
    await h.call('/api/hello', limited);
    const reply = await h.call('/api/hello', limited);
    const retryAfter = Number(reply.headers['retry-after']);
    expect(reply.status).toBe(429);
    expect(reply.json()).toEqual({
      statusCode: 429,
      message: `Rate limit is exceeded. Try again in ${retryAfter} seconds.`,
    });
  });

  it('over the quota -> 403 with Retry-After, through on-error', async () => {
    const quota = await h.gateway({
      apimDir: h.apimCopy((file, text) =>
        file === 'policies/product.xml' ? text.replace(/calls="1000000"/, 'calls="1"') : text,
      ),
    });
    expect((await h.call('/api/hello', quota)).status).toBe(200);
    const reply = await h.call('/api/hello', quota);
    expect(reply.status).toBe(403);
    expect(Number(reply.headers['retry-after'])).toBeGreaterThan(2_500_000);
    expect(reply.json()).toEqual(ON_ERROR_BODY);
  });
});
