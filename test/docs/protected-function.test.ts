/**
 * docs/how-it-works.md, "Add a protected function", followed as written: in a copy of the project,
 * the page's function file is added and the app built; the built-in host (`npm run serve` of the
 * copy) serves it, trusting the identity stand-in; the new route is refused without a token (401),
 * for another identity and for API Management's identity without the role (403), and answers API
 * Management's token (200). The page's OpenAPI operation passes the API checks and is routed by
 * the local gateway.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { matchOperation, parseOpenApi } from '../../scripts/local/gateway/openapi';
import { IdentityServer, startIdentityServer } from '../../scripts/local/identity/server';
import {
  APIM_IDENTITY,
  LOCAL_API_CLIENT_ID,
  localFunctionAppSettings,
} from '../../scripts/local/shared/environment';
import { EXPECTED_OPERATIONS, openApiProblems } from '../apim/openapi-checks';
import { NodeProcess, cleanEnv } from '../support/node-process';
import { ROOT, codeBlocks } from './markdown';

const PAGE = 'docs/how-it-works.md';
const IDENTITY_HEADER = 'protected-function-test';

/** The page's code blocks marked `<!-- example: <what> -->`, by what. */
function examples(): Map<string, string> {
  const text = fs.readFileSync(path.join(ROOT, PAGE), 'utf8');
  const found = new Map<string, string>();
  for (const block of codeBlocks(text)) {
    const what = /^example:\s*(.+)$/.exec(block.comment ?? '')?.[1];
    if (what !== undefined) found.set(what.trim(), block.content);
  }
  return found;
}

function example(what: string): string {
  const content = examples().get(what);
  if (content === undefined)
    throw new Error(`${PAGE} has no block marked <!-- example: ${what} -->`);
  return content;
}

/** A copy of what `npm run build` and `npm run serve` need, sharing this checkout's node_modules. */
function copyProject(): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'protected-function-'));
  for (const entry of ['functions', 'package.json', 'host.json', 'tsconfig.json']) {
    fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'junction');
  // The scripts as the global setup built them: the copy's host serves the copy (its project root).
  fs.cpSync(path.join(ROOT, 'dist', 'scripts'), path.join(copy, 'dist', 'scripts'), {
    recursive: true,
  });
  return copy;
}

/** `npm run build` for functions/ (the scripts are already built): tsc with the project's options. */
function buildFunctions(copy: string): void {
  fs.writeFileSync(
    path.join(copy, 'tsconfig.functions.json'),
    JSON.stringify({
      extends: './tsconfig.json',
      compilerOptions: { noEmit: false },
      include: ['functions/**/*.ts'],
    }),
  );
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.functions.json'], {
    cwd: copy,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) {
    throw new Error(`The example does not build:\n${result.stdout}${result.stderr}`);
  }
}

let copy: string;
let identity: IdentityServer;
let host: NodeProcess;
let baseUrl: string;

async function get(route: string, token?: string) {
  const response = await fetch(`${baseUrl}${route}`, {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body };
}

/** A token from the managed identity endpoint, as the gateway gets one for API Management. */
async function apimToken(): Promise<string> {
  const url = `${identity.urls.managedIdentityEndpoint('apim')}?api-version=2019-08-01&resource=${LOCAL_API_CLIENT_ID}`;
  const response = await fetch(url, { headers: { 'X-IDENTITY-HEADER': IDENTITY_HEADER } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  copy = copyProject();
  fs.writeFileSync(path.join(copy, 'functions', 'orders.ts'), example('functions/orders.ts'));
  buildFunctions(copy);
  identity = await startIdentityServer({ identityHeader: IDENTITY_HEADER, log: () => {} });
  host = new NodeProcess(
    path.join(copy, 'dist', 'scripts', 'local', 'host', 'main.js'),
    [],
    cleanEnv({ PORT: '0', ...localFunctionAppSettings(identity.url) }),
  );
  baseUrl = (await host.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000))[1] ?? '';
  await host.waitFor(/Ctrl-C/, 30_000);
}, 180_000);

afterAll(async () => {
  await host?.stop();
  await identity?.close();
  if (copy !== undefined) fs.rmSync(copy, { recursive: true, force: true });
});

describe('a function added as docs/how-it-works.md says', () => {
  it('is served by the host of the built copy, beside the shipped ones', () => {
    expect(host.stdout).toMatch(/GET\s+\S+\/api\/orders\/\{id\}\s+\(getOrder\)/);
    expect(host.stdout).toMatch(/\(hello\)/);
    expect(fs.existsSync(path.join(ROOT, 'functions', 'orders.ts'))).toBe(false);
  });

  it('refuses a request without a token: 401', async () => {
    expect(await get('/api/orders/42')).toMatchObject({
      status: 401,
      body: { code: 'missing_token' },
    });
  });

  it('refuses another identity of the tenant: 403', async () => {
    expect(await get('/api/orders/42', identity.mint('intruder'))).toMatchObject({
      status: 403,
      body: { code: 'caller_not_allowed' },
    });
  });

  it("refuses API Management's identity without the app role: 403", async () => {
    const roleless = identity.mint('apim', { claims: { roles: undefined } });
    expect(await get('/api/orders/42', roleless)).toMatchObject({
      status: 403,
      body: { code: 'missing_role' },
    });
  });

  it("answers API Management's token: 200, with the caller from the token", async () => {
    expect(await get('/api/orders/42', await apimToken())).toEqual({
      status: 200,
      body: { id: '42', requestedBy: APIM_IDENTITY.objectId },
    });
  });

  it('refuses bad input with its own problem: 400', async () => {
    expect(await get('/api/orders/x', await apimToken())).toMatchObject({
      status: 400,
      body: { code: 'invalid_order_id' },
    });
  });
});

describe("the page's OpenAPI operation", () => {
  const document = parse(fs.readFileSync(path.join(ROOT, 'apim', 'openapi.yaml'), 'utf8')) as {
    paths: Record<string, unknown>;
  };
  document.paths = { ...document.paths, ...(parse(example('apim/openapi.yaml paths')) as object) };
  const text = stringify(document);

  it('passes the API checks once it is expected', () => {
    const expected = [
      ...EXPECTED_OPERATIONS,
      { method: 'get', path: '/orders/{id}', operationId: 'getOrder' },
    ];
    expect(openApiProblems(text, expected)).toEqual([]);
    expect(openApiProblems(text)).toEqual(['undeclared operations: get /orders/{id}']);
  });

  it('is routed by the local gateway', () => {
    const api = parseOpenApi(text, 'openapi.yaml');
    expect(matchOperation(api, 'GET', '/orders/42')?.operationId).toBe('getOrder');
    expect(matchOperation(api, 'POST', '/orders/42')).toBeUndefined();
  });
});
