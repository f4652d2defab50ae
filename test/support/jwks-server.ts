import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type JwksBehaviour =
  | { kind: 'keys'; keys: readonly Record<string, unknown>[] }
  | { kind: 'status'; status: number }
  | { kind: 'body'; body: string }
  | { kind: 'hang' }
  | { kind: 'slow-body'; intervalMs: number }
  /** Anything else a test needs to answer (a redirect, a chunked body, headers without a body). */
  | { kind: 'handler'; handle: (res: http.ServerResponse) => void };

/** A loopback JWKS endpoint whose behaviour a test sets and whose requests it counts. */
export interface JwksServer {
  url: string;
  requests: number;
  /** The headers of the last request. */
  lastHeaders: http.IncomingHttpHeaders | undefined;
  behaviour: JwksBehaviour;
  close(): Promise<void>;
}

/** `port` 0 (the default) picks a free one; another reopens an address a closed server had. */
export async function startJwksServer(initial: JwksBehaviour, port = 0): Promise<JwksServer> {
  const sockets = new Set<import('node:net').Socket>();
  const state: JwksServer = {
    url: '',
    requests: 0,
    lastHeaders: undefined,
    behaviour: initial,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    state.requests += 1;
    state.lastHeaders = req.headers;
    const behaviour = state.behaviour;
    switch (behaviour.kind) {
      case 'keys':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: behaviour.keys }));
        return;
      case 'status':
        res.writeHead(behaviour.status, { 'content-type': 'text/plain' });
        res.end('failure');
        return;
      case 'body':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(behaviour.body);
        return;
      case 'hang':
        return;
      case 'slow-body': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"keys":[');
        const timer = setInterval(() => res.write(' '), behaviour.intervalMs);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case 'handler':
        behaviour.handle(res);
        return;
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
  return state;
}
