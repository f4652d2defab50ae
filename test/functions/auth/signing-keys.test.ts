import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../../functions/auth/errors';
import { statusFor } from '../../../functions/auth/http-edge';
import { SigningKeyStore, SigningKeyStoreOptions } from '../../../functions/auth/signing-keys';
import { JwksServer, startJwksServer } from '../../support/jwks-server';
import { createTestKey, TestKey } from '../../support/tokens';

let first: TestKey;
let second: TestKey;
let third: TestKey;
let weak: TestKey;
let server: JwksServer | undefined;
let clock = 0;

beforeAll(() => {
  first = createTestKey();
  second = createTestKey();
  third = createTestKey();
  weak = createTestKey(1024);
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

describe('SigningKeyStore', () => {
  it('shares one fetch among concurrent cold lookups and parses each key once', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk, second.jwk] });
    const keys = await Promise.all(Array.from({ length: 25 }, () => store.getKey(first.kid)));
    expect(server!.requests).toBe(1);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]!.equals(first.publicKey)).toBe(true);
    expect((await store.getKey(second.kid)).equals(second.publicKey)).toBe(true);
    expect(server!.requests).toBe(1);
  });

  it('refetches once for a new kid after a key rotation, and drops keys no longer published', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk] });
    await store.getKey(first.kid);
    server!.behaviour = { kind: 'keys', keys: [second.jwk] };
    clock += 30_000;
    const rotated = await Promise.all(Array.from({ length: 10 }, () => store.getKey(second.kid)));
    expect(rotated.every((k) => k.equals(second.publicKey))).toBe(true);
    expect(server!.requests).toBe(2);
    clock += 30_000;
    expect(await codeOf(store.getKey(first.kid))).toBe('unknown_signing_key');
  });

  it('bounds a flood of unknown kids to one fetch per cooldown', async () => {
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

    for (let i = 0; i < 50; i += 1) {
      clock += 100;
      expect(await codeOf(store.getKey(randomUUID()))).toBe('unknown_signing_key');
    }
    expect(server!.requests).toBe(2);
    expect(await codeOf(store.getKey(first.kid))).toBe('found');

    clock += 30_000;
    expect(await codeOf(store.getKey(randomUUID()))).toBe('unknown_signing_key');
    expect(server!.requests).toBe(3);
  });

  it.each([
    ['HTTP 500', { kind: 'status', status: 500 } as const],
    ['HTTP 404', { kind: 'status', status: 404 } as const],
    ['a body that is not JSON', { kind: 'body', body: '<html>oops</html>' } as const],
    ['JSON without keys', { kind: 'body', body: '{"issuer":"x"}' } as const],
    ['keys that is not an array', { kind: 'body', body: '{"keys":{}}' } as const],
    ['an empty key set', { kind: 'keys', keys: [] } as const],
    [
      'only a symmetric key',
      { kind: 'keys', keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'x' }] } as const,
    ],
    ['only an encryption key', { kind: 'keys', keys: [{ use: 'enc' }] } as const],
    [
      'a body larger than the cap',
      { kind: 'body', body: `{"keys":[],"pad":"${'x'.repeat(300_000)}"}` } as const,
    ],
  ])(
    'answers 503 (signing_keys_unavailable) when the JWKS endpoint returns %s',
    async (_case, behaviour) => {
      const store = await setup(behaviour);
      const error = (await store.getKey(first.kid).catch((e: unknown) => e)) as AuthError;
      expect(error).toBeInstanceOf(AuthError);
      expect(error.code).toBe('signing_keys_unavailable');
      expect(error.message).toBe('The signing keys could not be fetched.');
      expect(statusFor(error.code)).toBe(503);
      expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    },
  );

  it('ignores keys that are too weak or not for RS256, and keeps the good ones', async () => {
    const store = await setup({
      kind: 'keys',
      keys: [weak.jwk, { ...second.jwk, alg: 'RS512' }, first.jwk],
    });
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    expect(await codeOf(store.getKey(weak.kid))).toBe('unknown_signing_key');
  });

  it.each([
    ['an encryption key (use "enc")', (jwk: Record<string, unknown>) => ({ ...jwk, use: 'enc' })],
    ['a private key (with "d")', (jwk: Record<string, unknown>) => ({ ...jwk, d: jwk.n })],
    [
      'key_ops without verify',
      (jwk: Record<string, unknown>) => ({ ...jwk, key_ops: ['encrypt'] }),
    ],
    ['no kid', (jwk: Record<string, unknown>) => ({ ...jwk, kid: undefined })],
    ['not RSA', (jwk: Record<string, unknown>) => ({ ...jwk, kty: 'EC' })],
    ['a modulus that is not base64url', (jwk: Record<string, unknown>) => ({ ...jwk, n: 42 })],
  ])('ignores %s', async (_case, change) => {
    const store = await setup({ kind: 'keys', keys: [change(second.jwk), first.jwk] });
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    expect(await codeOf(store.getKey(second.kid))).toBe('unknown_signing_key');
  });

  it('keeps a key that says it verifies (key_ops) or has alg RS256', async () => {
    const store = await setup({
      kind: 'keys',
      keys: [
        { ...first.jwk, key_ops: ['verify'] },
        { ...second.jwk, alg: 'RS256' },
      ],
    });
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    expect(await codeOf(store.getKey(second.kid))).toBe('found');
  });

  it('keeps the KeyObject of a key published unchanged, and tells listeners of changes only', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk, second.jwk] });
    const heard: string[][] = [];
    store.onKeysChanged((keys) => heard.push([...keys.keys()]));
    const before = await store.getKey(first.kid);
    expect(heard).toEqual([[first.kid, second.kid]]);

    clock += 30_000;
    expect(await codeOf(store.getKey('unknown'))).toBe('unknown_signing_key');
    expect(server!.requests).toBe(2);
    expect(store.currentKey(first.kid)).toBe(before);
    expect(heard).toHaveLength(1);

    server!.behaviour = { kind: 'keys', keys: [first.jwk] };
    clock += 30_000;
    expect(await codeOf(store.getKey('unknown'))).toBe('unknown_signing_key');
    expect(heard).toEqual([[first.kid, second.kid], [first.kid]]);
    expect(store.currentKey(first.kid)).toBe(before);
    expect(store.currentKey(second.kid)).toBeUndefined();
  });

  it('tells listeners of a key replaced under its kid, or under a new kid, the count unchanged', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk, second.jwk] });
    const heard: string[][] = [];
    store.onKeysChanged((keys) => heard.push([...keys.keys()]));
    await store.getKey(first.kid);

    server!.behaviour = { kind: 'keys', keys: [first.jwk, { ...third.jwk, kid: second.kid }] };
    clock += 30_000;
    expect(await codeOf(store.getKey('unknown'))).toBe('unknown_signing_key');
    expect(heard).toEqual([
      [first.kid, second.kid],
      [first.kid, second.kid],
    ]);
    expect(store.currentKey(second.kid)!.equals(third.publicKey)).toBe(true);

    server!.behaviour = { kind: 'keys', keys: [first.jwk, third.jwk] };
    clock += 30_000;
    expect(await codeOf(store.getKey('unknown'))).toBe('unknown_signing_key');
    expect(heard.at(-1)).toEqual([first.kid, third.kid]);
    expect(heard).toHaveLength(3);
  });

  it('refuses an unknown kid with a message for the client that names no key', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk] });
    const error = (await store.getKey('unknown').catch((e: unknown) => e)) as AuthError;
    expect(error.code).toBe('unknown_signing_key');
    expect(error.message).toBe('The token is signed with an unknown key.');
  });

  it('prefetch() fetches the keys before any lookup, once', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk] });
    store.prefetch();
    store.prefetch();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server!.requests).toBe(1);
    expect(store.currentKey(first.kid)?.equals(first.publicKey)).toBe(true);
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    expect(server!.requests).toBe(1);
  });

  it('does not hammer a failing endpoint, and recovers after the failure cooldown', async () => {
    const store = await setup({ kind: 'status', status: 503 }, { failureCooldownMs: 5_000 });
    for (let i = 0; i < 20; i += 1) {
      expect(await codeOf(store.getKey(first.kid))).toBe('signing_keys_unavailable');
    }
    expect(server!.requests).toBe(1);
    server!.behaviour = { kind: 'keys', keys: [first.jwk] };
    clock += 5_000;
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    expect(server!.requests).toBe(2);
  });

  it('counts Retry-After down to the end of the failure cooldown', async () => {
    const store = await setup({ kind: 'status', status: 500 }, { failureCooldownMs: 10_000 });
    await store.getKey(first.kid).catch(() => undefined);
    clock += 7_500;
    const error = (await store.getKey(first.kid).catch((e: unknown) => e)) as AuthError;
    expect(error.retryAfterSeconds).toBe(3);
  });

  it('answers 503 when the endpoint is unreachable', async () => {
    const store = await setup({ kind: 'keys', keys: [] });
    await server!.close();
    expect(await codeOf(store.getKey(first.kid))).toBe('signing_keys_unavailable');
  });

  it.each([
    ['never answers', { kind: 'hang' } as const],
    ['trickles its body forever', { kind: 'slow-body', intervalMs: 50 } as const],
  ])('gives up after the fetch timeout when the endpoint %s', async (_case, behaviour) => {
    const store = await setup(behaviour, { fetchTimeoutMs: 300 });
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => codeOf(store.getKey(first.kid))),
    );
    const elapsed = performance.now() - started;
    expect(new Set(results)).toEqual(new Set(['signing_keys_unavailable']));
    expect(server!.requests).toBe(1);
    // Bounded by the 300 ms timeout, which covers the body too (generous margin for CI).
    expect(elapsed).toBeLessThan(5_000);
  });

  it('refreshes stale keys in the background and keeps serving known keys if that fails', async () => {
    const store = await setup({ kind: 'keys', keys: [first.jwk] }, { refreshIntervalMs: 60_000 });
    await store.getKey(first.kid);
    server!.behaviour = { kind: 'status', status: 500 };
    clock += 61_000;
    expect(await codeOf(store.getKey(first.kid))).toBe('found');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server!.requests).toBe(2);
    expect(await codeOf(store.getKey(first.kid))).toBe('found');

    server!.behaviour = { kind: 'keys', keys: [second.jwk] };
    clock += 61_000;
    await store.getKey(first.kid);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server!.requests).toBe(3);
    expect(await codeOf(store.getKey(second.kid))).toBe('found');
  });
});
