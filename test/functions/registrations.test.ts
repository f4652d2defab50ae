import fs from 'node:fs';
import path from 'node:path';
import { app, HttpFunctionOptions, HttpResponse } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { secureHttp } from '../../functions/auth/register';
import { Trigger, triggerProblems } from '../apim/openapi-checks';
import { readApim } from '../apim/policy-checks';
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

/** The registered triggers as the host serves them (a trigger without a route is routed by its name). */
function triggers(): Trigger[] {
  return captured.map((call) => {
    const options = call.options as HttpFunctionOptions;
    return { name: call.name, methods: options.methods ?? [], route: options.route ?? call.name };
  });
}

describe('trigger registration', () => {
  it('finds triggers in the files the host loads, each with its methods', () => {
    expect(captured.length).toBeGreaterThan(0);
    for (const trigger of triggers()) expect(trigger.methods, trigger.name).not.toEqual([]);
  });

  it('registers every trigger through secureHttp and nothing any other way', () => {
    expect(captured.map((c) => c.method)).toEqual(captured.map(() => 'http'));
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
    expect(checked).toBe(triggers().reduce((sum, t) => sum + t.methods.length, 0));
  });

  it('refuses a second trigger with the same name', () => {
    expect(() =>
      secureHttp('hello', { methods: ['GET'], route: 'other', handler: () => ({ status: 200 }) }),
    ).toThrow(/already registered/);
  });
});

describe('the registered triggers and apim/openapi.yaml', () => {
  const text = readApim('openapi.yaml');

  it('agree: every route and method served is an operation named after its function, and back', () => {
    expect(triggerProblems(triggers(), text)).toEqual([]);
  });

  /** The document with one more operation, a copy of the first one's under `path`. */
  function withOperation(path: string, operationId: string): string {
    const document = parse(text) as { paths: Record<string, Record<string, object>> };
    const first = Object.values(Object.values(document.paths)[0]!)[0]!;
    document.paths[path] = { get: { ...first, operationId } };
    return stringify(document);
  }

  // A function the project does not ship (nor docs/how-it-works.md's example, which
  // test/docs/protected-function.test.ts adds in a copy before running this file).
  const added: Trigger = { name: 'getInvoice', methods: ['GET'], route: 'invoices/{id}' };

  it('agree when a function and its operation are added together', () => {
    expect(
      triggerProblems([...triggers(), added], withOperation('/invoices/{id}', 'getInvoice')),
    ).toEqual([]);
    const constrained = { ...added, route: 'invoices/{id:int}' };
    expect(
      triggerProblems([...triggers(), constrained], withOperation('/invoices/{id}', 'getInvoice')),
    ).toEqual([]);
  });

  it.each([
    [
      'a function without its operation',
      () => triggerProblems([...triggers(), added], text),
      /GET \/invoices\/\{id\} is served by the function "getInvoice" but apim\/openapi\.yaml declares no such operation/,
    ],
    [
      'an operation without its function',
      () => triggerProblems(triggers(), withOperation('/invoices/{id}', 'getInvoice')),
      /GET \/invoices\/\{id\} \(getInvoice\) is declared in apim\/openapi\.yaml but no function serves it/,
    ],
    [
      'a function answering a method its operation does not declare',
      () =>
        triggerProblems(
          [...triggers(), { ...added, methods: ['GET', 'DELETE'] }],
          withOperation('/invoices/{id}', 'getInvoice'),
        ),
      /DELETE \/invoices\/\{id\} is served by the function "getInvoice"/,
    ],
    [
      'an operationId that is not the function name',
      () => triggerProblems([...triggers(), added], withOperation('/invoices/{id}', 'invoice')),
      /operationId is "invoice", not the function's name "getInvoice"/,
    ],
    [
      'a function whose route differs from the operation path',
      () =>
        triggerProblems(
          [...triggers(), { ...added, route: 'invoice/{id}' }],
          withOperation('/invoices/{id}', 'getInvoice'),
        ),
      /GET \/invoice\/\{id\} is served[\s\S]*GET \/invoices\/\{id\} \(getInvoice\) is declared/,
    ],
    [
      'a shipped function removed, its operation kept',
      () => triggerProblems(triggers().slice(1), text),
      /is declared in apim\/openapi\.yaml but no function serves it/,
    ],
  ])('disagree on %s', (_what, problems, expected) => {
    expect(problems().join('\n')).toMatch(expected);
  });
});
