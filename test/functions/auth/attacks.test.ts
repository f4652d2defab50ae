import { createHmac, createSign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthError, AuthErrorCode } from '../../../functions/auth/errors';
import { MAX_TOKEN_LENGTH, TokenValidator } from '../../../functions/auth/token-validator';
import {
  createTestKey,
  NOW_SECONDS,
  rawToken,
  sign,
  StaticKeys,
  testConfig,
  TestKey,
  v2Claims,
} from '../../support/tokens';

let key: TestKey;
let stranger: TestKey;
let keys: StaticKeys;
let valid: string;

beforeAll(() => {
  key = createTestKey();
  stranger = createTestKey();
  valid = sign(v2Claims(), key);
});

function validator() {
  keys = new StaticKeys([key]);
  return new TokenValidator(testConfig(), keys, () => NOW_SECONDS * 1000);
}

async function refusal(authorization: string | null): Promise<AuthError> {
  try {
    await validator().validate(authorization);
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

const parts = (token: string) => token.split('.') as [string, string, string];
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('attacks', () => {
  const cases: [string, () => string | null, AuthErrorCode, boolean][] = [
    // [case, Authorization header, expected code, whether the key is looked up (exactly once) or not at all]
    [
      'alg none, no signature',
      () => `Bearer ${rawToken({ alg: 'none', kid: key.kid }, v2Claims())}`,
      'malformed_token',
      false,
    ],
    [
      'alg none, with a signature',
      () => `Bearer ${rawToken({ alg: 'none', kid: key.kid }, v2Claims(), 'c2ln')}`,
      'unsupported_algorithm',
      false,
    ],
    [
      'alg "None" (case games)',
      () => `Bearer ${rawToken({ alg: 'None', kid: key.kid }, v2Claims(), 'c2ln')}`,
      'unsupported_algorithm',
      false,
    ],
    [
      'HS256 signed with the public key',
      () => {
        const pem = key.publicKey.export({ format: 'pem', type: 'spki' });
        const head = b64({ alg: 'HS256', typ: 'JWT', kid: key.kid });
        const body = b64(v2Claims());
        const mac = createHmac('sha256', pem).update(`${head}.${body}`).digest('base64url');
        return `Bearer ${head}.${body}.${mac}`;
      },
      'unsupported_algorithm',
      false,
    ],
    [
      'RS512',
      () => `Bearer ${rawToken({ alg: 'RS512', kid: key.kid }, v2Claims(), 'c2ln')}`,
      'unsupported_algorithm',
      false,
    ],
    [
      'ES256',
      () => `Bearer ${rawToken({ alg: 'ES256', kid: key.kid }, v2Claims(), 'c2ln')}`,
      'unsupported_algorithm',
      false,
    ],
    [
      'missing kid',
      () => `Bearer ${sign(v2Claims(), key, { kid: undefined })}`,
      'missing_key_id',
      false,
    ],
    ['empty kid', () => `Bearer ${sign(v2Claims(), key, { kid: '' })}`, 'missing_key_id', false],
    [
      'kid not a string',
      () => `Bearer ${rawToken({ alg: 'RS256', kid: 42 }, v2Claims(), 'c2ln')}`,
      'missing_key_id',
      false,
    ],
    [
      'oversized kid',
      () => `Bearer ${rawToken({ alg: 'RS256', kid: 'k'.repeat(300) }, v2Claims(), 'c2ln')}`,
      'missing_key_id',
      false,
    ],
    [
      'critical header extension',
      () => `Bearer ${sign(v2Claims(), key, { crit: ['exp'] })}`,
      'malformed_token',
      false,
    ],
    ['unknown kid', () => `Bearer ${sign(v2Claims(), stranger)}`, 'unknown_signing_key', true],
    [
      'signed by a stranger under our kid',
      () => `Bearer ${sign(v2Claims(), stranger, { kid: key.kid })}`,
      'invalid_signature',
      true,
    ],
    [
      'tampered payload (a role added)',
      () => {
        const [h, , s] = parts(valid);
        return `Bearer ${h}.${b64(v2Claims({ roles: ['Api.Invoke', 'Admin'] }))}.${s}`;
      },
      'invalid_signature',
      true,
    ],
    [
      'tampered signature',
      () => {
        const [h, p, s] = parts(valid);
        const flipped = Buffer.from(s, 'base64url');
        flipped[0] = (flipped[0] ?? 0) ^ 0xff;
        return `Bearer ${h}.${p}.${flipped.toString('base64url')}`;
      },
      'invalid_signature',
      true,
    ],
    [
      'signature of another token',
      () => {
        const other = sign(v2Claims({ exp: NOW_SECONDS + 7200 }), key);
        const [h, p] = parts(valid);
        return `Bearer ${h}.${p}.${parts(other)[2]}`;
      },
      'invalid_signature',
      true,
    ],
    [
      'header swapped after signing (RS256 → kid of another key)',
      () => {
        const [, p, s] = parts(valid);
        return `Bearer ${b64({ alg: 'RS256', typ: 'JWT', kid: key.kid, x: 1 })}.${p}.${s}`;
      },
      'invalid_signature',
      true,
    ],
    [
      'payload not JSON',
      () => {
        const head = b64({ alg: 'RS256', typ: 'JWT', kid: key.kid });
        const body = Buffer.from('not json').toString('base64url');
        const signature = createSign('RSA-SHA256')
          .update(`${head}.${body}`)
          .sign(key.privateKey, 'base64url');
        return `Bearer ${head}.${body}.${signature}`;
      },
      'malformed_token',
      false,
    ],
    [
      'expired',
      () => `Bearer ${sign(v2Claims({ exp: NOW_SECONDS - 3600, nbf: NOW_SECONDS - 7200 }), key)}`,
      'token_expired',
      true,
    ],
    [
      'not yet valid',
      () => `Bearer ${sign(v2Claims({ nbf: NOW_SECONDS + 3600 }), key)}`,
      'token_not_yet_valid',
      true,
    ],
    [
      'delegated token',
      () => `Bearer ${sign(v2Claims({ scp: 'access_as_user' }), key)}`,
      'delegated_token',
      true,
    ],
    ['missing role', () => `Bearer ${sign(v2Claims({ roles: [] }), key)}`, 'missing_role', true],
    ['no header', () => null, 'missing_token', false],
    ['empty header', () => '', 'missing_token', false],
    ['Basic scheme', () => 'Basic dXNlcjpwYXNz', 'missing_token', false],
    ['token without scheme', () => valid, 'missing_token', false],
    ['scheme only', () => 'Bearer', 'malformed_token', false],
    ['scheme and blanks', () => 'Bearer    ', 'malformed_token', false],
    ['two tokens', () => `Bearer ${valid} ${valid}`, 'malformed_token', false],
    [
      'two credentials joined by a comma',
      () => `Bearer ${valid}, Bearer ${valid}`,
      'malformed_token',
      false,
    ],
    [
      'two parts only',
      () => `Bearer ${parts(valid)[0]}.${parts(valid)[1]}`,
      'malformed_token',
      false,
    ],
    ['four parts', () => `Bearer ${valid}.x`, 'malformed_token', false],
    ['header not base64url', () => `Bearer +/=${valid}`, 'malformed_token', false],
    [
      'payload not base64url',
      () => `Bearer ${valid.replace('.', '.+/=')}`,
      'malformed_token',
      false,
    ],
    [
      'header not JSON',
      () => `Bearer ${Buffer.from('{').toString('base64url')}.e30.c2ln`,
      'malformed_token',
      false,
    ],
    ['header a JSON array', () => `Bearer ${b64(['RS256'])}.e30.c2ln`, 'malformed_token', false],
    ['garbage', () => 'Bearer !!!', 'malformed_token', false],
    [
      'oversized token',
      () => `Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`,
      'token_too_large',
      false,
    ],
    ['oversized header', () => `Bearer ${'a'.repeat(1024 * 1024)}`, 'token_too_large', false],
  ];

  const table = cases.map(([name, header, expected, looksUp]) => ({
    name,
    header,
    expected,
    looksUp,
  }));
  // Both columns are exact: a token refused before the key lookup costs no JWKS fetch, and one
  // refused after it was refused by the signature or a claim, not by its form.
  it.each(table)('$name → $expected', async ({ header, expected, looksUp }) => {
    const error = await refusal(header());
    expect(error.code).toBe(expected);
    expect(keys.lookups).toBe(looksUp ? 1 : 0);
  });

  it('accepts the untampered token, so every refusal above is about the attack', async () => {
    await expect(validator().validate(`Bearer ${valid}`)).resolves.toMatchObject({
      tokenVersion: '2.0',
    });
  });

  it('never puts token text into the error message', async () => {
    const tokens = cases
      .map(([, header]) => header())
      .flatMap((value) => {
        const token = value?.split(' ')[1];
        return token !== undefined && token.length > 10 ? [{ value, token }] : [];
      });
    expect(tokens.length).toBeGreaterThan(5);
    for (const { value, token } of tokens) {
      const error = await refusal(value);
      expect(error.message).not.toContain(token.slice(0, 10));
    }
  });
});
