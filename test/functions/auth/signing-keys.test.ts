/**
 * The signing key store: jwks-rsa fetches and caches the keys; the store spaces lookups of unseen
 * `kid`s by a cooldown (on its own clock, frozen here), bounds every lookup in time, and says why a
 * 503 happened. jwks-rsa's cache runs on the real clock: its expiry is tested with a short
 * `cacheMaxAgeMs` and `vi.waitFor`, and with the defaults on a fake clock (the last block).
 */
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
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

/**
 * Whether the store answers a lookup before the event loop's next turn, that is from its memo of
 * recent keys: jwks-rsa answers even from its cache on a later turn (lru-memoizer calls back with
 * `setImmediate`), the cost the memo is there to save. The turn is queued before the lookup starts,
 * so it comes before any turn jwks-rsa queues.
 */
function answeredAtOnce(store: SigningKeyStore, kid: string): Promise<boolean> {
  const nextTurn = new Promise<false>((resolve) => setImmediate(() => resolve(false)));
  return Promise.race([store.getKey(kid).then(() => true), nextTurn]);
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

  it('asks the JWKS endpoint for JSON', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk] });
    await store.getKey(first.kid);
    expect(server!.lastHeaders?.accept).toBe('application/json');
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
    const lookup = store.getKey(first.kid);
    // A second fetch, had the lookup started one, would be held (and time the lookup out) or be
    // answered here and counted.
    for (const answer of held.splice(0)) answer();
    expect((await lookup).equals(first.publicKey)).toBe(true);
    expect(server!.requests).toBe(1);
  });

  it.each([
    [
      'keys that is not a list',
      () => '{"keys":{}}',
      // Nothing to hand to jwks-rsa, so the lookup fetches.
      { requests: 2, why: 'the JWKS holds no usable signing key' },
    ],
    [
      'a null entry beside a good key',
      () => JSON.stringify({ keys: [null, first.jwk] }),
      // jwks-rsa is handed the first fetch's keys, and cannot read them.
      { requests: 1, why: 'the JWKS response could not be read' },
    ],
  ])(
    'prefetch() of a key set with %s: a lookup that waits for it gets the 503 a fetch would',
    async (_case, body, expected) => {
      const store = await setup({ kind: 'body', body: body() });
      store.prefetch();
      // The first fetch is under way (prefetch's turn came first) and cannot have been answered.
      await new Promise((resolve) => setImmediate(resolve));
      const error = await refusalOf(store.getKey(first.kid));
      expect(error.code).toBe('signing_keys_unavailable');
      expect((error.cause as Error).message).toBe(expected.why);
      expect(server!.requests).toBe(expected.requests);
    },
  );

  it('prefetch() fetches nothing when a lookup came first', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk] });
    const lookup = store.getKey(first.kid);
    store.prefetch();
    await lookup;
    await new Promise((resolve) => setImmediate(resolve));
    expect(server!.requests).toBe(1);
  });
});

/**
 * The store with its defaults on one fake clock: the store's own (the memo of recent keys and the
 * lookup deadline, on `Date.now` and `setTimeout`), jwks-rsa's stale fallback (`Date.now`), its
 * cache (lru-cache reads `performance.now`, and re-reads it after a 1 ms `setTimeout`) and its rate
 * limiter (`process.hrtime` and `Date`). The loopback JWKS server and `setImmediate` stay real.
 */
