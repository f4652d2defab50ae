import { HttpResponse, HttpResponseInit } from '@azure/functions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Authentication,
  AuthenticationOptions,
  createAuthentication,
} from '../../functions/auth/middleware';
import { hello } from '../../functions/hello';
import { whoami } from '../../functions/whoami';
import { captureContext, LogLine, request } from '../support/functions';
import { startJwksServer } from '../support/jwks-server';
import {
  API_CLIENT_ID,
  APIM_CLIENT_ID,
  APIM_OID,
  createTestKey,
  ISSUER_V1,
  ISSUER_V2,
  NOW_SECONDS,
  OTHER_OID,
  ROLE,
  sign,
  StaticKeys,
  TENANT,
  TestKey,
  v1Claims,
  v2Claims,
} from '../support/tokens';

const env = {
  AUTH_TENANT_ID: TENANT,
  AUTH_AUDIENCES: `${API_CLIENT_ID},api://${API_CLIENT_ID}`,
  AUTH_ALLOWED_CALLER_OBJECT_IDS: APIM_OID,
  AUTH_ALLOWED_CLIENT_IDS: APIM_CLIENT_ID,
  AUTH_REQUIRED_ROLES: ROLE,
};
const now = () => NOW_SECONDS * 1000;
let key: TestKey;
let token: string;

beforeAll(() => {
  key = createTestKey();
  token = sign(v2Claims(), key);
});

let auth: Authentication;
let startupLog: string[];

/** A fresh auth layer, as the app builds its own at the first registration. */
function configure(options: AuthenticationOptions): void {
  startupLog = [];
  auth = createAuthentication({ ...options, logError: (line) => startupLog.push(line) });
}

interface Result {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
  logs: LogLine[];
}

async function call(
  handler: typeof hello | typeof whoami,
  path: string,
  headers: Record<string, string> = {},
): Promise<Result> {
  const { context, logs } = captureContext();
  const init: HttpResponseInit = await auth.protect(handler)(request(path, headers), context);
  const response = new HttpResponse(init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text), text, logs };
}

function useKeys() {
  configure({ env, keys: new StaticKeys([key]), now });
}

describe('hello', () => {
  it('greets an authenticated caller', async () => {
    useKeys();
    const result = await call(hello, '/api/hello?name=Ada', { authorization: `Bearer ${token}` });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ message: 'Hello, Ada!' });
  });

  it('greets the world when no name is given', async () => {
    useKeys();
    const result = await call(hello, '/api/hello', { authorization: `Bearer ${token}` });
    expect(result.body).toEqual({ message: 'Hello, world!' });
  });

  it.each([
    ['a name too long', 'x'.repeat(101)],
    ['a control character', 'a\u0007b'],
  ])('answers 400 for %s', async (_case, name) => {
    useKeys();
    const result = await call(hello, `/api/hello?name=${encodeURIComponent(name)}`, {
      authorization: `Bearer ${token}`,
    });
    expect(result.status).toBe(400);
    expect(result.headers.get('content-type')).toBe('application/problem+json');
    expect(result.body).toMatchObject({ status: 400, code: 'invalid_name' });
  });
});

describe('whoami', () => {
  it('returns the caller of a v2 token', async () => {
    useKeys();
    const result = await call(whoami, '/api/whoami', { authorization: `Bearer ${token}` });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      objectId: APIM_OID,
      clientId: APIM_CLIENT_ID,
      tenantId: TENANT,
      issuer: ISSUER_V2,
      tokenVersion: '2.0',
      roles: [ROLE],
      expiresAt: new Date((NOW_SECONDS + 3600) * 1000).toISOString(),
    });
    expect(result.headers.get('cache-control')).toBe('no-store');
  });

  it('returns the caller of a v1 token', async () => {
    useKeys();
    const v1 = sign(v1Claims(), key);
    const result = await call(whoami, '/api/whoami', { authorization: `Bearer ${v1}` });
    expect(result.body).toMatchObject({
      tokenVersion: '1.0',
      issuer: ISSUER_V1,
      clientId: APIM_CLIENT_ID,
    });
  });
});

