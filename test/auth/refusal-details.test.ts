/**
 * What a refusal tells the client (its message becomes the problem `detail` and the
 * `error_description` of the challenge) and what it keeps for debugging (the library error as
 * `cause`). The messages are part of the API: each says which check failed, and none holds the
 * token or an expected value.
 */
import jwt from 'jsonwebtoken';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../functions/auth/errors';
import { TokenValidator } from '../../functions/auth/token-validator';
import {
  createTestKey,
  NOW_SECONDS,
  OTHER_OID,
  OTHER_TENANT,
  rawToken,
  sign,
  StaticKeys,
  testConfig,
  TestKey,
  v2Claims,
} from '../support/tokens';

let key: TestKey;
let stranger: TestKey;

beforeAll(() => {
  key = createTestKey();
  stranger = createTestKey();
});

async function refusal(authorization: string): Promise<AuthError> {
  const validator = new TokenValidator(
    testConfig(),
    new StaticKeys([key]),
    () => NOW_SECONDS * 1000,
  );
  try {
    await validator.validate(authorization);
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

const bearer = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  `Bearer ${sign(v2Claims(claims), key, header)}`;
const header = (value: string) => Buffer.from(value).toString('base64url');

describe('refusal messages', () => {
  it.each<[string, () => string, string, string]>([
    ['no header', () => '', 'missing_token', 'A bearer token is required.'],
    ['another scheme', () => 'Basic dXNlcg==', 'missing_token', 'A bearer token is required.'],
    [
      'a header over the cap',
      () => `Basic ${'a'.repeat(9_000)}`,
      'token_too_large',
      'The token is too large.',
    ],
    [
      'a token over the cap',
      () => `Bearer ${'a'.repeat(8_193)}`,
      'token_too_large',
      'The token is too large.',
    ],
    [
      'two credentials',
      () => 'Bearer a, Bearer b',
      'malformed_token',
      'The Authorization header must hold exactly one bearer token.',
    ],
    [
      'not compact form',
      () => 'Bearer abc',
      'malformed_token',
      'The token is not a signed JWT in compact form.',
    ],
    [
      'a header that is not JSON',
      () => `Bearer ${header('{')}.e30.c2ln`,
      'malformed_token',
      'The token header is not valid JSON.',
    ],
    [
      'a header that is not an object',
      () => `Bearer ${header('"RS256"')}.e30.c2ln`,
      'malformed_token',
      'The token header is not a JSON object.',
    ],
    [
      'another algorithm',
      () => `Bearer ${rawToken({ alg: 'HS256', kid: 'k' }, {}, 'c2ln')}`,
      'unsupported_algorithm',
      'The token must be signed with RS256.',
    ],
    [
      'a crit header',
      () => `Bearer ${rawToken({ alg: 'RS256', kid: 'k', crit: ['x'] }, {}, 'c2ln')}`,
      'malformed_token',
      'The token header has critical extensions.',
    ],
    [
      'no kid',
      () => `Bearer ${rawToken({ alg: 'RS256' }, {}, 'c2ln')}`,
      'missing_key_id',
      'The token header has no key id (kid).',
    ],
    [
      'a forged signature',
      () => `Bearer ${sign(v2Claims(), stranger, { kid: key.kid })}`,
      'invalid_signature',
      'The token signature is invalid.',
    ],
    [
      'a payload that is not JSON',
      () => {
        const [h, , s] = sign(v2Claims(), key).split('.');
        return `Bearer ${h}.${header('not json')}.${s}`;
      },
      'malformed_token',
      'The token could not be verified.',
    ],
    [
      'another issuer',
      () => bearer({ iss: 'https://x/' }),
      'invalid_issuer',
      'The token issuer is not accepted.',
    ],
    [
      'another audience',
      () => bearer({ aud: 'x' }),
      'invalid_audience',
      'The token audience is not accepted.',
    ],
    [
      'expired',
      () => bearer({ exp: NOW_SECONDS - 3600 }),
      'token_expired',
      'The token has expired.',
    ],
    [
      'not yet valid',
      () => bearer({ nbf: NOW_SECONDS + 3600 }),
      'token_not_yet_valid',
      'The token is not valid yet.',
    ],
    [
      'no exp',
      () => bearer({ exp: undefined }),
      'missing_claim',
      'The token has no usable expiry (exp).',
    ],
    [
      'no ver',
      () => bearer({ ver: undefined }),
      'missing_claim',
      'The token has no known version (ver).',
    ],
    [
      'another tenant',
      () => bearer({ tid: OTHER_TENANT }),
      'invalid_tenant',
      'The token was issued by another tenant.',
    ],
    [
      'a delegated token',
      () => bearer({ scp: 'x' }),
      'delegated_token',
      'Tokens issued on behalf of a user are not accepted.',
    ],
    [
      'no oid',
      () => bearer({ oid: undefined }),
      'missing_claim',
      'The token has no caller object id (oid).',
    ],
    [
      'another caller',
      () => bearer({ oid: OTHER_OID }),
      'caller_not_allowed',
      'The caller is not allowed to call this API.',
    ],
    [
      'another client',
      () => bearer({ azp: OTHER_OID }),
      'client_not_allowed',
      'The calling application is not allowed.',
    ],
    [
      'no role',
      () => bearer({ roles: [] }),
      'missing_role',
      'The caller lacks the required app role.',
    ],
  ])('%s → %s: "%s"', async (_case, authorization, code, message) => {
    const error = await refusal(authorization());
    expect({ code: error.code, message: error.message }).toEqual({ code, message });
  });
});

describe('causes', () => {
  it.each<[string, () => string, new (...args: never[]) => Error]>([
    ['token_expired', () => bearer({ exp: NOW_SECONDS - 3600 }), jwt.TokenExpiredError],
    ['token_not_yet_valid', () => bearer({ nbf: NOW_SECONDS + 3600 }), jwt.NotBeforeError],
    ['invalid_issuer', () => bearer({ iss: 'https://x/' }), jwt.JsonWebTokenError],
    ['invalid_audience', () => bearer({ aud: 'x' }), jwt.JsonWebTokenError],
    [
      'invalid_signature',
      () => `Bearer ${sign(v2Claims(), stranger, { kid: key.kid })}`,
      jwt.JsonWebTokenError,
    ],
    [
      'malformed_token',
      () => {
        const [h, , s] = sign(v2Claims(), key).split('.');
        return `Bearer ${h}.${header('not json')}.${s}`;
      },
      SyntaxError,
    ],
  ])('keeps the library error behind %s as its cause', async (code, authorization, type) => {
    const error = await refusal(authorization());
    expect(error.code).toBe(code);
    expect(error.cause).toBeInstanceOf(type);
  });

  it('has no cause for a refusal of its own', async () => {
    const error = await refusal(bearer({ oid: OTHER_OID }));
    expect(error.cause).toBeUndefined();
  });
});
