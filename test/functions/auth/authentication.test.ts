/**
 * How createAuthentication wires the auth layer when a test does not hand it its parts: the
 * signing keys come from AUTH_JWKS_URI on the given clock, a configuration error goes to
 * console.error once, and a validator failure that is not a refusal is a generic 500.
 */
import { HttpResponse, HttpResponseInit } from '@azure/functions';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuthentication } from '../../../functions/auth/middleware';
import type { SecureHttpHandler } from '../../../functions/auth/secure-handler';
import type { SigningKeyProvider } from '../../../functions/auth/signing-keys';
import { captureContext, request } from '../../support/functions';
import { JwksServer, startJwksServer } from '../../support/jwks-server';
import {
  API_CLIENT_ID,
  APIM_OID,
  createTestKey,
  NOW_SECONDS,
  sign,
  StaticKeys,
  TENANT,
  TestKey,
  v2Claims,
} from '../../support/tokens';

const env = {
  AUTH_TENANT_ID: TENANT,
  AUTH_AUDIENCES: API_CLIENT_ID,
  AUTH_ALLOWED_CALLER_OBJECT_IDS: APIM_OID,
};
const echo: SecureHttpHandler = (_request, _context, caller) => ({
  status: 200,
  jsonBody: { objectId: caller.objectId },
});

let key: TestKey;
let token: string;
let server: JwksServer | undefined;

beforeAll(() => {
  key = createTestKey();
  token = sign(v2Claims(), key);
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function send(
  auth: ReturnType<typeof createAuthentication>,
  authorization = `Bearer ${token}`,
) {
  const { context, logs } = captureContext();
  const init = (await auth.protect(echo)(
    request('/api/x', { authorization }),
    context,
  )) as HttpResponseInit;
  const response = new HttpResponse(init);
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    logs,
  };
}

describe('createAuthentication', () => {
  it('fetches the signing keys from AUTH_JWKS_URI when no key provider is given', async () => {
    server = await startJwksServer({ kind: 'keys', keys: [key.jwk] });
    const auth = createAuthentication({
      env: { ...env, AUTH_JWKS_URI: server.url },
      now: () => NOW_SECONDS * 1000,
    });
    const result = await send(auth);
    expect(result).toMatchObject({ status: 200, body: { objectId: APIM_OID } });
    expect(server.requests).toBe(1);
  });

  it('starts fetching the signing keys as it is created, before any request', async () => {
    server = await startJwksServer({ kind: 'keys', keys: [key.jwk] });
    createAuthentication({ env: { ...env, AUTH_JWKS_URI: server.url } });
    await vi.waitFor(() => expect(server!.requests).toBe(1), { timeout: 5_000 });
  });

  it('runs the signing key store on the given clock', async () => {
    server = await startJwksServer({ kind: 'status', status: 500 });
    let clock = NOW_SECONDS * 1000;
    const auth = createAuthentication({
      env: { ...env, AUTH_JWKS_URI: server.url },
      now: () => clock,
    });
    expect((await send(auth)).status).toBe(503);
    server.behaviour = { kind: 'keys', keys: [key.jwk] };
    // Only the injected clock has passed the failure cooldown; the real one has not.
    clock += 60_000;
    expect((await send(auth)).status).toBe(200);
    expect(server.requests).toBe(2);
  });

  it('reports a configuration error on console.error when no logger is given, once', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const auth = createAuthentication({ env: { ...env, AUTH_AUDIENCES: undefined } });
    expect(logged.mock.calls).toEqual([
      ['Authentication is misconfigured: Setting AUTH_AUDIENCES is missing or empty.'],
    ]);
    expect(auth.configError?.setting).toBe('AUTH_AUDIENCES');
    const result = await send(auth);
    expect(result.status).toBe(500);
    expect(result.body).toMatchObject({
      code: 'configuration_error',
      detail: 'The app is misconfigured: Setting AUTH_AUDIENCES is missing or empty.',
    });
    expect(logged).toHaveBeenCalledTimes(1);
  });

  it('lets a failure that is no configuration error through, rather than answering with it', () => {
    // An environment that cannot be read is a bug of the host, not a setting to name.
    const broken = new Proxy(
      {},
      {
        get: () => {
          throw new RangeError('the environment is gone');
        },
      },
    );
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(() => createAuthentication({ env: broken })).toThrow(RangeError);
    expect(logged).not.toHaveBeenCalled();
  });

  it('logs nothing on console.error for a valid configuration', () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    createAuthentication({ env });
    expect(logged).not.toHaveBeenCalled();
  });

  it.each([
    ['an error', new TypeError('socket detail')],
    ['a non-error', 'a string with detail'],
  ])(
    'answers 500 when the key provider fails with %s, and logs only its type',
    async (_case, failure) => {
      const keys: SigningKeyProvider = {
        // A provider that rejects with a non-error is one of the cases under test.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        getKey: () => Promise.reject(failure),
      };
      const auth = createAuthentication({ env, keys, now: () => NOW_SECONDS * 1000 });
      const result = await send(auth);
      expect(result.status).toBe(500);
      expect(result.body).toMatchObject({
        code: 'internal_error',
        detail: 'The request could not be processed.',
      });
      // The line, then the refusal record (functions/telemetry/refusal-record.ts).
      expect(result.logs).toHaveLength(2);
      expect(result.logs[1]!.message).toMatch(/^\{"event":"auth_refusal","code":"internal_error",/);
      expect(result.logs[0]!.level).toBe('error');
      expect(result.logs[0]!.message).toMatch(
        new RegExp(
          `^Token validation failed unexpectedly: ${failure instanceof Error ? 'TypeError' : 'Error'} \\(invocation inv-[0-9a-f]+\\)$`,
        ),
      );
      expect(JSON.stringify(result)).not.toContain('detail ');
    },
  );

  it('logs a handler failure with the invocation id', async () => {
    const auth = createAuthentication({
      env,
      keys: new StaticKeys([key]),
      now: () => NOW_SECONDS * 1000,
    });
    const { context, logs } = captureContext();
    const init = await auth.protect(() => Promise.reject(new RangeError('x')))(
      request('/api/x', { authorization: `Bearer ${token}` }),
      context,
    );
    expect(new HttpResponse(init).status).toBe(500);
    expect(logs).toEqual([
      {
        level: 'error',
        message: `Handler failed: RangeError (invocation ${context.invocationId})`,
      },
    ]);
  });
});
