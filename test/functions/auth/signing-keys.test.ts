/**
 * The signing key store: jwks-rsa fetches and caches the keys; the store spaces lookups of unseen
 * `kid`s by a cooldown (on its own clock, frozen here), bounds every lookup in time, and says why a
 * 503 happened. jwks-rsa's cache runs on the real clock: its expiry is tested with a short
 * `cacheMaxAgeMs` and `vi.waitFor`.
 */
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../functions/auth/errors';
import { statusFor } from '../../../functions/auth/http-edge';
import { SigningKeyStore, SigningKeyStoreOptions } from '../../../functions/auth/signing-keys';
import { JwksServer, startJwksServer } from '../../support/jwks-server';
import { createTestKey, TestKey } from '../../support/tokens';

let first: TestKey;
let second: TestKey;
let server: JwksServer | undefined;
let clock = 1_000_000;

beforeAll(() => {
  first = createTestKey();
  second = createTestKey();
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  clock = 1_000_000;
});

async function setup(
  behaviour: Parameters<typeof startJwksServer>[0],
  options: Partial<SigningKeyStoreOptions> = {},
): Promise<SigningKeyStore> {
  server = await startJwksServer(behaviour);
  return new SigningKeyStore({ jwksUri: server.url, now: () => clock, ...options });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'found';
  } catch (error) {
    if (error instanceof AuthError) return error.code;
    throw error;
  }
}

async function refusalOf(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AuthError)) throw new Error(`expected an AuthError, got ${String(error)}`);
  return error;
}

