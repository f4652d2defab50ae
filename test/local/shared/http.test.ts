/** The HTTP helpers that the identity stand-in, the built-in host and the gateway share. */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeServer,
  printablePath,
  readCappedBody,
  refuseUnparsableRequests,
  secretsEqual,
  writeResponse,
} from '../../../scripts/local/shared/http';
import { listen } from '../../../scripts/local/shared/ports';

let server: http.Server | undefined;
afterEach(async () => {
  if (server) await closeServer(server);
  server = undefined;
});

/** A server that answers with the size of the body read under `limit`, or 413. */
async function bodyServer(limit: number): Promise<string> {
  server = http.createServer((req, res) => {
    void readCappedBody(req, limit).then((body) =>
      body
        ? writeResponse(res, 200, { 'content-length': '999' }, String(body.length))
        : writeResponse(res, 413, { Connection: 'close' }, 'too large'),
    );
  });
  refuseUnparsableRequests(server);
  const port = await listen(server, 0);
  return `http://127.0.0.1:${port}`;
}

function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(request));
    let reply = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (reply += chunk));
    socket.once('close', () => resolve(reply));
    socket.once('error', reject);
  });
}

describe('printablePath', () => {
  it('replaces control characters and caps the length', () => {
    expect(printablePath('/api/a\r\nb\u0000')).toBe('/api/a??b?');
    expect(printablePath('x'.repeat(250))).toBe(`${'x'.repeat(200)}...`);
    expect(printablePath('/abcdef', 3)).toBe('/ab...');
  });
});

describe('secretsEqual', () => {
  it('is true only for the same value', () => {
    expect(secretsEqual('key', 'key')).toBe(true);
    expect(secretsEqual('key', 'key ')).toBe(false);
    expect(secretsEqual('key', '')).toBe(false);
    expect(secretsEqual('key', undefined)).toBe(false);
  });
});

describe('readCappedBody and writeResponse', () => {
  it('reads a body up to the limit and sets Content-Length from the body, not from a header given', async () => {
    const url = await bodyServer(10);
    const response = await fetch(url, { method: 'POST', body: '0123456789' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('2');
    expect(await response.text()).toBe('10');
  });

  it('refuses a declared length over the limit without reading it', async () => {
    const url = await bodyServer(10);
    const response = await fetch(url, { method: 'POST', body: '01234567890' });
    expect(response.status).toBe(413);
    expect(response.headers.get('connection')).toBe('close');
    await response.arrayBuffer();
  });

  it('refuses a chunked body once it grows over the limit', async () => {
    const url = await bodyServer(10);
    const port = Number(new URL(url).port);
    const reply = await rawExchange(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n6\r\n678901\r\n0\r\n\r\n',
    );
    expect(reply).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('answers a request Node.js cannot parse with a bare 400 and closes', async () => {
    const url = await bodyServer(10);
    const reply = await rawExchange(
      Number(new URL(url).port),
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    expect(reply).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  it('leaves out the body of a HEAD response but keeps its length', async () => {
    server = http.createServer((req, res) =>
      writeResponse(res, 200, {}, 'hello', { head: req.method === 'HEAD' }),
    );
    const port = await listen(server, 0);
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD' });
    expect(response.headers.get('content-length')).toBe('5');
    expect(await response.text()).toBe('');
  });
});
