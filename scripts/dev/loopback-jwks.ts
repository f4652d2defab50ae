/**
 * For the benchmarks (bench.ts, first-response.ts): a new RSA-2048 signing key and a loopback
 * HTTP server that publishes its public half as a JWKS, at any path.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackJwks {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The published JWK (`kid`, `use: sig`). */
  readonly jwk: Record<string, unknown>;
  /** `http://127.0.0.1:<port>`, without a path. */
  readonly base: string;
  readonly close: () => void;
}

export async function startLoopbackJwks(kid: string): Promise<LoopbackJwks> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { privateKey, publicKey, jwk, base, close: () => server.close() };
}
