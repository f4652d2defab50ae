/**
 * Which published keys the signing key store keeps: RSA keys of at least 2048 bits, with a `kid`,
 * for RS256 (or without an `alg`). Anything else is ignored; a key set in which jwks-rsa finds no
 * signing key at all is a failed fetch (503), not an unknown key (401).
 */
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../functions/auth/errors';
import { SigningKeyStore } from '../../../functions/auth/signing-keys';
import { JwksServer, startJwksServer } from '../../support/jwks-server';
import { createTestKey, TestKey } from '../../support/tokens';
import type * as Libraries from '../../../functions/auth/libraries';
import type * as SigningKeys from '../../../functions/auth/signing-keys';

let good: TestKey;
let other: TestKey;
let weak: TestKey;
let server: JwksServer | undefined;

beforeAll(() => {
  good = createTestKey();
  other = createTestKey();
  weak = createTestKey(1024);
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function lookUp(published: Record<string, unknown>[], kid: string): Promise<string> {
  await server?.close();
  server = await startJwksServer({ kind: 'keys', keys: published });
  const store = new SigningKeyStore({ jwksUri: server.url, now: () => 1_000_000 });
  try {
    const key = await store.getKey(kid);
    return key.asymmetricKeyType === 'rsa' ? 'found' : 'wrong key type';
  } catch (error) {
    if (error instanceof AuthError) return error.code;
    throw error;
  }
}

function ecJwk(kid: string): Record<string, unknown> {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...publicKey.export({ format: 'jwk' }), use: 'sig', kid };
}

describe('signing key selection', () => {
  it.each([
    ['without an alg', {}, 'found'],
    ['for RS256', { alg: 'RS256' }, 'found'],
    ['for RS512', { alg: 'RS512' }, 'unknown_signing_key'],
    ['for PS256', { alg: 'PS256' }, 'unknown_signing_key'],
    ['for rs256 (algorithm names are case-sensitive)', { alg: 'rs256' }, 'unknown_signing_key'],
  ])('an RSA key %s → %s', async (_case, change, expected) => {
    // A good key is published beside it, so the fetch itself succeeds.
    expect(await lookUp([{ ...other.jwk, ...change }, good.jwk], other.kid)).toBe(expected);
  });

  it('keeps a 2048-bit key and ignores a 1024-bit one', async () => {
    expect(await lookUp([weak.jwk, good.jwk], good.kid)).toBe('found');
    expect(await lookUp([weak.jwk, good.jwk], weak.kid)).toBe('unknown_signing_key');
  });

  it('ignores an EC key, even one that claims RS256', async () => {
    expect(await lookUp([ecJwk('ec'), good.jwk], 'ec')).toBe('unknown_signing_key');
    expect(await lookUp([{ ...ecJwk('ec'), alg: 'RS256' }, good.jwk], 'ec')).toBe(
      'unknown_signing_key',
    );
  });

  it.each([
    ['use "sig"', { use: 'sig' }, 'found'],
    ['without a use', { use: undefined }, 'found'],
    ['for encryption (use "enc")', { use: 'enc' }, 'unknown_signing_key'],
    ['with key_ops holding verify', { key_ops: ['verify'] }, 'found'],
    ['with key_ops for signing only', { key_ops: ['sign'] }, 'unknown_signing_key'],
    ['with key_ops a string, not a list', { key_ops: 'verify' }, 'unknown_signing_key'],
    ['with a kid that is not a string', { kid: 42 }, 'unknown_signing_key'],
  ])('an RSA key %s → %s', async (_case, change, expected) => {
    const published = { ...other.jwk, ...change };
    expect(await lookUp([published, good.jwk], other.kid)).toBe(expected);
  });

  it('ignores a published private key (one with d)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const priv = { ...privateKey.export({ format: 'jwk' }), kid: 'private', use: 'sig' };
    expect(await lookUp([priv, good.jwk], 'private')).toBe('unknown_signing_key');
  });

  it('answers 503 for a key set with a null entry: jwks-rsa cannot read it', async () => {
    // jwks-rsa 4.1.0 reads each entry's `use` and `kty` by destructuring, which throws on null.
    expect(await lookUp([null as never, good.jwk], good.kid)).toBe('signing_keys_unavailable');
  });

  it.each([
    ['a number', 42],
    ['a list', ['RSA']],
    ['an RSA key Node cannot import (no exponent)', { kty: 'RSA', n: 'AA', kid: 'broken' }],
  ])('skips an entry that is %s and keeps the good keys', async (_case, entry) => {
    expect(await lookUp([entry as never, good.jwk], good.kid)).toBe('found');
  });

  it.each([
    ['only a 1024-bit key', () => [weak.jwk]],
    ['only a key for RS512', () => [{ ...good.jwk, alg: 'RS512' }]],
    ['only an EC key', () => [ecJwk(good.kid)]],
    ['only a key without a kid', () => [{ ...good.jwk, kid: undefined }]],
    ['only a key with an empty kid', () => [{ ...good.jwk, kid: '' }]],
  ])(
    'refuses the token of a key set with %s as signed by an unknown key',
    async (_case, published) => {
      // jwks-rsa looks up the token's kid; the key it finds (or not) is refused, not the whole set.
      expect(await lookUp(published(), good.kid)).toBe('unknown_signing_key');
    },
  );

  it.each([
    ['an empty key set', []],
    ['only a symmetric key', [{ kty: 'oct', k: 'c2VjcmV0', kid: 'x' }]],
    ['only an encryption key', [{ kty: 'RSA', use: 'enc', kid: 'x' }]],
  ])('answers 503 for %s: jwks-rsa finds no signing key in it', async (_case, published) => {
    expect(await lookUp(published, good.kid)).toBe('signing_keys_unavailable');
  });

  it('refuses a key that is not RSA even at 2048 bits, should jwks-rsa hand one out (RSA-PSS)', async () => {
    // jwks-rsa 4.1.0 imports a JWK without alg as RS256, so only a stand-in for it can hand out an
    // RSA-PSS key with no alg: the store's own type check is what refuses it, not the size check.
    const pem = (type: 'rsa' | 'rsa-pss') =>
      generateKeyPairSync(type as 'rsa', { modulusLength: 2048 }).publicKey.export({
        type: 'spki',
        format: 'pem',
      });
    const published: Record<string, string | Buffer> = { rsa: pem('rsa'), pss: pem('rsa-pss') };
    class StandInClient {
      getSigningKey(kid: string) {
        return Promise.resolve({ kid, getPublicKey: () => published[kid] });
      }
    }
    const auth = path.resolve(__dirname, '../../../functions/auth');
    const libraries = path.join(auth, 'libraries.ts');
    vi.resetModules();
    vi.doMock(libraries, async (original) => ({
      ...(await original<typeof Libraries>()),
      JwksClient: StandInClient,
    }));
    try {
      const signingKeys = path.join(auth, 'signing-keys.ts');
      const { SigningKeyStore: Store } = (await import(signingKeys)) as typeof SigningKeys;
      const store = new Store({ jwksUri: 'https://keys.invalid/', unknownKeyCooldownMs: 0 });
      const codeOf = (kid: string) =>
        store.getKey(kid).then(
          (key) => key.asymmetricKeyType,
          (error: { code?: string }) => error.code,
        );
      expect(await codeOf('rsa')).toBe('rsa');
      expect(await codeOf('pss')).toBe('unknown_signing_key');
    } finally {
      vi.doUnmock(libraries);
      vi.resetModules();
    }
  });
});
