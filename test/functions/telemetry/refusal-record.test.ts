/**
 * The refusal record (functions/telemetry/refusal-record.ts): every answer the auth layer gives
 * instead of the handler's writes one JSON line a query can group, with the token's version and
 * caller only when its signature verified, and never the token.
 */
import { HttpResponse, HttpResponseInit } from '@azure/functions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../../functions/auth/errors';
import { JwksFetchError } from '../../../functions/auth/signing-keys';
import { createAuthentication } from '../../../functions/auth/middleware';
import type { SecureHttpHandler } from '../../../functions/auth/secure-handler';
import type { SigningKeyProvider } from '../../../functions/auth/signing-keys';
import { REFUSAL_EVENT, refusalRecord } from '../../../functions/telemetry/refusal-record';
import { attachTokenFacts, tokenFactsOf } from '../../../functions/telemetry/token-facts';
import { captureContext, LogLine, request } from '../../support/functions';
import {
  API_CLIENT_ID,
  APIM_OID,
  createTestKey,
  NOW_SECONDS,
  OTHER_OID,
  OTHER_TENANT,
  ROLE,
  sign,
  StaticKeys,
  TENANT,
  TestKey,
  v1Claims,
  v2Claims,
} from '../../support/tokens';

const env = {
  AUTH_TENANT_ID: TENANT,
  AUTH_AUDIENCES: API_CLIENT_ID,
  AUTH_ALLOWED_CALLER_OBJECT_IDS: APIM_OID,
  AUTH_REQUIRED_ROLES: ROLE,
  AUTH_JWKS_URI: 'https://login.microsoftonline.com/common/discovery/v2.0/keys',
};
const ok: SecureHttpHandler = () => ({ status: 200 });

let key: TestKey;
beforeAll(() => {
  key = createTestKey();
});

async function answer(
  authorization: string | undefined,
  options: { keys?: SigningKeyProvider; env?: Record<string, string> } = {},
): Promise<{ status: number; logs: LogLine[]; invocationId: string }> {
  const auth = createAuthentication({
    env: options.env ?? env,
    keys: options.keys ?? new StaticKeys([key]),
    now: () => NOW_SECONDS * 1000,
    logError: () => undefined,
  });
  const { context, logs } = captureContext('hello');
  const headers: Record<string, string> = authorization ? { authorization } : {};
  const init = (await auth.protect(ok)(
    request('/api/hello', headers),
    context,
  )) as HttpResponseInit;
  return { status: new HttpResponse(init).status, logs, invocationId: context.invocationId };
}

function recordsIn(logs: LogLine[]): Record<string, unknown>[] {
  return logs
    .filter((line) => line.message.startsWith(`{"event":"${REFUSAL_EVENT}"`))
    .map((line) => JSON.parse(line.message) as Record<string, unknown>);
}

describe('each refusal writes one record', () => {
  it.each([
    ['no token', () => undefined, 'missing_token', 401, null],
    ['a malformed token', () => 'Bearer abc.def', 'malformed_token', 401, null],
    [
      'a token signed by an unknown key',
      () => `Bearer ${sign(v2Claims(), createTestKey())}`,
      'unknown_signing_key',
      401,
      null,
    ],
    [
      'an expired token',
      () => `Bearer ${sign(v2Claims({ nbf: NOW_SECONDS - 7200, exp: NOW_SECONDS - 600 }), key)}`,
      'token_expired',
      401,
      'exp',
    ],
    [
      'a token of another tenant',
      () => `Bearer ${sign(v2Claims({ tid: OTHER_TENANT }), key)}`,
      'invalid_tenant',
      401,
      'tid',
    ],
    [
      'a caller not allowed',
      () => `Bearer ${sign(v2Claims({ oid: OTHER_OID }), key)}`,
      'caller_not_allowed',
      403,
      'oid',
    ],
    [
      'a caller without the role',
      () => `Bearer ${sign(v2Claims({ roles: [] }), key)}`,
      'missing_role',
      403,
      'roles',
    ],
  ])('%s', async (_name, authorization, code, status, claim) => {
    const header = authorization();
    const result = await answer(header);
    expect(result.status).toBe(status);
    const records = recordsIn(result.logs);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      event: REFUSAL_EVENT,
      code,
      status,
      invocationId: result.invocationId,
      claim,
      setting: null,
      why: null,
    });
    const line = result.logs.find((l) => l.message.startsWith('{'))!;
    expect(line.level).toBe(status >= 500 ? 'error' : 'warning');
    if (header) expect(JSON.stringify(result.logs)).not.toContain(header.slice(7));
  });
});

