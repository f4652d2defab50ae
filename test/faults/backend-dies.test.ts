/**
 * The backend dies in the middle of requests the gateway is forwarding (it accepts them, then its
 * connections are cut, before or during the response): each client gets the generic 500 of
 * apim/policies/api.xml's on-error, the gateway stays up, and it forwards again as soon as the
 * backend is back.
 */
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunningGateway, startGateway } from '../../scripts/local/gateway/server';
import { RecordingCredential, ROOT } from '../local/gateway/support';
import { GENERIC_ERROR, SUBSCRIPTION_KEY, callThrough } from './identity-support';
import { tally } from './load';

type Mode = 'healthy' | 'cut before the response' | 'cut during the body';

let mode: Mode = 'healthy';
let received = 0;
let backend: http.Server;
let backendPort: number;
let gateway: RunningGateway;
const logs: string[] = [];

function startBackend(port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    received += 1;
    req.resume();
    if (mode === 'cut before the response') {
      setTimeout(() => req.socket.destroy(), 5);
    } else if (mode === 'cut during the body') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      res.write('{"partial":');
      setTimeout(() => req.socket.destroy(), 5);
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  backend = await startBackend(0);
  backendPort = (backend.address() as net.AddressInfo).port;
  gateway = await startGateway({
    port: 0,
    apimDir: path.join(ROOT, 'apim'),
    functionsBaseUrl: `http://127.0.0.1:${backendPort}`,
    subscriptionKey: SUBSCRIPTION_KEY,
    credential: new RecordingCredential(),
    log: (line) => logs.push(line),
  });
});
afterAll(async () => {
  await gateway?.close();
  backend?.closeAllConnections();
  await new Promise((resolve) => backend?.close(resolve));
});

// The product's rate limit allows 60 calls a minute: each case stays below it.
describe('the backend dies mid-request', () => {
  it.each(['cut before the response', 'cut during the body'] as const)(
    '%s: generic 500 for 12 concurrent clients, gateway up',
    async (cut) => {
      mode = cut;
      received = 0;
      logs.length = 0;
      const replies = await Promise.all(Array.from({ length: 12 }, () => callThrough(gateway)));
      expect(received).toBe(replies.length);
      for (const reply of replies) {
        expect(reply.status).toBe(500);
        expect(JSON.parse(reply.body)).toEqual(GENERIC_ERROR);
      }
      expect(
        logs.every((line) => / 500 forward-request BackendConnectionFailure \d+ms$/.test(line)),
      ).toBe(true);
      mode = 'healthy';
      expect((await callThrough(gateway)).status).toBe(200);
    },
  );

  it('is gone, then back on the same port: 500 meanwhile, 200 after, no restart', async () => {
    backend.closeAllConnections();
    await new Promise((resolve) => backend.close(resolve));
    const down = await Promise.all(Array.from({ length: 5 }, () => callThrough(gateway)));
    expect(tally(down.map((reply) => reply.status))).toEqual({ 500: 5 });
    backend = await startBackend(backendPort);
    expect((await callThrough(gateway)).status).toBe(200);
  });
});