describe('SigningKeyStore on a fake clock', () => {
  const HOUR = 60 * 60 * 1000;

  beforeEach(() => {
    vi.useFakeTimers({
      now: Date.UTC(2026, 0, 1),
      toFake: ['Date', 'hrtime', 'setTimeout', 'clearTimeout'],
    });
    // lru-cache took the `performance` object when it loaded, so its `now` is what moves.
    vi.spyOn(performance, 'now').mockImplementation(() => Date.now());
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  async function start(
    keys: Record<string, unknown>[],
    options: Partial<SigningKeyStoreOptions> = {},
  ): Promise<SigningKeyStore> {
    server = await startJwksServer({ kind: 'keys', keys });
    return new SigningKeyStore({ jwksUri: server.url, ...options });
  }

  it('answers a key it returned at once for one minute of the real clock, then asks jwks-rsa again', async () => {
    // The injected clock stands still: the memo runs on the real clock, as jwks-rsa's cache does.
    const store = await start([first.jwk], { now: () => 0 });
    const key = await store.getKey(first.kid);
    expect(await answeredAtOnce(store, first.kid)).toBe(true);
    vi.advanceTimersByTime(59_999);
    expect(await answeredAtOnce(store, first.kid)).toBe(true);
    vi.advanceTimersByTime(1);
    expect(await answeredAtOnce(store, first.kid)).toBe(false);
    // jwks-rsa answers from its cache: the same key, no fetch, and a minute more in the memo.
    expect(await store.getKey(first.kid)).toBe(key);
    expect(server!.requests).toBe(1);
    expect(await answeredAtOnce(store, first.kid)).toBe(true);
  });

  it('forgets every recent key once 16 kids are kept, before keeping a 17th', async () => {
    const kids = Array.from({ length: 17 }, (_, i) => `kid-${i}`);
    const store = await start(
      kids.map((kid) => ({ ...first.jwk, kid })),
      { unknownKeyCooldownMs: 0 },
    );
    // Each kid costs a fetch, and jwks-rsa's rate limit allows 10 a minute: 10 kids, then 6 more.
    for (const kid of kids.slice(0, 10)) await store.getKey(kid);
    vi.advanceTimersByTime(60_000);
    for (const kid of kids.slice(10, 16)) await store.getKey(kid);
    expect(await answeredAtOnce(store, kids[10]!)).toBe(true);
    expect(await answeredAtOnce(store, kids[15]!)).toBe(true);

    await store.getKey(kids[16]!);
    expect(await answeredAtOnce(store, kids[16]!)).toBe(true);
    expect(await answeredAtOnce(store, kids[15]!)).toBe(false);
    // Forgotten by the store only: jwks-rsa still has it.
    expect((await store.getKey(kids[15]!)).equals(first.publicKey)).toBe(true);
    expect(server!.requests).toBe(17);
  });

  it("keeps a fetch failure when a seen kid is answered from jwks-rsa's cache: unseen kids still get 503", async () => {
    const store = await start([first.jwk]);
    await store.getKey(first.kid);
    // Past the memo's minute and the unknown-kid cooldown.
    vi.advanceTimersByTime(60_000);
    server!.behaviour = { kind: 'status', status: 503 };
    expect(await codeOf(store.getKey(randomUUID()))).toBe('signing_keys_unavailable');
    // Found without asking the endpoint, which says nothing of whether it is back.
    expect((await store.getKey(first.kid)).equals(first.publicKey)).toBe(true);
    expect(server!.requests).toBe(2);
    const error = await refusalOf(store.getKey(randomUUID()));
    expect(error.code).toBe('signing_keys_unavailable');
    expect(error.retryAfterSeconds).toBe(10);
  });

  it("keeps a key in jwks-rsa's cache for 6 hours by default, then fetches it again", async () => {
    const store = await start([first.jwk]);
    await store.getKey(first.kid);
    vi.advanceTimersByTime(6 * HOUR - 1_000);
    await store.getKey(first.kid);
    expect(server!.requests).toBe(1);
    // Past 6 hours, and past the minute the store now keeps the key itself.
    vi.advanceTimersByTime(61_000);
    await store.getKey(first.kid);
    expect(server!.requests).toBe(2);
  });

  it('serves a known key while the endpoint fails until 24 hours after its fetch by default (6 + 18)', async () => {
    const store = await start([first.jwk]);
    const key = await store.getKey(first.kid);
    server!.behaviour = { kind: 'status', status: 500 };
    vi.advanceTimersByTime(24 * HOUR - 1_000);
    expect(await store.getKey(first.kid)).toBe(key);
    expect(server!.requests).toBe(2);

    server!.behaviour = { kind: 'keys', keys: [first.jwk] };
    const late = new SigningKeyStore({ jwksUri: server!.url });
    await late.getKey(first.kid);
    server!.behaviour = { kind: 'status', status: 500 };
    vi.advanceTimersByTime(24 * HOUR + 1_000);
    expect(await codeOf(late.getKey(first.kid))).toBe('signing_keys_unavailable');
  });

  it('serves a key from the fallback for 6 hours more, since jwks-rsa caches it again: 30 hours at most', async () => {
    const store = await start([first.jwk]);
    const key = await store.getKey(first.kid);
    server!.behaviour = { kind: 'status', status: 500 };
    vi.advanceTimersByTime(24 * HOUR - 1_000);
    expect(await store.getKey(first.kid)).toBe(key);
    const fetches = server!.requests;
    // Served from jwks-rsa's cache, without asking the endpoint, until its cache age has passed.
    vi.advanceTimersByTime(6 * HOUR - 61_000);
    expect(await store.getKey(first.kid)).toBe(key);
    expect(server!.requests).toBe(fetches);
    // Past 30 hours, and past the minute the store keeps the key itself.
    vi.advanceTimersByTime(62_000);
    expect(await codeOf(store.getKey(first.kid))).toBe('signing_keys_unavailable');
    expect(server!.requests).toBe(fetches + 1);
  });

  it('leaves no timer behind once a lookup is answered: its deadline is cleared', async () => {
    const store = await start([first.jwk]);
    await store.getKey(first.kid);
    // Short of the 5 s deadline; lru-cache's own 1 ms timer has run.
    vi.advanceTimersByTime(4_999);
    expect(vi.getTimerCount()).toBe(0);
  });
});
