/**
 * The signature check fails closed: when Node's `crypto.verify` throws instead of answering (a
 * key it cannot use for RSASSA-PKCS1-v1_5 with SHA-256), the token is refused as an invalid
 * signature, never accepted and never a 500.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../functions/auth/errors';
import type { SigningKeyProvider } from '../../../functions/auth/signing-keys';
import { TokenValidator } from '../../../functions/auth/token-validator';
import { createTestKey, NOW_SECONDS, sign, testConfig, v2Claims } from '../../support/tokens';

/** A provider that answers every kid with one fixed key, whatever its type. */
function keysAnswering(key: KeyObject): SigningKeyProvider {
  return {
    getKey: () => Promise.resolve(key),
  };
}

async function refusal(validator: TokenValidator, token: string): Promise<string> {
  try {
    await validator.validate(`Bearer ${token}`);
  } catch (error) {
    if (error instanceof AuthError) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('the signature check', () => {
  it('refuses a token when verification throws (an Ed25519 key cannot verify RS256)', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const token = sign(v2Claims(), createTestKey());
    const validator = new TokenValidator(
      testConfig(),
      keysAnswering(publicKey),
      () => NOW_SECONDS * 1000,
    );
    await expect(refusal(validator, token)).resolves.toBe('invalid_signature');
  });

  it('accepts the same token with the key that signed it (the case above fails on the key alone)', async () => {
    const key = createTestKey();
    const token = sign(v2Claims(), key);
    const validator = new TokenValidator(
      testConfig(),
      keysAnswering(key.publicKey),
      () => NOW_SECONDS * 1000,
    );
    await expect(refusal(validator, token)).resolves.toBe('accepted');
  });
});