describe('refusals', () => {
  it('answers 401 with a bare Bearer challenge when there is no token', async () => {
    useKeys();
    const result = await call(hello, '/api/hello');
    expect(result.status).toBe(401);
    expect(result.headers.get('www-authenticate')).toBe('Bearer');
    expect(result.headers.get('content-type')).toBe('application/problem+json');
    expect(result.body).toMatchObject({
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      code: 'missing_token',
    });
  });

  it('ignores a token in the query string', async () => {
    useKeys();
    const result = await call(hello, `/api/hello?access_token=${token}`);
    expect(result.status).toBe(401);
    expect(result.body.code).toBe('missing_token');
  });

  it('answers 401 invalid_token with a short description for a bad token', async () => {
    useKeys();
    const expired = sign(v2Claims({ exp: NOW_SECONDS - 3600, nbf: NOW_SECONDS - 7200 }), key);
    const result = await call(hello, '/api/hello', { authorization: `Bearer ${expired}` });
    expect(result.status).toBe(401);
    expect(result.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="The token has expired."',
    );
    expect(result.body.code).toBe('token_expired');
  });

  it('answers 403 for a valid token of a caller that is not allowed', async () => {
    useKeys();
    const other = sign(v2Claims({ oid: OTHER_OID }), key);
    const result = await call(whoami, '/api/whoami', { authorization: `Bearer ${other}` });
    expect(result.status).toBe(403);
    expect(result.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
    expect(result.body).toMatchObject({ status: 403, code: 'caller_not_allowed' });
  });

  it('answers 403 for a caller without the role', async () => {
    useKeys();
    const roleless = sign(v2Claims({ roles: [] }), key);
    const result = await call(whoami, '/api/whoami', { authorization: `Bearer ${roleless}` });
    expect(result.status).toBe(403);
    expect(result.body.code).toBe('missing_role');
  });

  it('answers 503 with Retry-After when the signing keys cannot be fetched', async () => {
    configure({
      env: { ...env, AUTH_JWKS_URI: 'http://127.0.0.1:9/keys' },
      now,
    });
    const result = await call(hello, '/api/hello', { authorization: `Bearer ${token}` });
    expect(result.status).toBe(503);
    expect(Number(result.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(result.body.code).toBe('signing_keys_unavailable');
    // The log says why; the response does not (it is the same for every cause).
    expect(result.logs.map((line) => line.message)).toEqual([
      expect.stringMatching(
        /^Request refused: signing_keys_unavailable \(invocation inv-[0-9a-f]+\): the JWKS endpoint could not be reached \(ECONNREFUSED\)$/,
      ),
      // The refusal record (functions/telemetry/refusal-record.ts) says it too.
      expect.stringContaining('"why":"the JWKS endpoint could not be reached (ECONNREFUSED)"'),
    ]);
    expect(JSON.stringify(result.body)).not.toContain('ECONNREFUSED');
  });

  it('logs each refusal once, at warning level, with its code and the invocation id', async () => {
    useKeys();
    const result = await call(hello, '/api/hello', { authorization: 'Bearer x.y.z' });
    expect(result.logs).toHaveLength(2);
    expect(result.logs[0]!.level).toBe('warning');
    expect(result.logs[0]!.message).toMatch(
      /^Request refused: malformed_token \(invocation inv-[0-9a-f]+\)$/,
    );
    // Then its refusal record (functions/telemetry/refusal-record.ts), at the same level.
    expect(result.logs[1]).toEqual({
      level: 'warning',
      message: expect.stringMatching(/^\{"event":"auth_refusal","code":"malformed_token",/),
    });
  });

  it('never echoes the token, the header or the expected values in responses or logs', async () => {
    useKeys();
    const wrong = [
      sign(v2Claims({ iss: 'https://evil.example.com/' }), key),
      sign(v2Claims({ aud: 'someone-else' }), key),
      sign(v2Claims({ oid: OTHER_OID }), key),
      sign(v2Claims({ exp: NOW_SECONDS - 3600, nbf: NOW_SECONDS - 7200 }), key),
      `${token}x`,
    ];
    for (const bad of wrong) {
      const result = await call(whoami, '/api/whoami', { authorization: `Bearer ${bad}` });
      const everything = `${result.text} ${[...result.headers].join(' ')} ${JSON.stringify(result.logs)}`;
      for (const secret of [bad, bad.split('.')[1]!, bad.split('.')[2]!, ISSUER_V2, ISSUER_V1]) {
        expect(everything).not.toContain(secret);
      }
      // The allowed caller appears only as the caller a refusal record names: the `oid` of a
      // token whose signature verified (functions/telemetry/token-facts.ts).
      const withoutCaller = everything.replaceAll(
        new RegExp(`\\\\"callerObjectId\\\\":\\\\"${APIM_OID}`, 'g'),
        '',
      );
      expect(withoutCaller).not.toContain(APIM_OID);
      expect(withoutCaller).not.toContain(API_CLIENT_ID);
    }
  });
});

describe('misconfiguration', () => {
  it('logs the setting at fault once, when the app starts, and answers every request with 500', async () => {
    configure({
      env: { ...env, AUTH_TENANT_ID: undefined },
      keys: new StaticKeys([key]),
      now,
    });
    expect(auth.configError?.setting).toBe('AUTH_TENANT_ID');
    expect(startupLog).toEqual([expect.stringContaining('AUTH_TENANT_ID')]);
    for (let i = 0; i < 2; i += 1) {
      const result = await call(hello, '/api/hello', { authorization: `Bearer ${token}` });
      expect(result.status).toBe(500);
      expect(result.body).toMatchObject({ status: 500, code: 'configuration_error' });
      expect(String(result.body.detail)).toContain('AUTH_TENANT_ID');
      // One refusal record per request (functions/telemetry/refusal-record.ts), naming the setting.
      expect(result.logs).toEqual([
        {
          level: 'error',
          message: expect.stringMatching(
            /^\{"event":"auth_refusal","code":"configuration_error",.*"setting":"AUTH_TENANT_ID"/,
          ),
        },
      ]);
    }
    expect(startupLog).toHaveLength(1);
  });

  it('starts fetching the signing keys when the app starts, before the first request', async () => {
    const server = await startJwksServer({ kind: 'keys', keys: [key.jwk] });
    try {
      configure({ env: { ...env, AUTH_JWKS_URI: server.url }, now });
      await vi.waitFor(() => expect(server.requests).toBe(1));
      const result = await call(hello, '/api/hello', { authorization: `Bearer ${token}` });
      expect(result.status).toBe(200);
      // The first request waited for that fetch rather than fetching again.
      expect(server.requests).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('logs nothing at start when the configuration is valid', () => {
    configure({ env, keys: new StaticKeys([key]), now });
    expect(auth.configError).toBeUndefined();
    expect(startupLog).toEqual([]);
  });

  it('never lets a request through when the configuration is malformed', async () => {
    configure({
      env: { ...env, AUTH_ALLOWED_CALLER_OBJECT_IDS: 'everyone' },
      keys: new StaticKeys([key]),
      now,
    });
    const result = await call(whoami, '/api/whoami', { authorization: `Bearer ${token}` });
    expect(result.status).toBe(500);
    expect(String(result.body.detail)).toContain('AUTH_ALLOWED_CALLER_OBJECT_IDS');
  });
});

describe('a handler that throws', () => {
  it('answers 500 with a generic body and logs only the error type', async () => {
    useKeys();
    const { context, logs } = captureContext();
    const failing = auth.protect(() => {
      throw new TypeError(`boom ${token}`);
    });
    const response = new HttpResponse(
      await failing(request('/api/x', { authorization: `Bearer ${token}` }), context),
    );
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(JSON.parse(text)).toMatchObject({ code: 'internal_error' });
    expect(text).not.toContain('boom');
    expect(logs).toEqual([
      { level: 'error', message: expect.stringMatching(/^Handler failed: TypeError/) },
    ]);
  });
});