describe('the token version and caller', () => {
  it('are named when the signature verified (v2)', async () => {
    const result = await answer(`Bearer ${sign(v2Claims({ oid: OTHER_OID.toUpperCase() }), key)}`);
    expect(recordsIn(result.logs)[0]).toMatchObject({
      tokenVersion: '2.0',
      callerObjectId: OTHER_OID,
    });
  });

  it('are named when the signature verified (v1, an expired token)', async () => {
    const token = sign(
      v1Claims({ aud: API_CLIENT_ID, nbf: NOW_SECONDS - 7200, exp: NOW_SECONDS - 600 }),
      key,
    );
    const result = await answer(`Bearer ${token}`);
    expect(recordsIn(result.logs)[0]).toMatchObject({
      code: 'token_expired',
      tokenVersion: '1.0',
      callerObjectId: APIM_OID,
    });
  });

  it('are named when a cached token expires', async () => {
    let now = NOW_SECONDS * 1000;
    const auth = createAuthentication({ env, keys: new StaticKeys([key]), now: () => now });
    const token = sign(v2Claims({ exp: NOW_SECONDS + 60 }), key);
    const first = captureContext();
    await auth.protect(ok)(request('/api/x', { authorization: `Bearer ${token}` }), first.context);
    expect(recordsIn(first.logs)).toEqual([]);
    now += 3_600_000;
    const second = captureContext();
    await auth.protect(ok)(request('/api/x', { authorization: `Bearer ${token}` }), second.context);
    expect(recordsIn(second.logs)[0]).toMatchObject({
      code: 'token_expired',
      tokenVersion: '2.0',
      callerObjectId: APIM_OID,
    });
  });

  it('are not named from a token whose signature did not verify', async () => {
    const forged = sign(v2Claims({ oid: OTHER_OID }), createTestKey(), { kid: key.kid });
    const result = await answer(`Bearer ${forged}`);
    expect(recordsIn(result.logs)[0]).toMatchObject({
      code: 'invalid_signature',
      tokenVersion: null,
      callerObjectId: null,
    });
  });

  it('keep only the shapes Entra ID writes', () => {
    const error = new AuthError('missing_role', 'm');
    attachTokenFacts(error, { ver: '3.0', oid: 'not-a-guid' });
    expect(tokenFactsOf(error)).toEqual({ tokenVersion: null, callerObjectId: null });
    expect(tokenFactsOf('not an object')).toEqual({ tokenVersion: null, callerObjectId: null });
    // A thrown value that is not an object is returned as it is, with nothing noted.
    expect(attachTokenFacts('thrown', { ver: '2.0', oid: OTHER_OID })).toBe('thrown');
    expect(tokenFactsOf('thrown')).toEqual({ tokenVersion: null, callerObjectId: null });
  });
});

describe('the 5xx answers of the auth layer', () => {
  it('a 503 says why the signing keys were unavailable, as the refusal note does', async () => {
    const keys: SigningKeyProvider = {
      getKey: () =>
        Promise.reject(
          new AuthError('signing_keys_unavailable', 'unavailable', {
            cause: new JwksFetchError('the JWKS endpoint answered HTTP 503'),
            retryAfterSeconds: 5,
          }),
        ),
    };
    const result = await answer(`Bearer ${sign(v2Claims(), key)}`, { keys });
    expect(result.status).toBe(503);
    expect(recordsIn(result.logs)).toEqual([
      expect.objectContaining({
        code: 'signing_keys_unavailable',
        status: 503,
        why: 'the JWKS endpoint answered HTTP 503',
      }),
    ]);
    expect(result.logs.find((l) => l.message.startsWith('{'))!.level).toBe('error');
  });

  it('a failure of validation itself is internal_error, 500', async () => {
    const keys: SigningKeyProvider = {
      getKey: () => Promise.reject(new RangeError('boom')),
    };
    const result = await answer(`Bearer ${sign(v2Claims(), key)}`, { keys });
    expect(result.status).toBe(500);
    expect(recordsIn(result.logs)).toEqual([
      expect.objectContaining({ code: 'internal_error', status: 500, claim: null, why: null }),
    ]);
  });

  it('a misconfigured app records configuration_error with the setting at fault', async () => {
    const { AUTH_TENANT_ID: _, ...withoutTenant } = env;
    const result = await answer(undefined, { env: withoutTenant });
    expect(result.status).toBe(500);
    expect(recordsIn(result.logs)).toEqual([
      expect.objectContaining({
        code: 'configuration_error',
        status: 500,
        setting: 'AUTH_TENANT_ID',
      }),
    ]);
  });

  it('a valid call writes no record', async () => {
    const result = await answer(`Bearer ${sign(v2Claims(), key)}`);
    expect(result.status).toBe(200);
    expect(recordsIn(result.logs)).toEqual([]);
  });
});

describe('refusalRecord', () => {
  it('has the same fields, in the same order, for every answer', () => {
    const keys = (error: unknown) => Object.keys(refusalRecord(error, 'id'));
    const expected = keys(new AuthError('missing_token', 'm'));
    expect(expected[0]).toBe('event');
    expect(keys(new Error('x'))).toEqual(expected);
    expect(keys(new AuthError('signing_keys_unavailable', 'm'))).toEqual(expected);
  });
});
