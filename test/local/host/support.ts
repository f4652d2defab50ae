/**
 * A small built app in a temporary folder, laid out like this project's build output (package.json
 * `main`, dist/functions/*.js registering through dist/functions/auth/register.js), whose triggers
 * expose what the built-in host hands them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const FUNCTIONS_MODULE = JSON.stringify(require.resolve('@azure/functions'));

/** Like the app's secureHttp(), without the auth layer: it registers with @azure/functions. */
const REGISTER = `
const { app } = require(${FUNCTIONS_MODULE});
exports.secureHttp = (name, options) => {
  app.http(name, { methods: options.methods, route: options.route, authLevel: 'anonymous', handler: options.handler });
};
`;

export const FIXTURE_FUNCTIONS: Record<string, string> = {
  'echo.js': `
const { secureHttp } = require('./auth/register');
secureHttp('echo', {
  methods: ['GET', 'POST', 'PUT'],
  route: 'echo/{id}/{rest?}',
  handler: async (request, context) => {
    context.log('echo called with', request.params.id);
    context.warn('a warning');
    const bytes = Buffer.from(await request.arrayBuffer());
    return {
      status: 200,
      jsonBody: {
        method: request.method,
        url: request.url,
        params: request.params,
        query: Object.fromEntries(request.query),
        contentType: request.headers.get('content-type'),
        custom: request.headers.get('x-custom'),
        bodyBase64: bytes.toString('base64'),
        invocationId: context.invocationId,
        functionName: context.functionName,
      },
    };
  },
});
`,
  'env.js': `
const { secureHttp } = require('./auth/register');
secureHttp('env', {
  methods: ['GET'],
  route: 'env/{name}',
  handler: (request) => ({ jsonBody: { value: process.env[request.params.name] ?? null } }),
});
`,
  'failures.js': `
const { secureHttp } = require('./auth/register');
secureHttp('throws', { methods: ['GET'], route: 'throws', handler: () => { throw new Error('boom'); } });
secureHttp('rejects', { methods: ['GET'], route: 'rejects', handler: async () => { await Promise.resolve(); throw new TypeError('async boom'); } });
secureHttp('bad-status', { methods: ['GET'], route: 'bad-status', handler: () => ({ status: 99 }) });
secureHttp('nothing', { methods: ['GET'], route: 'nothing', handler: () => undefined });
secureHttp('text-result', { methods: ['GET'], route: 'text-result', handler: () => 'just text' });
`,
  'items.js': `
const { secureHttp } = require('./auth/register');
secureHttp('item', { methods: ['GET', 'DELETE'], route: 'items/{id}', handler: (request) => ({ body: 'item ' + request.params.id }) });
secureHttp('special', { methods: ['GET'], route: 'Items/Special', handler: () => ({ body: 'special' }) });
secureHttp('submit', { methods: ['POST'], route: 'submit', handler: () => ({ status: 202 }) });
`,
  'response.js': `
const { HttpResponse } = require(${FUNCTIONS_MODULE});
const { secureHttp } = require('./auth/register');
secureHttp('response', {
  methods: ['GET'],
  route: 'response',
  handler: () => new HttpResponse({
    status: 201,
    headers: { 'X-Answer': '42', 'Content-Type': 'text/plain' },
    body: 'created',
    cookies: [{ name: 'a', value: '1', path: '/', httpOnly: true, sameSite: 'Strict' }],
  }),
});
`,
};

export interface Fixture {
  readonly root: string;
  remove(): void;
}

export function createFixture(
  options: {
    functions?: Record<string, string>;
    localSettings?: string;
    hostJson?: string;
    main?: string;
  } = {},
): Fixture {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'host-fixture-'));
  const functionsDir = path.join(root, 'dist', 'functions');
  fs.mkdirSync(path.join(functionsDir, 'auth'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'package.json'),
    JSON.stringify({ name: 'fixture', private: true, main: options.main ?? 'dist/functions/*.js' }),
  );
  fs.writeFileSync(path.join(functionsDir, 'auth', 'register.js'), REGISTER);
  for (const [name, source] of Object.entries(options.functions ?? FIXTURE_FUNCTIONS)) {
    fs.writeFileSync(path.join(functionsDir, name), source);
  }
  if (options.localSettings !== undefined) {
    fs.writeFileSync(path.join(root, 'local.settings.json'), options.localSettings);
  }
  if (options.hostJson !== undefined)
    fs.writeFileSync(path.join(root, 'host.json'), options.hostJson);
  return { root, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}
