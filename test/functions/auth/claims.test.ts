import { beforeAll, describe, expect, it } from 'vitest';
import type { AuthErrorCode } from '../../../functions/auth/errors';
import { AuthError } from '../../../functions/auth/errors';
import { EdgeCode, statusFor } from '../../../functions/auth/http-edge';
import { TokenValidator } from '../../../functions/auth/token-validator';
import {
  API_CLIENT_ID,
  APIM_CLIENT_ID,
  APIM_OID,
  createTestKey,
  ISSUER_V1,
  ISSUER_V2,
  NOW_SECONDS,
  OTHER_OID,
  OTHER_TENANT,
  ROLE,
  sign,
  StaticKeys,
  TENANT,
  testConfig,
  TestKey,
  v1Claims,
  v2Claims,
} from '../../support/tokens';

let key: TestKey;
const frozenNow = () => NOW_SECONDS * 1000;

beforeAll(() => {
  key = createTestKey();
});

function validator(overrides: Parameters<typeof testConfig>[0] = {}, now = frozenNow) {
  return new TokenValidator(testConfig(overrides), new StaticKeys([key]), now);
}

async function codeOf(promise: Promise<unknown>): Promise<AuthErrorCode | 'accepted'> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    if (error instanceof AuthError) return error.code;
    throw error;
  }
}

describe('valid tokens', () => {
  it('accepts a v2 app token and returns the caller from its claims', async () => {
    const caller = await validator().validate(`Bearer ${sign(v2Claims(), key)}`);
    expect(caller).toEqual({
      objectId: APIM_OID,
      clientId: APIM_CLIENT_ID,
      tenantId: TENANT,
      issuer: ISSUER_V2,
      tokenVersion: '2.0',
      roles: [ROLE],
      expiresAt: new Date((NOW_SECONDS + 3600) * 1000),
    });
  });

  it('accepts a v1 app token (appid, App ID URI audience, sts issuer)', async () => {
    const caller = await validator().validate(`Bearer ${sign(v1Claims(), key, { x5t: key.kid })}`);
    expect(caller.tokenVersion).toBe('1.0');
    expect(caller.clientId).toBe(APIM_CLIENT_ID);
    expect(caller.issuer).toBe(ISSUER_V1);
  });

  it('accepts a v1 token whose audience is the client id', async () => {
    const token = sign(v1Claims({ aud: API_CLIENT_ID }), key);
    expect(await codeOf(validator().validate(`Bearer ${token}`))).toBe('accepted');
  });

  it('compares object ids, client ids and tenants without regard to case', async () => {
    const token = sign(
      v2Claims({
        oid: APIM_OID.toUpperCase(),
        azp: APIM_CLIENT_ID.toUpperCase(),
        tid: TENANT.toUpperCase(),
      }),
      key,
    );
    const caller = await validator().validate(`Bearer ${token}`);
    expect(caller.objectId).toBe(APIM_OID);
  });

  it('lets no character but those of a GUID lower-case into an allowed id', () => {
    // authorize() checks the GUID pattern of an oid only once it is refused: an allowed oid
    // lower-cases into an allowed id, a GUID in lower case, which holds only if no other code point
    // lower-cases into a hexadecimal digit or the hyphen.
    const others: string[] = [];
    for (let code = 0; code <= 0x10ffff; code += 1) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCodePoint(code);
      if (/[0-9a-f-]/.test(char.toLowerCase()) && !/^[0-9a-fA-F-]$/.test(char)) others.push(char);
    }
    expect(others).toEqual([]);
  });

  it('accepts the scheme in any case', async () => {
    const token = sign(v2Claims(), key);
    expect(await codeOf(validator().validate(`bEaReR ${token}`))).toBe('accepted');
  });

  it('accepts a token with idtyp "app" (the optional claim)', async () => {
    const token = sign(v2Claims({ idtyp: 'app' }), key);
    expect(await codeOf(validator().validate(`Bearer ${token}`))).toBe('accepted');
  });

  it('skips the client id and role checks when they are not configured', async () => {
    const token = sign(v2Claims({ azp: OTHER_OID, roles: undefined }), key);
    const v = validator({ allowedClientIds: undefined, requiredRoles: [] });
    expect(await codeOf(v.validate(`Bearer ${token}`))).toBe('accepted');
  });

  it('accepts any one of several required roles', async () => {
    const token = sign(v2Claims({ roles: ['Other', 'Api.Admin'] }), key);
    const v = validator({ requiredRoles: [ROLE, 'Api.Admin'] });
    expect(await codeOf(v.validate(`Bearer ${token}`))).toBe('accepted');
  });
});

