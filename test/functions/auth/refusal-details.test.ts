/**
 * What a refusal tells the client (its message becomes the problem `detail` and the
 * `error_description` of the challenge) and which claim or header parameter it names. The
 * messages are part of the API: each says which check failed, and none holds the token or an
 * expected value.
 */
import { createSign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../../functions/auth/errors';
import { TokenValidator } from '../../../functions/auth/token-validator';
import {
  createTestKey,
  NOW_SECONDS,
  OTHER_OID,
  OTHER_TENANT,
  sign,
  StaticKeys,
  testConfig,
  TestKey,
  v1Claims,
  v2Claims,
} from '../../support/tokens';

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

/** Signs any claims as they are, even ones jsonwebtoken refuses to sign (a non-numeric exp). */
function signAsIs(claims: Record<string, unknown>): string {
  const input = `${header(JSON.stringify({ alg: 'RS256', kid: key.kid }))}.${header(JSON.stringify(claims))}`;
  return `Bearer ${input}.${createSign('RSA-SHA256').update(input).sign(key.privateKey, 'base64url')}`;
}
const bearer = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  `Bearer ${sign(v2Claims(claims), key, header)}`;
const header = (value: string) => Buffer.from(value).toString('base64url');

const raw = (headerText: string, payloadText: string, signature = 'c2ln') =>
  `Bearer ${header(headerText)}.${header(payloadText)}.${signature}`;
const goodHeader = () => JSON.stringify({ alg: 'RS256', kid: key.kid });
const goodPayload = () => JSON.stringify(v2Claims());

type Row = [string, () => string, string, string, string | undefined];

describe('refusal messages and claims', () => {
  const form: Row[] = [
    ['no header', () => '', 'missing_token', 'A bearer token is required.', undefined],
    [
      'another scheme',
      () => 'Basic dXNlcg==',
      'missing_token',
      'A bearer token is required.',
      undefined,
    ],
    [
      'a header over the cap',
      () => `Basic ${'a'.repeat(9_000)}`,
      'token_too_large',
      'The token is too large.',
      undefined,
    ],
    [
      'a token over the cap',
      () => `Bearer ${'a'.repeat(8_193)}`,
      'token_too_large',
      'The token is too large.',
      undefined,
    ],
    [
      'the scheme alone',
      () => 'Bearer',
      'malformed_token',
      'The Authorization header must hold exactly one bearer token.',
      undefined,
    ],
    [
      'the scheme and spaces',
      () => 'Bearer   ',
      'malformed_token',
      'The Authorization header must hold exactly one bearer token.',
      undefined,
    ],
    [
      'not compact form',
      () => 'Bearer abc',
      'malformed_token',
      'The token is not a signed JWT in compact form.',
      undefined,
    ],
    [
      'a header not in canonical base64url',
      () => `Bearer ${header(goodHeader())}=.e30.c2ln`,
      'malformed_token',
      'The token header is not canonical base64url.',
      undefined,
    ],
    [
      'a header that is not UTF-8',
      () => `Bearer ${Buffer.from([0xff]).toString('base64url')}.e30.c2ln`,
      'malformed_token',
      'The token header is not valid UTF-8.',
      undefined,
    ],
    [
      'a header that is not JSON',
      () => raw('{', goodPayload()),
      'malformed_token',
      'The token header is not valid JSON.',
      undefined,
    ],
    [
      'a header that is not an object',
      () => raw('"RS256"', goodPayload()),
      'malformed_token',
      'The token header is not a JSON object.',
      undefined,
    ],
    [
      'another algorithm',
      () => raw(JSON.stringify({ alg: 'HS256', kid: 'k' }), goodPayload()),
      'unsupported_algorithm',
      'The token must be signed with RS256.',
      'alg',
    ],
    [
      'a crit header',
      () => raw(JSON.stringify({ alg: 'RS256', kid: 'k', crit: ['x'] }), goodPayload()),
      'malformed_token',
      'The token header has critical extensions.',
      'crit',
    ],
    [
      'no kid',
      () => raw(JSON.stringify({ alg: 'RS256' }), goodPayload()),
      'missing_key_id',
      'The token header has no key id (kid).',
      'kid',
    ],
    [
      'a signature not in canonical base64url',
      () => raw(goodHeader(), goodPayload(), 'c2l+'),
      'malformed_token',
      'The token signature is missing or not canonical base64url.',
      undefined,
    ],
    [
      'a payload not in canonical base64url',
      () => `Bearer ${header(goodHeader())}.e30=.c2ln`,
      'malformed_token',
      'The token payload is not canonical base64url.',
      undefined,
    ],
    [
      'a payload that is not UTF-8',
      () => `Bearer ${header(goodHeader())}.${Buffer.from([0xff]).toString('base64url')}.c2ln`,
      'malformed_token',
      'The token payload is not valid UTF-8.',
      undefined,
    ],
    [
      'a payload that is not JSON',
      () => raw(goodHeader(), 'not json'),
      'malformed_token',
      'The token payload is not valid JSON.',
      undefined,
    ],
    [
      'a payload that is not an object',
      () => raw(goodHeader(), '[]'),
      'malformed_token',
      'The token payload is not a JSON object.',
      undefined,
    ],
    [
      'a forged signature',
      () => `Bearer ${sign(v2Claims(), stranger, { kid: key.kid })}`,
      'invalid_signature',
      'The token signature is invalid.',
      undefined,
    ],
  ];
  const claims: Row[] = [
    [
      'nbf not a number',
      () => signAsIs(v2Claims({ nbf: 'soon' })),
      'malformed_token',
      'The token claim nbf is not a number.',
      'nbf',
    ],
    [
      'exp not a number',
      () => signAsIs(v2Claims({ exp: 'later' })),
      'malformed_token',
      'The token claim exp is not a number.',
      'exp',
    ],
    [
      'iat not a number',
      () => signAsIs(v2Claims({ iat: null })),
      'malformed_token',
      'The token claim iat is not a number.',
      'iat',
    ],
    [
      'no exp',
      () => bearer({ exp: undefined }),
      'missing_claim',
      'The token has no usable expiry (exp).',
      'exp',
    ],
    [
      'nbf after exp',
      () => bearer({ nbf: NOW_SECONDS + 3601 }),
      'malformed_token',
      'The token is not valid before it expires.',
      'nbf',
    ],
    [
      'not yet valid',
      () => bearer({ nbf: NOW_SECONDS + 3600 }),
      'token_not_yet_valid',
      'The token is not valid yet.',
      'nbf',
    ],
    [
      'expired',
      () => bearer({ nbf: undefined, exp: NOW_SECONDS - 3600 }),
      'token_expired',
      'The token has expired.',
      'exp',
    ],
    [
      'another audience',
      () => bearer({ aud: 'x' }),
      'invalid_audience',
      'The token audience is not accepted.',
      'aud',
    ],
    [
      'another issuer',
      () => bearer({ iss: 'https://x/' }),
      'invalid_issuer',
      'The token issuer is not accepted.',
      'iss',
    ],
    [
      'no ver',
      () => bearer({ ver: undefined }),
      'missing_claim',
      'The token has no known version (ver).',
      'ver',
    ],
    [
      'another tenant',
      () => bearer({ tid: OTHER_TENANT }),
      'invalid_tenant',
      'The token was issued by another tenant.',
      'tid',
    ],
    [
      'a scp claim',
      () => bearer({ scp: 'x' }),
      'delegated_token',
      'Tokens issued on behalf of a user are not accepted.',
      'scp',
    ],
    [
      'an idtyp of user',
      () => bearer({ idtyp: 'user' }),
      'delegated_token',
      'Tokens issued on behalf of a user are not accepted.',
      'idtyp',
    ],
    [
      'scp and idtyp',
      () => bearer({ scp: 'x', idtyp: 'user' }),
      'delegated_token',
      'Tokens issued on behalf of a user are not accepted.',
      'scp',
    ],
    [
      'no oid',
      () => bearer({ oid: undefined }),
      'missing_claim',
      'The token has no caller object id (oid).',
      'oid',
    ],
    [
      'another caller',
      () => bearer({ oid: OTHER_OID }),
      'caller_not_allowed',
      'The caller is not allowed to call this API.',
      'oid',
    ],
    [
      'another client (v2)',
      () => bearer({ azp: OTHER_OID }),
      'client_not_allowed',
      'The calling application is not allowed.',
      'azp',
    ],
    [
      'another client (v1)',
      () => `Bearer ${sign(v1Claims({ appid: OTHER_OID }), key)}`,
      'client_not_allowed',
      'The calling application is not allowed.',
      'appid',
    ],
    [
      'no role',
      () => bearer({ roles: [] }),
      'missing_role',
      'The caller lacks the required app role.',
      'roles',
    ],
  ];

  it.each([...form, ...claims])(
    '%s → %s: "%s" (%s)',
    async (_case, authorization, code, message, claim) => {
      const error = await refusal(authorization());
      expect({ code: error.code, message: error.message, claim: error.claim }).toEqual({
        code,
        message,
        claim,
      });
      expect(error.cause).toBeUndefined();
    },
  );
});
