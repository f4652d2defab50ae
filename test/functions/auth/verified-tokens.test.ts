/**
 * The cache of verified tokens: every rule of its security argument (verified-tokens.ts,
 * docs/token-validation.md), on a clock the test moves. A key lookup is what a full validation
 * costs first, so `lookups` tells a hit (no lookup) from a full validation.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { AuthError } from '../../../functions/auth/errors';
import { SigningKeyStore } from '../../../functions/auth/signing-keys';
import { TokenValidator } from '../../../functions/auth/token-validator';
import { MAX_VERIFIED_TOKENS, VerifiedTokenCache } from '../../../functions/auth/verified-tokens';
import { startJwksServer } from '../../support/jwks-server';
import {
  createTestKey,
  NOW_SECONDS,
  OTHER_OID,
  sign,
  StaticKeys,
  testConfig,
  TestKey,
  v2Claims,
} from '../../support/tokens';

const first = createTestKey();
const second = createTestKey();
let clock: number;
let keys: StaticKeys;
let validator: TokenValidator;

beforeEach(() => {
  clock = NOW_SECONDS * 1000;
  keys = new StaticKeys([first, second]);
  validator = new TokenValidator(testConfig(), keys, () => clock);
});

async function codeOf(token: string, v = validator): Promise<string> {
  try {
    await v.validate(`Bearer ${token}`);
    return 'accepted';
  } catch (error) {
    if (error instanceof AuthError) return error.code;
    throw error;
  }
}

const token = (claims: Record<string, unknown> = {}, key: TestKey = first) =>
  sign(v2Claims(claims), key);

describe('a repeated token', () => {
  it('is answered from the cache, with the caller of the first validation', async () => {
    const valid = token();
    const firstCaller = await validator.validate(`Bearer ${valid}`);
    expect(keys.lookups).toBe(1);
    const again = await validator.validate(`Bearer ${valid}`);
    expect(keys.lookups).toBe(1);
    expect(again).toEqual(firstCaller);
  });

  it('gives each request a caller of its own: a handler that changes one changes no other', async () => {
    const valid = token();
    const mine = await validator.validate(`Bearer ${valid}`);
    mine.expiresAt.setTime(0);
    expect(() => (mine.roles as string[]).push('Admin')).toThrow(TypeError);
    const next = await validator.validate(`Bearer ${valid}`);
    expect(next.expiresAt.getTime()).toBe((NOW_SECONDS + 3600) * 1000);
    expect(next.roles).toEqual(['Api.Invoke']);
  });

  it('is keyed by the exact token text: another token of the same caller is validated in full', async () => {
    await validator.validate(`Bearer ${token()}`);
    await validator.validate(`Bearer ${token({ uti: 'another' })}`);
    expect(keys.lookups).toBe(2);
  });
});

describe('a hit re-checks the clock with the configured skew', () => {
  it('refuses a cached token once exp plus the skew has passed, and forgets it', async () => {
    const valid = token({ exp: NOW_SECONDS + 60 });
    expect(await codeOf(valid)).toBe('accepted');
    clock = (NOW_SECONDS + 60 + 299) * 1000;
    expect(await codeOf(valid)).toBe('accepted');
    expect(keys.lookups).toBe(1);
    clock = (NOW_SECONDS + 60 + 300) * 1000;
    expect(await codeOf(valid)).toBe('token_expired');
    expect(await codeOf(valid)).toBe('token_expired');
    // The second refusal was a full validation: the entry was dropped.
    expect(keys.lookups).toBe(2);
  });

  it('refuses a cached token before nbf minus the skew (a clock set back)', async () => {
    const valid = token({ nbf: NOW_SECONDS + 200 });
    expect(await codeOf(valid)).toBe('accepted');
    clock = (NOW_SECONDS - 101) * 1000;
    expect(await codeOf(valid)).toBe('token_not_yet_valid');
  });

  it('applies a skew of zero exactly', async () => {
    const strict = new TokenValidator(testConfig({ clockSkewSeconds: 0 }), keys, () => clock);
    const valid = token({ exp: NOW_SECONDS + 10 });
    expect(await codeOf(valid, strict)).toBe('accepted');
    clock = (NOW_SECONDS + 10) * 1000;
    expect(await codeOf(valid, strict)).toBe('token_expired');
  });
});

describe('a hit re-checks the signing key', () => {
  it('evicts the entries of a key that a refresh drops', async () => {
    const valid = token();
    const other = token({}, second);
    expect(await codeOf(valid)).toBe('accepted');
    expect(await codeOf(other)).toBe('accepted');
    keys.publish([second]);
    expect(await codeOf(valid)).toBe('unknown_signing_key');
    expect(await codeOf(other)).toBe('accepted');
    expect(keys.lookups).toBe(3);
  });

  it('evicts on the announcement alone, without relying on the check at the hit', async () => {
    // A provider whose currentKey() would let every hit through: only the eviction stops it.
    class Announcing extends StaticKeys {
      override currentKey(): typeof first.publicKey {
        return first.publicKey;
      }
    }
    const announcing = new Announcing([first]);
    const v = new TokenValidator(testConfig(), announcing, () => clock);
    const valid = token();
    expect(await codeOf(valid, v)).toBe('accepted');
    announcing.publish([second]);
    expect(await codeOf(valid, v)).toBe('unknown_signing_key');
  });

  it('does not answer from the cache when the key is gone, even unannounced', async () => {
    const valid = token();
    expect(await codeOf(valid)).toBe('accepted');
    keys.publish([second], { notify: false });
    expect(await codeOf(valid)).toBe('unknown_signing_key');
  });

  it('forgets a token whose key went unannounced, so that it is checked in full if the key returns', async () => {
    const valid = token();
    expect(await codeOf(valid)).toBe('accepted');
    keys.publish([second], { notify: false });
    expect(await codeOf(valid)).toBe('unknown_signing_key');
    keys.publish([first, second], { notify: false });
    expect(await codeOf(valid)).toBe('accepted');
    // As after an announced change: the entry is gone and the return costs a full validation.
    expect(keys.lookups).toBe(3);
  });

  it('validates in full when another key is published under the same kid', async () => {
    const valid = token();
    expect(await codeOf(valid)).toBe('accepted');
    const impostor = { ...createTestKey(), kid: first.kid };
    keys.publish([impostor, second]);
    expect(await codeOf(valid)).toBe('invalid_signature');
  });
});

describe('only successful validations are cached', () => {
  it.each([
    ['a caller not allowed', () => token({ oid: OTHER_OID }), 'caller_not_allowed'],
    ['a bad signature', () => sign(v2Claims(), second, { kid: first.kid }), 'invalid_signature'],
    [
      'an expired token',
      () => token({ exp: NOW_SECONDS - 3600, nbf: NOW_SECONDS - 7200 }),
      'token_expired',
    ],
    ['a missing role', () => token({ roles: [] }), 'missing_role'],
  ])('%s is validated in full every time', async (_case, make, code) => {
    const refused = make();
    expect(await codeOf(refused)).toBe(code);
    expect(await codeOf(refused)).toBe(code);
    expect(keys.lookups).toBe(2);
  });
});

describe('the index', () => {
  it('answers only the exact token, even for one that shares the indexed suffix', () => {
    const cache = new VerifiedTokenCache();
    const caller = Object.freeze({}) as never;
    const entry = { kid: 'k', key: first.publicKey, notBefore: -Infinity, expires: 0, caller };
    const suffix = 'S'.repeat(40);
    cache.set(`one.${suffix}`, entry);
    expect(cache.get(`one.${suffix}`)).toBeDefined();
    expect(cache.get(`two.${suffix}`)).toBeUndefined();
    cache.delete(`two.${suffix}`);
    expect(cache.get(`one.${suffix}`)).toBeDefined();
    // A second token with the same suffix displaces the first; neither answers for the other.
    cache.set(`two.${suffix}`, entry);
    expect(cache.get(`one.${suffix}`)).toBeUndefined();
    expect(cache.get(`two.${suffix}`)).toBeDefined();
  });

  it('forgets nothing when asked to forget a token it never held', () => {
    const cache = new VerifiedTokenCache();
    const caller = Object.freeze({}) as never;
    cache.set('held', { kid: 'k', key: first.publicKey, notBefore: -Infinity, expires: 0, caller });
    cache.delete('never held');
    expect(cache.size).toBe(1);
    expect(cache.get('held')).toBeDefined();
  });

  it('does not answer a token that differs from a cached one in its first character', async () => {
    const valid = token();
    expect(await codeOf(valid)).toBe('accepted');
    const altered = `${valid[0] === 'e' ? 'f' : 'e'}${valid.slice(1)}`;
    expect(await codeOf(altered)).toBe('malformed_token');
  });
});

describe('the bound', () => {
  it(`keeps at most ${MAX_VERIFIED_TOKENS} entries, the least recently used out first`, () => {
    const cache = new VerifiedTokenCache(2);
    const entry = { kid: 'k', key: first.publicKey, notBefore: -Infinity, expires: 0 } as const;
    const caller = Object.freeze({}) as never;
    cache.set('a', { ...entry, caller });
    cache.set('b', { ...entry, caller });
    expect(cache.get('a')).toBeDefined();
    cache.set('c', { ...entry, caller });
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('retains only entries whose key is still published under their kid', () => {
    const cache = new VerifiedTokenCache();
    const caller = Object.freeze({}) as never;
    const base = { notBefore: -Infinity, expires: 0, caller } as const;
    cache.set('a', { ...base, kid: first.kid, key: first.publicKey });
    cache.set('b', { ...base, kid: second.kid, key: second.publicKey });
    cache.set('c', { ...base, kid: second.kid, key: first.publicKey });
    cache.retainSignedBy(new Map([[second.kid, second.publicKey]]));
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map(Boolean)).toEqual([
      false,
      true,
      false,
    ]);
  });

  it('the validator forgets the oldest token beyond the bound', async () => {
    const tokens = Array.from({ length: MAX_VERIFIED_TOKENS + 1 }, (_, i) =>
      token({ uti: `t${i}` }),
    );
    for (const each of tokens) expect(await codeOf(each)).toBe('accepted');
    expect(keys.lookups).toBe(MAX_VERIFIED_TOKENS + 1);
    expect(await codeOf(tokens.at(-1)!)).toBe('accepted');
    expect(keys.lookups).toBe(MAX_VERIFIED_TOKENS + 1);
    expect(await codeOf(tokens[0]!)).toBe('accepted');
    expect(keys.lookups).toBe(MAX_VERIFIED_TOKENS + 2);
  });
});

describe('with the real key store', () => {
  it('a refresh from the JWKS that drops a key evicts what it signed', async () => {
    const server = await startJwksServer({ kind: 'keys', keys: [first.jwk, second.jwk] });
    try {
      const store = new SigningKeyStore({
        jwksUri: server.url,
        now: () => clock,
        refreshIntervalMs: 60_000,
      });
      const real = new TokenValidator(testConfig(), store, () => clock);
      const valid = token();
      expect(await codeOf(valid, real)).toBe('accepted');
      expect(await codeOf(valid, real)).toBe('accepted');
      expect(server.requests).toBe(1);

      server.behaviour = { kind: 'keys', keys: [second.jwk] };
      clock += 61_000;
      // A hit on stale keys starts a refresh in the background and is answered meanwhile.
      expect(await codeOf(valid, real)).toBe('accepted');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(server.requests).toBe(2);
      expect(await codeOf(valid, real)).toBe('unknown_signing_key');
    } finally {
      await server.close();
    }
  });
});