describe('claim by claim, on a frozen clock', () => {
  const skew = 300;
  it.each<[string, AuthErrorCode | 'accepted', Record<string, unknown>]>([
    [
      'issuer of another tenant',
      'invalid_issuer',
      { iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0` },
    ],
    ['issuer with a different trailing slash', 'invalid_issuer', { iss: `${ISSUER_V2}/` }],
    ['no issuer', 'invalid_issuer', { iss: undefined }],
    ['audience of another API', 'invalid_audience', { aud: OTHER_OID }],
    ['ARM audience', 'invalid_audience', { aud: 'https://management.azure.com/' }],
    ['no audience', 'invalid_audience', { aud: undefined }],
    // RFC 7519 section 4.1.3: one value of a list is enough.
    ['a list that holds this API', 'accepted', { aud: [OTHER_OID, 42, API_CLIENT_ID] }],
    ['a list without this API', 'invalid_audience', { aud: [OTHER_OID, 42] }],
    ['an empty audience list', 'invalid_audience', { aud: [] }],
    ['an issuer in a list', 'invalid_issuer', { iss: [ISSUER_V2] }],
    ['tenant mismatch', 'invalid_tenant', { tid: OTHER_TENANT }],
    ['no tenant', 'invalid_tenant', { tid: undefined }],
    [
      'expired beyond the skew',
      'token_expired',
      { exp: NOW_SECONDS - skew - 1, nbf: NOW_SECONDS - 3600 },
    ],
    ['not yet valid beyond the skew', 'token_not_yet_valid', { nbf: NOW_SECONDS + skew + 1 }],
    ['no expiry', 'missing_claim', { exp: undefined }],
    ['expiry beyond what a date can hold', 'missing_claim', { exp: 1e20 }],
    ['no version', 'missing_claim', { ver: undefined }],
    ['unknown version', 'missing_claim', { ver: '3.0' }],
    ['delegated (scp)', 'delegated_token', { scp: 'user_impersonation' }],
    ['user token (idtyp)', 'delegated_token', { idtyp: 'user' }],
    ['no object id', 'missing_claim', { oid: undefined }],
    ['object id not a GUID', 'missing_claim', { oid: 'apim' }],
    ['caller not allowed', 'caller_not_allowed', { oid: OTHER_OID }],
    ['client not allowed', 'client_not_allowed', { azp: OTHER_OID }],
    ['no client id', 'client_not_allowed', { azp: undefined }],
    [
      'v1 client id in the wrong claim',
      'client_not_allowed',
      { azp: undefined, appid: APIM_CLIENT_ID },
    ],
    ['no roles', 'missing_role', { roles: undefined }],
    ['other roles only', 'missing_role', { roles: ['Api.Read'] }],
    ['role in another case', 'missing_role', { roles: [ROLE.toLowerCase()] }],
    ['roles not an array', 'missing_role', { roles: ROLE }],
  ])('v2: %s → %s', async (_case, expected, change) => {
    const token = sign(v2Claims(change), key);
    expect(await codeOf(validator().validate(`Bearer ${token}`))).toBe(expected);
  });

  it.each<[string, AuthErrorCode | 'accepted', Record<string, unknown>]>([
    ['v2 issuer on a v1 token is still a configured issuer', 'accepted', { iss: ISSUER_V2 }],
    [
      'client id in azp instead of appid',
      'client_not_allowed',
      { appid: undefined, azp: APIM_CLIENT_ID },
    ],
    [
      'App ID URI with a trailing slash not configured',
      'invalid_audience',
      { aud: `api://${API_CLIENT_ID}/` },
    ],
    ['tenant mismatch', 'invalid_tenant', { tid: OTHER_TENANT }],
    ['caller not allowed', 'caller_not_allowed', { oid: OTHER_OID }],
    ['no roles', 'missing_role', { roles: [] }],
  ])('v1: %s → %s', async (_case, expected, change) => {
    const token = sign(v1Claims(change), key);
    expect(await codeOf(validator().validate(`Bearer ${token}`))).toBe(expected);
  });

  it.each([
    ['expiry just inside the skew', { exp: NOW_SECONDS - skew + 1, nbf: NOW_SECONDS - 3600 }],
    ['nbf just inside the skew', { nbf: NOW_SECONDS + skew - 1 }],
    ['nbf exactly at the skew', { nbf: NOW_SECONDS + skew }],
  ])('accepts %s', async (_case, change) => {
    const token = sign(v2Claims(change), key);
    expect(await codeOf(validator().validate(`Bearer ${token}`))).toBe('accepted');
  });

  it('applies a configured skew of zero exactly', async () => {
    const token = sign(v2Claims({ exp: NOW_SECONDS - 1 }), key);
    expect(await codeOf(validator({ clockSkewSeconds: 0 }).validate(`Bearer ${token}`))).toBe(
      'token_expired',
    );
    const fresh = sign(v2Claims({ exp: NOW_SECONDS + 1 }), key);
    expect(await codeOf(validator({ clockSkewSeconds: 0 }).validate(`Bearer ${fresh}`))).toBe(
      'accepted',
    );
  });

  it('checks the caller before the role: a valid token of another identity is refused as a caller', async () => {
    const token = sign(v2Claims({ oid: OTHER_OID, roles: [] }), key);
    expect(await codeOf(validator().validate(`Bearer ${token}`))).toBe('caller_not_allowed');
  });

  it('maps every refusal to its status: 401 for tokens, 403 for callers', async () => {
    const expired = sign(v2Claims({ exp: NOW_SECONDS - 3600, nbf: NOW_SECONDS - 7200 }), key);
    const other = sign(v2Claims({ oid: OTHER_OID }), key);
    expect(statusFor((await codeOf(validator().validate(`Bearer ${expired}`))) as EdgeCode)).toBe(
      401,
    );
    expect(statusFor((await codeOf(validator().validate(`Bearer ${other}`))) as EdgeCode)).toBe(
      403,
    );
  });

  it.each([
    ['invalid_issuer', { iss: 'https://evil.example.com/' }],
    ['invalid_audience', { aud: 'other' }],
  ])(
    'keeps the expected values out of the %s error, and names the claim at fault',
    async (code, change) => {
      const token = sign(v2Claims(change), key);
      const error = (await validator()
        .validate(`Bearer ${token}`)
        .catch((e: unknown) => e)) as AuthError;
      expect(error.code).toBe(code);
      expect(error.claim).toBe(code === 'invalid_issuer' ? 'iss' : 'aud');
      for (const secret of [ISSUER_V2, ISSUER_V1, API_CLIENT_ID, TENANT]) {
        expect(`${error.message} ${String(error.cause)}`).not.toContain(secret);
      }
    },
  );
});

describe('claim values at their limits', () => {
  const largest = 8.64e12; // the largest time a Date can hold, in seconds

  it('accepts an exp of the largest time a date can hold, and refuses one second more', async () => {
    const caller = await validator().validate(`Bearer ${sign(v2Claims({ exp: largest }), key)}`);
    expect(caller.expiresAt.getTime()).toBe(largest * 1000);
    const beyond = sign(v2Claims({ exp: largest + 1 }), key);
    expect(await codeOf(validator().validate(`Bearer ${beyond}`))).toBe('missing_claim');
  });

  it.each([
    ['an array holding the GUID', [APIM_OID]],
    ['a number', 42],
    ['an object', { id: APIM_OID }],
  ])('refuses an oid that is %s', async (_case, oid) => {
    const token = sign(v2Claims({ oid }), key);
    expect(await codeOf(validator().validate(`Bearer ${token}`))).toBe('missing_claim');
  });

  it.each([
    ['an array holding the tenant', [TENANT]],
    ['a number', 42],
  ])('refuses a tid that is %s', async (_case, tid) => {
    const token = sign(v2Claims({ tid }), key);
    expect(await codeOf(validator().validate(`Bearer ${token}`))).toBe('invalid_tenant');
  });

  it.each([
    ['an array holding the client id', [APIM_CLIENT_ID]],
    ['a number', 42],
  ])('refuses an azp that is %s', async (_case, azp) => {
    const token = sign(v2Claims({ azp }), key);
    expect(await codeOf(validator().validate(`Bearer ${token}`))).toBe('client_not_allowed');
  });

  it('returns only the roles that are strings', async () => {
    const token = sign(v2Claims({ roles: [ROLE, 42, null, { role: ROLE }, 'Other'] }), key);
    expect((await validator().validate(`Bearer ${token}`)).roles).toEqual([ROLE, 'Other']);
  });

  it('does not take a role from a non-string entry', async () => {
    const token = sign(v2Claims({ roles: [[ROLE]] }), key);
    expect(await codeOf(validator().validate(`Bearer ${token}`))).toBe('missing_role');
  });

  it.each([
    ['no roles claim', undefined],
    ['a roles claim that is a string', ROLE],
  ])('returns no roles for %s when none are required', async (_case, roles) => {
    const token = sign(v2Claims({ roles }), key);
    const caller = await validator({ requiredRoles: [] }).validate(`Bearer ${token}`);
    expect(caller.roles).toEqual([]);
  });

  it('returns no client id for a token without one when client ids are not checked', async () => {
    const token = sign(v2Claims({ azp: undefined }), key);
    const caller = await validator({ allowedClientIds: undefined }).validate(`Bearer ${token}`);
    expect(caller.clientId).toBeUndefined();
  });

  it.each([
    ['v2 token: azp, not appid', v2Claims({ azp: OTHER_OID, appid: APIM_CLIENT_ID })],
    ['v1 token: appid, not azp', v1Claims({ appid: OTHER_OID, azp: APIM_CLIENT_ID })],
  ])('reads the client id from the claim of its version (%s)', async (_case, claims) => {
    const token = sign(claims, key);
    expect(await codeOf(validator().validate(`Bearer ${token}`))).toBe('client_not_allowed');
  });
});
