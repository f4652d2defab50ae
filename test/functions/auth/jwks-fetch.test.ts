/**
 * How the signing key store fetches the JWKS: only a 200 answer, no redirects, a body bounded by
 * `maxResponseBytes` whether or not its length is declared, and a `keys` array. Every refusal is
 * `signing_keys_unavailable` (503) with the reason as its cause (which the refusal note logs);
 * the boundaries are tested on both sides.
 */
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../../functions/auth/errors';
import { JwksFetchError } from '../../../functions/auth/jwks-fetch';
import { SigningKeyStore, SigningKeyStoreOptions } from '../../../functions/auth/signing-keys';
import { JwksBehaviour, JwksServer, startJwksServer } from '../../support/jwks-server';
import { createTestKey, TestKey } from '../../support/tokens';

let key: TestKey;
let server: JwksServer | undefined;

beforeAll(() => {
  key = createTestKey();
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function store(
  behaviour: JwksBehaviour,
  options: Partial<SigningKeyStoreOptions> = {},
): Promise<SigningKeyStore> {
  server = await startJwksServer(behaviour);
  return new SigningKeyStore({ jwksUri: server.url, now: () => 1_000_000, ...options });
}

/** `found`, or the refusal's code, with the reason of a `signing_keys_unavailable`. */
async function outcome(keys: SigningKeyStore): Promise<string> {
  try {
    await keys.getKey(key.kid);
    return 'found';
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    if (error.code !== 'signing_keys_unavailable') return error.code;
    expect(error.cause).toBeInstanceOf(JwksFetchError);
    expect((error.cause as Error).name).toBe('JwksFetchError');
    return `${error.code}: ${(error.cause as Error).message}`;
  }
}

const UNAVAILABLE = 'signing_keys_unavailable';

/** A valid JWKS padded with white space to exactly `bytes` bytes. */
function jwksOfSize(bytes: number): string {
  const body = JSON.stringify({ keys: [key.jwk] });
  expect(bytes).toBeGreaterThanOrEqual(body.length);
  return body + ' '.repeat(bytes - body.length);
}

/** Answers 200 with the body in one write and its Content-Length declared. */
const declared = (body: string): JwksBehaviour => ({
  kind: 'handler',
  handle: (res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  },
});

/** Answers 200 with the body written in two chunks, so that no Content-Length is sent. */
const chunked = (body: string): JwksBehaviour => ({
  kind: 'handler',
  handle: (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const half = Math.floor(body.length / 2);
    res.write(body.slice(0, half));
    res.end(body.slice(half));
  },
});

const CAP = 4_096;

describe('JWKS fetch', () => {
  it('asks for JSON', async () => {
    const keys = await store({ kind: 'keys', keys: [key.jwk] });
    expect(await outcome(keys)).toBe('found');
    expect(server!.lastHeaders?.accept).toBe('application/json');
  });

  it.each([301, 302, 307, 308])(
    'does not follow a redirect (HTTP %i) to another JWKS',
    async (status) => {
      const target = await startJwksServer({ kind: 'keys', keys: [key.jwk] });
      try {
        const keys = await store({
          kind: 'handler',
          handle: (res) => {
            res.writeHead(status, { location: target.url });
            res.end();
          },
        });
        expect(await outcome(keys)).toBe(
          `${UNAVAILABLE}: the JWKS endpoint answered HTTP ${status}`,
        );
        expect(target.requests).toBe(0);
      } finally {
        await target.close();
      }
    },
  );

  it.each([201, 203, 204, 206, 299, 304, 400, 404, 429, 500, 503])(
    'refuses a valid key set served with HTTP %i (only 200 is an answer)',
    async (status) => {
      const keys = await store({
        kind: 'handler',
        handle: (res) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ keys: [key.jwk] }));
        },
      });
      expect(await outcome(keys)).toBe(`${UNAVAILABLE}: the JWKS endpoint answered HTTP ${status}`);
    },
  );

  it.each([
    ['declared, exactly at the cap', 'declared', CAP, 'found'],
    [
      'declared, one byte over the cap',
      'declared',
      CAP + 1,
      `${UNAVAILABLE}: the JWKS response is larger than ${CAP} bytes`,
    ],
    ['chunked, exactly at the cap', 'chunked', CAP, 'found'],
    [
      'chunked, one byte over the cap',
      'chunked',
      CAP + 1,
      `${UNAVAILABLE}: the JWKS response is larger than ${CAP} bytes`,
    ],
  ] as const)('bounds the body: %s', async (_case, framing, bytes, expected) => {
    const body = jwksOfSize(bytes);
    const behaviour = framing === 'declared' ? declared(body) : chunked(body);
    const keys = await store(behaviour, { maxResponseBytes: CAP });
    expect(await outcome(keys)).toBe(expected);
  });

  it('bounds the body by default to 256 KiB', async () => {
    const atCap = await store(chunked(jwksOfSize(256 * 1024)));
    expect(await outcome(atCap)).toBe('found');
    await server!.close();
    const overCap = await store(chunked(jwksOfSize(256 * 1024 + 1)));
    expect(await outcome(overCap)).toBe(
      `${UNAVAILABLE}: the JWKS response is larger than ${256 * 1024} bytes`,
    );
  });

  it('refuses a declared oversized body before reading it', async () => {
    // The body never comes: only the declared length can end this fetch before its timeout
    // (which is set far beyond the test's own timeout).
    const keys = await store(
      {
        kind: 'handler',
        handle: (res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': CAP + 1 });
          res.write('{');
        },
      },
      { maxResponseBytes: CAP, fetchTimeoutMs: 10 * 60_000 },
    );
    expect(await outcome(keys)).toBe(
      `${UNAVAILABLE}: the JWKS response is larger than ${CAP} bytes`,
    );
  });

  it.each([
    ['keys an object', '{"keys":{}}'],
    ['keys an object with a length', `{"keys":{"length":1,"0":${JSON.stringify({})}}}`],
    ['keys a string', '{"keys":"abc"}'],
    ['keys null', '{"keys":null}'],
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"keys"'],
    ['an array of keys', '[]'],
  ])('refuses a body that is %s', async (_case, body) => {
    const keys = await store({ kind: 'body', body });
    expect(await outcome(keys)).toBe(`${UNAVAILABLE}: the JWKS response has no "keys" array`);
  });

  it.each([
    ['empty', ''],
    ['HTML', '<html>Service Unavailable</html>'],
    ['cut short', '{"keys":['],
  ])(
    'refuses a body that is not JSON (%s), and says so without quoting it',
    async (_case, body) => {
      const keys = await store({ kind: 'body', body });
      expect(await outcome(keys)).toBe(`${UNAVAILABLE}: the JWKS response is not JSON`);
    },
  );

  it('names the socket error when the endpoint cannot be reached', async () => {
    server = await startJwksServer({ kind: 'keys', keys: [key.jwk] });
    const url = server.url;
    await server.close();
    server = undefined;
    const keys = new SigningKeyStore({ jwksUri: url, now: () => 1_000_000 });
    expect(await outcome(keys)).toBe(
      `${UNAVAILABLE}: the JWKS endpoint could not be reached (ECONNREFUSED)`,
    );
  });

  it('names the socket error when the response is cut off mid-body', async () => {
    const keys = await store({
      kind: 'handler',
      handle: (res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1_000 });
        res.write('{"keys":[', () => res.socket?.destroy());
      },
    });
    expect(await outcome(keys)).toMatch(
      new RegExp(`^${UNAVAILABLE}: the JWKS response was cut off \\(ECONNRESET\\)$`),
    );
  });

  it('speaks TLS to an https address', async () => {
    // A TCP server that notes the first byte the client sends and hangs up: a TLS client starts
    // with a handshake record (content type 22); plain HTTP would start with "GET".
    let first: number | undefined;
    const tcp = net.createServer((socket) => {
      socket.once('data', (chunk) => {
        first = chunk[0];
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = tcp.address() as net.AddressInfo;
      const keys = new SigningKeyStore({
        jwksUri: `https://127.0.0.1:${port}/keys`,
        now: () => 1_000_000,
      });
      expect(await outcome(keys)).toBe(
        `${UNAVAILABLE}: the JWKS endpoint could not be reached (ECONNRESET)`,
      );
      expect(first).toBe(22);
    } finally {
      await new Promise((resolve) => tcp.close(resolve));
    }
  });

  it('says how long it waited when the endpoint never answers', async () => {
    const keys = await store({ kind: 'handler', handle: () => undefined }, { fetchTimeoutMs: 50 });
    expect(await outcome(keys)).toBe(
      `${UNAVAILABLE}: the JWKS endpoint did not answer within 50 ms`,
    );
  });

  it('says the key set holds no usable key, and how many it had', async () => {
    const keys = await store({ kind: 'keys', keys: [{ ...key.jwk, alg: 'RS512' }, { kty: 'EC' }] });
    expect(await outcome(keys)).toBe(
      `${UNAVAILABLE}: the JWKS holds no usable signing key (of 2: RSA, RS256, 2048 bits or more)`,
    );
  });
});
