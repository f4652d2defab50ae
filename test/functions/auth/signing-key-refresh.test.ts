/**
 * When the signing key store fetches the JWKS, on a frozen clock: keys older than the refresh
 * interval are refetched in the background (6 hours by default), an unknown `kid` fetches at most
 * once per cooldown (10 s by default), and a failed fetch is retried after its own cooldown (5 s by
 * default). Each limit is tested on both sides of its boundary.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../functions/auth/errors';
import { SigningKeyStore, SigningKeyStoreOptions } from '../../../functions/auth/signing-keys';
import { JwksServer, startJwksServer } from '../../support/jwks-server';
import { createTestKey, TestKey } from '../../support/tokens';

const HOUR = 60 * 60 * 1000;
let first: TestKey;
let second: TestKey;
let server: JwksServer | undefined;
let clock: number;

beforeAll(() => {
  first = createTestKey();
  second = createTestKey();
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(options: Partial<SigningKeyStoreOptions> = {}): Promise<SigningKeyStore> {
  clock = 1_000_000;
  server = await startJwksServer({ kind: 'keys', keys: [first.jwk] });
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

/** A background fetch, if one was started, reaches the loopback server well within this. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

/** Waits for the background fetch that must have started. */
const fetched = (count: number) =>
  vi.waitFor(() => expect(server!.requests).toBe(count), { timeout: 5_000 });

describe('background refresh of known keys', () => {
  it.each([
    ['the default interval (6 hours)', {}, 6 * HOUR],
    ['a configured interval', { refreshIntervalMs: 60_000 }, 60_000],
  ])('refreshes after %s, not at it', async (_case, options, interval) => {
    const store = await setup(options);
    await store.getKey(first.kid);
    expect(server!.requests).toBe(1);

    clock += interval;
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    await settle();
    expect(server!.requests).toBe(1);

    clock += 1;
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    await fetched(2);
  });

  it('does not refresh fresh keys however long the cooldowns have passed', async () => {
    const store = await setup({
      refreshIntervalMs: 10 * HOUR,
      unknownKeyCooldownMs: 1_000,
      failureCooldownMs: 1_000,
    });
    await store.getKey(first.kid);
    for (let i = 0; i < 5; i += 1) {
      clock += HOUR;
      await store.getKey(first.kid);
    }
    await settle();
    expect(server!.requests).toBe(1);
  });

  it('serves the refreshed keys once the refresh is done', async () => {
    const store = await setup({ refreshIntervalMs: 60_000 });
    await store.getKey(first.kid);
    server!.behaviour = { kind: 'keys', keys: [first.jwk, second.jwk] };
    clock += 60_001;
    await store.getKey(first.kid);
    await fetched(2);
    await settle();
    expect(await codeOf(store.getKey(second.kid))).toBe('found');
    expect(server!.requests).toBe(2);
  });

  it('after a failed refresh, waits for the failure cooldown before the next one', async () => {
    const store = await setup({ refreshIntervalMs: 60_000, failureCooldownMs: 5_000 });
    await store.getKey(first.kid);
    server!.behaviour = { kind: 'status', status: 500 };
    clock += 60_001;
    await store.getKey(first.kid);
    await fetched(2);
    await settle();

    clock += 4_999;
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    await settle();
    expect(server!.requests).toBe(2);

    clock += 1;
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    await fetched(3);
  });
});

describe('prefetch', () => {
  it('fetches nothing once keys are loaded, however long ago', async () => {
    const store = await setup();
    await store.getKey(first.kid);
    clock += 60_000;
    store.prefetch();
    await settle();
    expect(server!.requests).toBe(1);
  });

  it('keeps to the failure cooldown', async () => {
    const store = await setup({ failureCooldownMs: 5_000 });
    server!.behaviour = { kind: 'status', status: 500 };
    expect(await codeOf(store.getKey(first.kid))).toBe('signing_keys_unavailable');
    store.prefetch();
    await settle();
    expect(server!.requests).toBe(1);
    clock += 5_000;
    store.prefetch();
    await fetched(2);
  });
});

describe('fetches for an unknown kid', () => {
  it.each([
    ['the default cooldown (10 s)', {}, 10_000],
    ['a configured cooldown', { unknownKeyCooldownMs: 30_000 }, 30_000],
  ])('are spaced by %s', async (_case, options, cooldown) => {
    const store = await setup(options);
    await store.getKey(first.kid);
    server!.behaviour = { kind: 'keys', keys: [first.jwk, second.jwk] };

    clock += cooldown - 1;
    expect(await codeOf(store.getKey(second.kid))).toBe('unknown_signing_key');
    expect(server!.requests).toBe(1);

    clock += 1;
    expect(await codeOf(store.getKey(second.kid))).toBe('found');
    expect(server!.requests).toBe(2);
  });

  it('wait for a fetch already under way instead of starting another', async () => {
    const store = await setup({ refreshIntervalMs: 60_000 });
    await store.getKey(first.kid);
    server!.behaviour = { kind: 'keys', keys: [first.jwk, second.jwk] };
    clock += 60_001;
    // The stale lookup starts a background refresh; the unknown kid waits for it.
    const [known, rotated] = await Promise.all([
      codeOf(store.getKey(first.kid)),
      codeOf(store.getKey(second.kid)),
    ]);
    expect([known, rotated]).toEqual(['found', 'found']);
    expect(server!.requests).toBe(2);
  });
});

describe('fetches after a failure', () => {
  it.each([
    ['the default cooldown (5 s)', {}, 5_000],
    ['a configured cooldown', { failureCooldownMs: 20_000 }, 20_000],
  ])('are spaced by %s, and Retry-After counts it down', async (_case, options, cooldown) => {
    const store = await setup(options);
    server!.behaviour = { kind: 'status', status: 500 };
    const error = (await store.getKey(first.kid).catch((e: unknown) => e)) as AuthError;
    expect(error.code).toBe('signing_keys_unavailable');
    expect(error.retryAfterSeconds).toBe(cooldown / 1000);

    server!.behaviour = { kind: 'keys', keys: [first.jwk] };
    clock += cooldown - 1;
    const later = (await store.getKey(first.kid).catch((e: unknown) => e)) as AuthError;
    expect(later.code).toBe('signing_keys_unavailable');
    expect(later.retryAfterSeconds).toBe(1);
    expect(server!.requests).toBe(1);

    clock += 1;
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    expect(server!.requests).toBe(2);
  });

  it('never advises a retry sooner than one second', async () => {
    const store = await setup({ failureCooldownMs: 0 });
    server!.behaviour = { kind: 'status', status: 500 };
    const error = (await store.getKey(first.kid).catch((e: unknown) => e)) as AuthError;
    expect(error.retryAfterSeconds).toBe(1);
  });

  it('forgets the failure once a fetch succeeds: an unknown kid is then 401, not 503', async () => {
    const store = await setup({ failureCooldownMs: 1_000, unknownKeyCooldownMs: 1_000 });
    server!.behaviour = { kind: 'status', status: 500 };
    expect(await codeOf(store.getKey(first.kid))).toBe('signing_keys_unavailable');
    server!.behaviour = { kind: 'keys', keys: [first.jwk] };
    clock += 1_000;
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    clock += 1_000;
    expect(await codeOf(store.getKey(second.kid))).toBe('unknown_signing_key');
    expect(server!.requests).toBe(3);
  });
});
