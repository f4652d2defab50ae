/**
 * The form of the credential before any key lookup, at its limits: the Authorization header
 * (RFC 6750 section 2.1: `Bearer 1*SP b64token`), the size caps and the JOSE header. Each limit is
 * tested on both sides; no case here may cost a key lookup.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../../functions/auth/errors';
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
let valid: string;

beforeAll(() => {
  key = createTestKey();
  valid = sign(v2Claims(), key);
});

async function outcome(authorization: string): Promise<{ code: string; lookups: number }> {
  const keys = new StaticKeys([key]);
  const validator = new TokenValidator(testConfig(), keys, () => NOW_SECONDS * 1000);
  try {
    await validator.validate(authorization);
    return { code: 'accepted', lookups: keys.lookups };
  } catch (error) {
    if (error instanceof AuthError) return { code: error.code, lookups: keys.lookups };
    throw error;
  }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** The largest header the first size check lets through. */
const HEADER_CAP = MAX_TOKEN_LENGTH + 16;

describe('the Authorization header', () => {
  it.each([
    ['one space', `Bearer ${'x'}`, 'malformed_token'],
    ['several spaces between scheme and token', 'Bearer   TOKEN', 'accepted'],
    ['a tab instead of a space', 'Bearer\tTOKEN', 'missing_token'],
    ['a leading space', ' Bearer TOKEN', 'missing_token'],
    ['a scheme that only ends in Bearer', 'XBearer TOKEN', 'missing_token'],
    ['a scheme that only starts with Bearer', 'Bearerx TOKEN', 'missing_token'],
    ['no scheme at all', '123', 'missing_token'],
    ['punctuation only', '!!! TOKEN', 'missing_token'],
    ['a trailing space', 'Bearer TOKEN ', 'malformed_token'],
  ])('%s → %s', async (_case, header, expected) => {
    const result = await outcome(header.replace('TOKEN', valid));
    expect(result.code).toBe(expected);
    if (expected !== 'accepted') expect(result.lookups).toBe(0);
  });

  it('reads a header of exactly the cap, and refuses one character more unread', async () => {
    const atCap = await outcome(`Basic ${'a'.repeat(HEADER_CAP - 6)}`);
    expect(atCap.code).toBe('missing_token');
    const overCap = await outcome(`Basic ${'a'.repeat(HEADER_CAP - 5)}`);
    expect(overCap.code).toBe('token_too_large');
  });

  it('accepts a token of exactly MAX_TOKEN_LENGTH as far as its size goes', async () => {
    expect((await outcome(`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH)}`)).code).toBe('malformed_token');
    expect((await outcome(`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`)).code).toBe(
      'token_too_large',
    );
  });
});

describe('the JOSE header', () => {
  it.each([
    ['a string', '"RS256"'],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
    ['an array', '["RS256"]'],
  ])('refuses a header that is JSON but %s', async (_case, json) => {
    const header = Buffer.from(json).toString('base64url');
    const result = await outcome(`Bearer ${header}.${b64(v2Claims())}.c2ln`);
    expect(result).toEqual({ code: 'malformed_token', lookups: 0 });
  });

  it.each([
    ['256 characters', 256, 'unknown_signing_key'],
    ['257 characters', 257, 'missing_key_id'],
  ])('a kid of %s → %s', async (_case, length, expected) => {
    const token = rawToken({ alg: 'RS256', kid: 'k'.repeat(length) }, v2Claims(), 'c2ln');
    expect((await outcome(`Bearer ${token}`)).code).toBe(expected);
  });

  it.each([
    ['crit empty', { crit: [] }],
    ['crit null', { crit: null }],
  ])('refuses any crit parameter (%s)', async (_case, change) => {
    const token = rawToken({ alg: 'RS256', kid: key.kid, ...change }, v2Claims(), 'c2ln');
    expect(await outcome(`Bearer ${token}`)).toEqual({ code: 'malformed_token', lookups: 0 });
  });

  it.each([
    ['an empty payload part', (p: string[]) => `${p[0]}..${p[2]}`],
    ['an empty signature part', (p: string[]) => `${p[0]}.${p[1]}.`],
    ['an empty header part', (p: string[]) => `.${p[1]}.${p[2]}`],
  ])('refuses %s before any key lookup', async (_case, build) => {
    expect(await outcome(`Bearer ${build(valid.split('.'))}`)).toEqual({
      code: 'malformed_token',
      lookups: 0,
    });
  });
});

describe('the three segments', () => {
  const COMPACT = 'The token is not a signed JWT in compact form.';

  async function refusal(token: string): Promise<{ message: string; lookups: number }> {
    const keys = new StaticKeys([key]);
    const validator = new TokenValidator(testConfig(), keys, () => NOW_SECONDS * 1000);
    const error = await validator.validate(`Bearer ${token}`).then(
      () => new Error('the token was accepted'),
      (reason: unknown) => reason,
    );
    if (!(error instanceof AuthError) || error.code !== 'malformed_token') throw error;
    return { message: error.message, lookups: keys.lookups };
  }

  // Each segment on both sides of its limit: empty is no compact form at all; one character is
  // a segment, refused as base64url that no bytes encode to.
  it.each<[string, (h: string, p: string, s: string) => string, string]>([
    ['no dot at all', (h) => h, COMPACT],
    ['one dot', (h, p) => `${h}.${p}`, COMPACT],
    ['an empty header', (_h, p, s) => `.${p}.${s}`, COMPACT],
    [
      'a header of one character',
      (_h, p, s) => `e.${p}.${s}`,
      'The token header is not canonical base64url.',
    ],
    ['an empty payload', (h, _p, s) => `${h}..${s}`, COMPACT],
    [
      'a payload of one character',
      (h, _p, s) => `${h}.e.${s}`,
      'The token payload is not canonical base64url.',
    ],
    ['an empty signature', (h, p) => `${h}.${p}.`, COMPACT],
    [
      'a signature of one character',
      (h, p) => `${h}.${p}.e`,
      'The token signature is missing or not canonical base64url.',
    ],
    ['a fourth segment', (h, p, s) => `${h}.${p}.${s}.${s}`, COMPACT],
    ['an empty fourth segment', (h, p, s) => `${h}.${p}.${s}.`, COMPACT],
  ])('refuses %s', async (_case, build, message) => {
    const [h, p, s] = valid.split('.') as [string, string, string];
    expect(await refusal(build(h, p, s))).toEqual({ message, lookups: 0 });
  });
});
