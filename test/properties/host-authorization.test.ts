/**
 * Properties of the Authorization header as it reaches the function app through the built-in host,
 * byte for byte over a socket (no HTTP client in between to tidy it): random bytes, control
 * characters, unicode, huge values and repeated headers get no 2xx and no 5xx, and the host stays
 * up. A valid token alone gets 200, so the property can fail.
 *
 * fast-check runs RUNS cases per property from a fixed seed (FC_SEED overrides it to explore).
 */
import fc from 'fast-check';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionHost, startFunctionHost } from '../../scripts/local/host/server';
import { ROOT } from '../support/node-process';
import { JwksServer, startJwksServer } from '../support/jwks-server';
import { createTestKey, sign, TestKey, v2AppSettings, v2Claims } from '../support/tokens';

const RUNS = 200;
const SEED = Number(process.env.FC_SEED ?? 20261201);
const settings = { seed: SEED, numRuns: RUNS };

let key: TestKey;
let jwks: JwksServer;
let host: FunctionHost;
let valid: string;

beforeAll(async () => {
  key = createTestKey();
  jwks = await startJwksServer({ kind: 'keys', keys: [key.jwk] });
  const now = Math.floor(Date.now() / 1000);
  valid = sign(v2Claims({ iat: now - 60, nbf: now - 60, exp: now + 3600 }), key);
  // The built app reads its settings from the environment of this process (one per test file).
  Object.assign(process.env, v2AppSettings(jwks.url));
  host = await startFunctionHost({ projectRoot: ROOT, log: () => undefined });
});
afterAll(async () => {
  await host?.close();
  await jwks?.close();
});

/** Sends the request bytes as they are and resolves to the status of the first response. */
function statusOf(request: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    // Written, not ended: a client that half-closes gets its pending request aborted by Node.js.
    const socket = net.connect(host.port, '127.0.0.1', () => socket.write(request));
    let reply = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (reply += chunk));
    socket.once('error', reject);
    socket.once('close', () => {
      const match = /^HTTP\/1\.1 (\d{3}) /.exec(reply);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`No status line in ${JSON.stringify(reply.slice(0, 200))}`));
    });
  });
}

/**
 * A request with these Authorization values. CR and LF become spaces: with them a value would end
 * the header and start others (framing, which test/local/shared/http.test.ts covers), and a
 * request that declares a body it never sends is left waiting, not answered.
 */
function requestWith(authorizations: readonly Buffer[]): Buffer {
  return Buffer.concat([
    Buffer.from('GET /api/hello?name=x HTTP/1.1\r\nHost: 127.0.0.1\r\n'),
    ...authorizations.flatMap((raw) => [
      Buffer.from('Authorization: '),
      Buffer.from(raw.map((byte) => (byte === 13 || byte === 10 ? 32 : byte))),
      Buffer.from('\r\n'),
    ]),
    Buffer.from('Connection: close\r\n\r\n'),
  ]);
}

function refused(status: number): void {
  expect(status, `status ${status}`).toBeGreaterThanOrEqual(400);
  expect(status, `status ${status}`).toBeLessThan(500);
}

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 500 }).map((value) => Buffer.from(value)),
  fc.string({ unit: 'grapheme', maxLength: 200 }).map((text) => Buffer.from(`Bearer ${text}`)),
  fc.string({ unit: 'binary', maxLength: 200 }).map((text) => Buffer.from(`Bearer ${text}`)),
  fc
    .tuple(fc.integer({ min: 0, max: 1200 }), fc.uint8Array({ maxLength: 8 }))
    .map(([at, noise]) =>
      Buffer.concat([Buffer.from(`Bearer ${valid.slice(0, at)}`), Buffer.from(noise)]),
    ),
);

describe('Authorization through the built-in host', () => {
  it('a valid token alone gets 200', async () => {
    expect(await statusOf(requestWith([Buffer.from(`Bearer ${valid}`)]))).toBe(200);
  });

  it('random bytes in one header never get 2xx or 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(bytes, async (value) => {
        fc.pre(!value.equals(Buffer.from(`Bearer ${valid}`)));
        refused(await statusOf(requestWith([value])));
      }),
      settings,
    );
  });

  it('two or three Authorization headers, a valid one among them, never get 2xx or 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(bytes, fc.constant(Buffer.from(`Bearer ${valid}`))), {
          minLength: 2,
          maxLength: 3,
        }),
        async (values) => refused(await statusOf(requestWith(values))),
      ),
      settings,
    );
  });

  it('header values up to 64 KiB never get 2xx or 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 64 * 1024 }), async (length) =>
        refused(await statusOf(requestWith([Buffer.from(`Bearer ${'A'.repeat(length)}`)]))),
      ),
      { ...settings, numRuns: 30 },
    );
  });

  it('is still up and still accepts the valid token', async () => {
    expect(await statusOf(requestWith([Buffer.from(`Bearer ${valid}`)]))).toBe(200);
  });
});
