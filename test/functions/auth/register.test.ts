/**
 * secureHttp with a fresh module each time, as the Functions host loads the app once: the first
 * registration builds the auth layer from process.env, every trigger goes to app.http with the
 * protected handler, and a name is taken once. (test/functions/registrations.test.ts checks the
 * triggers the app ships.)
 */
import { HttpFunctionOptions, HttpResponse } from '@azure/functions';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureContext, request } from '../../support/functions';
import { APIM_OID, TENANT } from '../../support/tokens';
import type * as Register from '../../../functions/auth/register';

const REGISTER = path.resolve(__dirname, '../../../functions/auth/register.ts');

const registered: { name: string; options: HttpFunctionOptions }[] = [];

/** functions/auth/register.ts as the host would load it, with app.http recorded. */
async function freshRegister() {
  vi.resetModules();
  const { app } = await import('@azure/functions');
  vi.spyOn(app, 'http').mockImplementation((name, options) => {
    registered.push({ name, options });
  });
  return (await import(REGISTER)) as typeof Register;
}

beforeEach(() => {
  registered.length = 0;
  vi.stubEnv('AUTH_TENANT_ID', TENANT);
  vi.stubEnv('AUTH_AUDIENCES', 'api://x');
  vi.stubEnv('AUTH_ALLOWED_CALLER_OBJECT_IDS', APIM_OID);
  // Nothing listens here: requests without a token never need the keys.
  vi.stubEnv('AUTH_JWKS_URI', 'http://127.0.0.1:9/keys');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

async function answer(options: HttpFunctionOptions) {
  const { context, logs } = captureContext();
  const init = await options.handler(request('/api/x', {}), context);
  return { status: new HttpResponse(init).status, logs: logs.map((l) => l.message) };
}

describe('secureHttp', () => {
  it('registers each trigger with app.http, anonymous, behind the auth layer', async () => {
    const { secureHttp } = await freshRegister();
    const handler = vi.fn(() => ({ status: 200 }));
    secureHttp('first', { methods: ['GET'], route: 'one', handler });
    secureHttp('second', { methods: ['POST', 'PUT'], route: 'two', handler });
    expect(registered.map(({ name, options }) => [name, options.route, options.methods])).toEqual([
      ['first', 'one', ['GET']],
      ['second', 'two', ['POST', 'PUT']],
    ]);
    for (const { options } of registered) {
      expect(options.authLevel).toBe('anonymous');
      expect(await answer(options)).toMatchObject({ status: 401 });
    }
    expect(handler).not.toHaveBeenCalled();
  });

  it('builds the auth layer from process.env at the first registration, once', async () => {
    const { secureHttp } = await freshRegister();
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    vi.stubEnv('AUTH_AUDIENCES', '');
    secureHttp('first', { methods: ['GET'], route: 'one', handler: () => ({ status: 200 }) });
    // Settings changed after the first registration are not read again.
    vi.stubEnv('AUTH_AUDIENCES', 'api://x');
    secureHttp('second', { methods: ['GET'], route: 'two', handler: () => ({ status: 200 }) });
    expect(logged.mock.calls).toEqual([
      ['Authentication is misconfigured: Setting AUTH_AUDIENCES is missing or empty.'],
    ]);
    for (const { options } of registered) expect((await answer(options)).status).toBe(500);
  });

  it('refuses a name already registered, and registers nothing for it', async () => {
    const { secureHttp } = await freshRegister();
    const options = { methods: ['GET' as const], route: 'one', handler: () => ({ status: 200 }) };
    secureHttp('hello', options);
    expect(() => secureHttp('hello', { ...options, route: 'other' })).toThrow(
      new TypeError('A trigger named "hello" is already registered.'),
    );
    expect(registered.map(({ name }) => name)).toEqual(['hello']);
  });
});
