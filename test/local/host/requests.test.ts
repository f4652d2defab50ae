import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FunctionHost,
  MAX_REQUEST_BODY_BYTES,
  startFunctionHost,
} from '../../../scripts/local/host/server';
import { Fixture, createFixture } from './support';

interface Echo {
  method: string;
  url: string;
  params: Record<string, string>;
  query: Record<string, string>;
  bodyBase64: string;
  invocationId: string;
  functionName: string;
}

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

/** A raw request, so the test controls Content-Length and chunking. */
function raw(
  path: string,
  options: { method?: string; headers?: Record<string, string | number>; chunks?: Buffer[] },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${host.url}${path}`,
      { method: options.method ?? 'POST', headers: options.headers },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode!, headers: response.headers, body }),
        );
      },
    );
    request.on('error', reject);
    for (const chunk of options.chunks ?? []) request.write(chunk);
    request.end();
  });
}

describe('the HttpRequest a handler gets', () => {
  it('has the method, absolute URL, headers, query, params and body', async () => {
    const response = await fetch(`${host.url}/api/echo/abc?x=1&y=two&x=3`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-custom': 'value' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Echo;
    expect(body).toMatchObject({
      method: 'POST',
      url: `${host.url}/api/echo/abc?x=1&y=two&x=3`,
      params: { id: 'abc' },
      // Repeated query keys are joined with commas, as the Functions host does.
      query: { x: '1,3', y: 'two' },
      contentType: 'application/json',
      custom: 'value',
      functionName: 'echo',
    });
    expect(Buffer.from(body.bodyBase64, 'base64').toString()).toBe('{"hello":"world"}');
    expect(body.invocationId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('keeps a binary body byte for byte', async () => {
    const bytes = Buffer.from([0, 255, 128, 10, 13, 0xc3, 0x28]);
    const response = await fetch(`${host.url}/api/echo/bin`, { method: 'PUT', body: bytes });
    const body = (await response.json()) as Echo;
    expect(Buffer.from(body.bodyBase64, 'base64').equals(bytes)).toBe(true);
  });

  it('gives each invocation its own id, and prints context logs with level, function and id', async () => {
    lines.length = 0;
    const first = (await (await fetch(`${host.url}/api/echo/1`)).json()) as Echo;
    const second = (await (await fetch(`${host.url}/api/echo/2`)).json()) as Echo;
    expect(first.invocationId).not.toBe(second.invocationId);
    expect(lines).toContain(`[information] echo ${first.invocationId} echo called with 1`);
    expect(lines).toContain(`[warning] echo ${first.invocationId} a warning`);
  });
});

describe('the response a client gets', () => {
  it('converts an HttpResponse: status, headers, body and cookies', async () => {
    const response = await fetch(`${host.url}/api/response`);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-answer')).toBe('42');
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/; HttpOnly; SameSite=Strict']);
    expect(await response.text()).toBe('created');
  });

  it('converts an HttpResponseInit with jsonBody (application/json) and with a status only', async () => {
    const json = await fetch(`${host.url}/api/env/PATH`);
    expect(json.headers.get('content-type')).toBe('application/json');
    const accepted = await fetch(`${host.url}/api/submit`, { method: 'POST' });
    expect(accepted.status).toBe(202);
    expect(await accepted.text()).toBe('');
  });

  it('answers 200 with an empty body when a handler returns nothing (a choice of the built-in host)', async () => {
    const response = await fetch(`${host.url}/api/nothing`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });
});

describe('request body cap (1 MiB)', () => {
  it('accepts exactly 1 MiB', async () => {
    const response = await raw('/api/echo/big', {
      chunks: [Buffer.alloc(MAX_REQUEST_BODY_BYTES, 97)],
    });
    expect(response.status).toBe(200);
  });

  it('refuses a declared Content-Length above 1 MiB with 413 before reading it', async () => {
    lines.length = 0;
    const response = await raw('/api/echo/big', {
      headers: { 'content-length': MAX_REQUEST_BODY_BYTES + 1 },
      chunks: [Buffer.alloc(MAX_REQUEST_BODY_BYTES + 1, 97)],
    });
    expect(response.status).toBe(413);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(response.body)).toMatchObject({ status: 413 });
    expect(lines.some((line) => line.includes('echo called'))).toBe(false);
  });

  it('refuses a chunked body that grows above 1 MiB with 413, and keeps serving', async () => {
    const chunk = Buffer.alloc(64 * 1024, 98);
    const chunks = Array.from({ length: 17 }, () => chunk); // 1 MiB + 64 KiB
    const response = await raw('/api/echo/big', {
      headers: { 'transfer-encoding': 'chunked' },
      chunks,
    });
    expect(response.status).toBe(413);
    expect((await fetch(`${host.url}/api/items/1`)).status).toBe(200);
  });
});

describe('a failing handler', () => {
  it.each([
    ['throws', 'Error: boom'],
    ['rejects', 'TypeError: async boom'],
    ['bad-status', 'RangeError'],
    ['text-result', 'The HTTP response must be an object'],
  ])(
    '%s -> 500 generic problem, error logged without request headers, host alive',
    async (route, logged) => {
      lines.length = 0;
      const response = await fetch(`${host.url}/api/${route}`, {
        headers: { authorization: 'Bearer secret-token-value' },
      });
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ status: 500, title: 'Internal Server Error' });
      expect(text).not.toContain('boom');
      const log = lines.join('\n');
      expect(log).toContain(`[error] ${route} `);
      expect(log).toContain(logged);
      expect(log).not.toContain('secret-token-value');
      expect((await fetch(`${host.url}/api/items/1`)).status).toBe(200);
    },
  );
});
