import fs from 'node:fs';
import path from 'node:path';
import { app, HttpFunctionOptions, HttpResponse } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { secureHttp } from '../../functions/auth/register';
import { captureContext, request } from '../support/functions';

const root = path.resolve(__dirname, '../..');

/** The trigger files the Functions host loads: package.json `main`, mapped back to the sources. */
function functionSources(): string[] {
  const main = (
    JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string }
  ).main;
  expect(main).toBe('dist/functions/*.js');
  return fs
    .readdirSync(path.join(root, 'functions'))
    .filter((file) => file.endsWith('.ts'))
    .sort()
    .map((file) => path.join(root, 'functions', file));
}

interface Captured {
  method: string;
  name: string;
  options: unknown;
}

const captured: Captured[] = [];

beforeAll(async () => {
  // Record every registration API of the library, so that a trigger registered any other way
  // than through secureHttp() is seen.
  for (const [method, value] of Object.entries(app)) {
    if (typeof value !== 'function') continue;
    vi.spyOn(
      app as unknown as Record<string, (...args: unknown[]) => void>,
      method,
    ).mockImplementation((name: unknown, options: unknown) => {
      captured.push({ method, name: String(name), options });
    });
  }
  // The app reads its settings when the first trigger is registered, as in the Functions host. A
  // JWKS address nothing listens on: requests without a token never need the keys.
  vi.stubEnv('AUTH_TENANT_ID', '72f988bf-86f1-41af-91ab-2d7cd011db47');
  vi.stubEnv('AUTH_AUDIENCES', 'x');
  vi.stubEnv('AUTH_ALLOWED_CALLER_OBJECT_IDS', '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d');
  vi.stubEnv('AUTH_JWKS_URI', 'http://127.0.0.1:9/keys');
  for (const file of functionSources()) await import(file);
});

afterAll(() => {
  vi.unstubAllEnvs();
});

describe('trigger registration', () => {
  it('finds the triggers the app ships', () => {
    expect(captured.map((c) => c.name).sort()).toEqual(['hello', 'whoami']);
  });

  it('registers every trigger through secureHttp and nothing any other way', () => {
    expect(captured.map((c) => c.method)).toEqual(['http', 'http']);
  });

  it('registers every trigger as anonymous: the bearer token is the credential', () => {
    for (const call of captured) {
      expect((call.options as HttpFunctionOptions).authLevel).toBe('anonymous');
    }
  });

  it('refuses a request without a token on every route and method the host would serve', async () => {
    let checked = 0;
    for (const call of captured) {
      const options = call.options as HttpFunctionOptions;
      for (const method of options.methods ?? ['GET', 'POST']) {
        const { context, logs } = captureContext(call.name);
        const init = await options.handler(
          request(`/api/${options.route ?? call.name}`, {}, method),
          context,
        );
        const response = new HttpResponse(init);
        expect(response.status, `${method} /api/${options.route}`).toBe(401);
        expect(logs.map((l) => l.message).join()).toContain('missing_token');
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(2);
  });

  it('refuses a second trigger with the same name', () => {
    expect(() =>
      secureHttp('hello', { methods: ['GET'], route: 'other', handler: () => ({ status: 200 }) }),
    ).toThrow(/already registered/);
  });
});