describe('SigningKeyStore', () => {
  it('shares one fetch among concurrent lookups of a kid, and makes its KeyObject once', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk, second.jwk] });
    const keys = await Promise.all(Array.from({ length: 25 }, () => store.getKey(first.kid)));
    expect(server!.requests).toBe(1);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]!.equals(first.publicKey)).toBe(true);
    expect(await store.getKey(first.kid)).toBe(keys[0]);
    expect(server!.requests).toBe(1);
  });

  it('looks up a kid first seen after the cooldown: a key rotation costs one fetch', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk] });
    await store.getKey(first.kid);
    server!.behaviour = { kind: 'keys', keys: [first.jwk, second.jwk] };
    clock += 10_000;
    const rotated = await Promise.all(Array.from({ length: 10 }, () => store.getKey(second.kid)));
    expect(rotated.every((k) => k.equals(second.publicKey))).toBe(true);
    expect(server!.requests).toBe(2);
  });

  it('bounds a flood of unknown kids to one fetch per cooldown, on both sides of it', async () => {
    const store = await setup(
      { kind: 'keys', keys: [first.jwk] },
      { unknownKeyCooldownMs: 30_000 },
    );
    await store.getKey(first.kid);
    clock += 30_000;
    const flood = await Promise.all(
      Array.from({ length: 200 }, () => codeOf(store.getKey(randomUUID()))),
    );
    expect(new Set(flood)).toEqual(new Set(['unknown_signing_key']));
    expect(server!.requests).toBe(2);

    clock += 29_999;
    expect(await codeOf(store.getKey(randomUUID()))).toBe('unknown_signing_key');
    expect(server!.requests).toBe(2);
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    expect(server!.requests).toBe(2);

    clock += 1;
    expect(await codeOf(store.getKey(randomUUID()))).toBe('unknown_signing_key');
    expect(server!.requests).toBe(3);
  });

  it('refuses an unknown kid with a message for the client that names no key', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk] });
    const error = await refusalOf(store.getKey('unknown'));
    expect(error.code).toBe('unknown_signing_key');
    expect(error.message).toBe('The token is signed with an unknown key.');
    expect(error.cause).toBeUndefined();
  });

  it.each([
    [
      'HTTP 500',
      { kind: 'status', status: 500 } as const,
      'the JWKS endpoint answered an HTTP error (Internal Server Error)',
    ],
    [
      'HTTP 404',
      { kind: 'status', status: 404 } as const,
      'the JWKS endpoint answered an HTTP error (Not Found)',
    ],
    [
      'a body that is not JSON',
      { kind: 'body', body: '<html>oops</html>' } as const,
      'the JWKS response is not JSON',
    ],
    [
      'JSON without keys',
      { kind: 'body', body: '{"issuer":"x"}' } as const,
      'the JWKS holds no usable signing key',
    ],
    [
      'an empty key set',
      { kind: 'keys', keys: [] } as const,
      'the JWKS holds no usable signing key',
    ],
    [
      'keys that is not a list',
      { kind: 'body', body: '{"keys":{}}' } as const,
      'the JWKS holds no usable signing key',
    ],
    [
      'a key set with a null entry (jwks-rsa throws a TypeError on it)',
      { kind: 'body', body: '{"keys":[null]}' } as const,
      'the JWKS response could not be read',
    ],
    [
      'nothing: it closes the connection',
      { kind: 'handler', handle: (res: ServerResponse) => res.socket?.destroy() } as const,
      'the JWKS endpoint closed the connection or was silent for 5000 ms (ECONNRESET)',
    ],
  ])(
    'answers 503 when the JWKS endpoint returns %s, and says why',
    async (_case, behaviour, why) => {
      const store = await setup(behaviour);
      const error = await refusalOf(store.getKey(first.kid));
      expect(error.code).toBe('signing_keys_unavailable');
      expect(error.message).toBe('The signing keys could not be fetched.');
      expect(statusFor(error.code)).toBe(503);
      expect(error.retryAfterSeconds).toBe(10);
      expect((error.cause as Error).name).toBe('JwksFetchError');
      expect((error.cause as Error).message).toBe(why);
    },
  );

  it("keeps jwks-rsa's rate limit on: past 10 fetches in a minute a lookup is refused, 503, and says why", async () => {
    // Without the cooldown between unseen kids, each of these lookups costs jwks-rsa a fetch.
    const store = await setup({ kind: 'keys', keys: [first.jwk] }, { unknownKeyCooldownMs: 0 });
    for (let i = 0; i < 10; i += 1) {
      expect(await codeOf(store.getKey(randomUUID()))).toBe('unknown_signing_key');
    }
    expect(server!.requests).toBe(10);
    const error = await refusalOf(store.getKey(randomUUID()));
    expect(error.code).toBe('signing_keys_unavailable');
    expect((error.cause as Error).message).toBe('too many JWKS requests (jwks-rsa rate limit)');
    expect(server!.requests).toBe(10);
  });

  it('answers 503 when the endpoint is unreachable, naming the socket error', async () => {
    const store = await setup({ kind: 'keys', keys: [] });
    await server!.close();
    const error = await refusalOf(store.getKey(first.kid));
    expect(error.code).toBe('signing_keys_unavailable');
    expect((error.cause as Error).message).toBe(
      'the JWKS endpoint could not be reached (ECONNREFUSED)',
    );
  });

  it('does not look up an unseen kid within the cooldown after a failure: 503, Retry-After counting down', async () => {
    const store = await setup({ kind: 'status', status: 503 });
    expect(await codeOf(store.getKey(first.kid))).toBe('signing_keys_unavailable');
    clock += 7_500;
    const error = await refusalOf(store.getKey(randomUUID()));
    expect(error.code).toBe('signing_keys_unavailable');
    expect(error.retryAfterSeconds).toBe(3);
    clock += 2_000;
    expect((await refusalOf(store.getKey(randomUUID()))).retryAfterSeconds).toBe(1);
    expect(server!.requests).toBe(1);

    server!.behaviour = { kind: 'keys', keys: [first.jwk] };
    clock += 500;
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    expect(server!.requests).toBe(2);
    // The failure is forgotten once a lookup succeeds: an unknown kid is then 401, not 503.
    expect(await codeOf(store.getKey(randomUUID()))).toBe('unknown_signing_key');
  });

  it.each([
    [
      'never answers',
      { kind: 'hang' } as const,
      /^the JWKS endpoint (closed the connection or was silent for|did not answer within) 300 ms/,
    ],
    [
      'trickles its body forever',
      { kind: 'slow-body', intervalMs: 50 } as const,
      /^the JWKS endpoint did not answer within 300 ms$/,
    ],
  ])('gives up after the fetch timeout when the endpoint %s', async (_case, behaviour, why) => {
    const store = await setup(behaviour, { fetchTimeoutMs: 300 });
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => refusalOf(store.getKey(first.kid))),
    );
    const elapsed = performance.now() - started;
    expect(new Set(results.map((e) => e.code))).toEqual(new Set(['signing_keys_unavailable']));
    expect((results[0]!.cause as Error).message).toMatch(why);
    expect(server!.requests).toBe(1);
    // Bounded by the 300 ms timeout, which covers the body too (generous margin for CI).
    expect(elapsed).toBeLessThan(5_000);
  });

  it('fetches a key again after cacheMaxAge, and serves the new one', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk] }, { cacheMaxAgeMs: 200 });
    const before = await store.getKey(first.kid);
    server!.behaviour = { kind: 'keys', keys: [{ ...second.jwk, kid: first.kid }] };
    await vi.waitFor(
      async () => expect((await store.getKey(first.kid)).equals(second.publicKey)).toBe(true),
      { timeout: 5_000, interval: 50 },
    );
    expect(before.equals(first.publicKey)).toBe(true);
  });

  it('serves the known key while the endpoint fails after cacheMaxAge, until the fallback ends', async () => {
    const store = await setup(
      { kind: 'keys', keys: [first.jwk] },
      { cacheMaxAgeMs: 100, cacheMaxAgeFallbackMs: 60_000 },
    );
    const key = await store.getKey(first.kid);
    server!.behaviour = { kind: 'status', status: 500 };
    // Once the cache entry has expired, jwks-rsa fetches again, fails, and serves the stale key.
    await vi.waitFor(
      async () => {
        expect(await store.getKey(first.kid)).toBe(key);
        expect(server!.requests).toBeGreaterThan(1);
      },
      { timeout: 5_000, interval: 50 },
    );

    const brief = await setup(
      { kind: 'keys', keys: [first.jwk] },
      { cacheMaxAgeMs: 100, cacheMaxAgeFallbackMs: 1 },
    );
    await brief.getKey(first.kid);
    server!.behaviour = { kind: 'status', status: 500 };
    await vi.waitFor(
      async () => expect(await codeOf(brief.getKey(first.kid))).toBe('signing_keys_unavailable'),
      { timeout: 5_000, interval: 50 },
    );
  });

  it('prefetch() fetches the keys before any lookup, once, and the first lookups do not fetch again', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk, second.jwk] });
    store.prefetch();
    store.prefetch();
    await vi.waitFor(() => expect(server!.requests).toBe(1));
    // Both published kids were seen: neither is held to the cooldown of the other.
    await vi.waitFor(async () => expect(await codeOf(store.getKey(first.kid))).toBe('found'));
    expect(await codeOf(store.getKey(second.kid))).toBe('found');
    expect(server!.requests).toBe(1);
    // An unknown kid still costs one fetch: the prefetched keys are not the answer for it.
    expect(await codeOf(store.getKey('unknown'))).toBe('unknown_signing_key');
    expect(server!.requests).toBe(2);
  });

  it('prefetch() hands its keys to jwks-rsa for one minute only', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk, second.jwk] });
    store.prefetch();
    await vi.waitFor(() => expect(server!.requests).toBe(1));
    await vi.waitFor(async () => expect(await codeOf(store.getKey(first.kid))).toBe('found'));
    clock += 60_000;
    expect(await codeOf(store.getKey(second.kid))).toBe('found');
    expect(server!.requests).toBe(2);
  });

  it('a lookup while the first fetch is under way waits for it and fetches nothing more', async () => {
    const held: (() => void)[] = [];
    const store = await setup({
      kind: 'handler',
      handle: (res) =>
        held.push(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ keys: [first.jwk] }));
        }),
    });
    store.prefetch();
    await vi.waitFor(() => expect(server!.requests).toBe(1));
    const lookup = codeOf(store.getKey(first.kid));
    // A second fetch, had the lookup started one, would be held (and time the lookup out) or be
    // answered here and counted.
    for (const answer of held.splice(0)) answer();
    expect(await lookup).toBe('found');
    expect(server!.requests).toBe(1);
  });

  it('prefetch() fetches nothing when a lookup came first', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk] });
    const lookup = store.getKey(first.kid);
    store.prefetch();
    await lookup;
    await new Promise((resolve) => setImmediate(resolve));
    expect(server!.requests).toBe(1);
  });
});
