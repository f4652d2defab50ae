/**
 * docs/how-it-works.md, "Add a protected function", followed as written: in a copy of the project,
 * the page's function file is added and its operation inserted under `paths:` in
 * apim/openapi.yaml, and nothing else is edited. There, every test file that reads functions/ or
 * apim/ runs and passes: they derive what they expect from the registrations and the document.
 * Then the built-in host of the copy serves the new route, trusting the identity stand-in: it is
 * refused without a token (401), for another identity and for API Management's identity without
 * the role (403), and answers API Management's token (200). The local gateway routes the page's
 * operation.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchOperation, parseOpenApi } from '../../scripts/local/gateway/openapi';
import { IdentityServer, startIdentityServer } from '../../scripts/local/identity/server';
import {
  APIM_IDENTITY,
  LOCAL_API_CLIENT_ID,
  localFunctionAppSettings,
} from '../../scripts/local/shared/environment';
import { openApiProblems } from '../apim/openapi-checks';
import { defined } from '../support/assert';
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

/**
 * Reading the project's functions/ or apim/ folder: a path built from the project root into either
 * (`path.join(ROOT, 'apim')`, `path.resolve(__dirname, '../../functions')`), or an import of code
 * from functions/ (`from '../../functions/auth/register'`).
 */
const READS_APP_FOLDERS =
  /path\.(?:join|resolve)\(\s*(?:ROOT|root|__dirname)\s*,\s*'(?:\.\.\/)*(?:functions|apim)'|from '(?:\.\.\/)+functions\//;
const RELATIVE_IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm;

/**
 * The test files that read functions/ or apim/, themselves or through a module of test/ that they
 * import (test/apim/policy-checks.ts, test/local/gateway/support.ts...): the ones a new function
 * and its operation can break. This file is left out: it is the one that runs them.
 */
function testsReadingAppFolders(root: string): string[] {
  const testDir = path.join(root, 'test');
  const reads = (file: string, seen: Set<string>): boolean => {
    if (seen.has(file) || !fs.existsSync(file)) return false;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    if (READS_APP_FOLDERS.test(text)) return true;
    return [...text.matchAll(RELATIVE_IMPORT)].some((match) => {
      const target = path.resolve(path.dirname(file), `${match[1]!}.ts`);
      return target.startsWith(testDir + path.sep) && reads(target, seen);
    });
  };
  const self = path.relative(ROOT, __filename).split(path.sep).join('/');
  return fs
    .readdirSync(testDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .filter((file) => reads(path.join(testDir, file), new Set()))
    .map((file) => `test/${file.split(path.sep).join('/')}`)
    .filter((file) => file !== self)
    .sort();
}

/** The project as a user has it (what git does not ignore), sharing this checkout's node_modules. */
function copyProject(): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'protected-function-'));
  const ignored = new Set([
    '.git',
    ...fs
      .readFileSync(path.join(ROOT, '.gitignore'), 'utf8')
      .split(/\r?\n/)
      .map((line) => line.trim().replace(/^\/|\/$/g, ''))
      .filter((line) => line !== '' && !/[*#!]/.test(line)),
  ]);
  for (const entry of fs.readdirSync(ROOT)) {
    if (ignored.has(entry)) continue;
    fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'junction');
  return copy;
}

/** apim/openapi.yaml with the page's operation added under `paths:`, as the page says. */
function addOperation(openApi: string, operation: string): string {
  const lines = openApi.split('\n');
  const at = lines.indexOf('paths:');
  if (at < 0) throw new Error('apim/openapi.yaml has no top-level "paths:" line');
  const indented = operation
    .trimEnd()
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`));
  return [...lines.slice(0, at + 1), ...indented, ...lines.slice(at + 1)].join('\n');
}

interface VitestResults {
  numPassedTests: number;
  testResults: {
    name: string;
    status: string;
    assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
  }[];
}

interface TestRun {
  code: number | null;
  output: string;
  results: VitestResults | undefined;
}

/** `vitest run <files>` in the copy, as `npm test` runs them there (its global setup builds the copy). */
function runTests(copy: string, files: readonly string[]): Promise<TestRun> {
  const outputFile = path.join(copy, '.vitest-results.json');
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(VITEST|NODE_OPTIONS$)/.test(name)),
  );
  const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const args = ['run', '--reporter=json', `--outputFile=${outputFile}`, ...files];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vitest, ...args], {
      cwd: copy,
      env: { ...inherited, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const results = fs.existsSync(outputFile)
        ? (JSON.parse(fs.readFileSync(outputFile, 'utf8')) as VitestResults)
        : undefined;
      resolve({ code, output, results });
    });
  });
}

let copy: string;
let selected: string[];
let run: TestRun;
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
  const openApi = path.join(copy, 'apim', 'openapi.yaml');
  fs.writeFileSync(
    openApi,
    addOperation(fs.readFileSync(openApi, 'utf8'), example('apim/openapi.yaml paths')),
  );
  selected = testsReadingAppFolders(copy);
  run = await runTests(copy, selected);
  // The copy's dist/ is what its test run built.
  identity = await startIdentityServer({ identityHeader: IDENTITY_HEADER, log: () => {} });
  host = new NodeProcess(
    path.join(copy, 'dist', 'scripts', 'local', 'host', 'main.js'),
    [],
    cleanEnv({ PORT: '0', ...localFunctionAppSettings(identity.url) }),
    copy,
  );
  baseUrl = (await host.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000))[1] ?? '';
  await host.waitFor(/Ctrl-C/, 30_000);
}, 600_000);

afterAll(async () => {
  await host?.stop();
  await identity?.close();
  if (copy !== undefined) fs.rmSync(copy, { recursive: true, force: true });
});

describe('in the copy with the new function, the tests that read functions/ or apim/', () => {
  it('are found by what they read', () => {
    expect(selected).toEqual(
      expect.arrayContaining([
        'test/apim/openapi.test.ts',
        'test/apim/policies.test.ts',
        'test/functions/registrations.test.ts',
        'test/functions/handlers.test.ts',
        'test/local/gateway/routing.test.ts',
      ]),
    );
    expect(selected).not.toContain('test/docs/protected-function.test.ts');
  });

  it('all run and pass, with nothing else edited', () => {
    const failures = (run.results?.testResults ?? []).flatMap((file) =>
      file.assertionResults
        .filter((test) => test.status === 'failed')
        .map((test) => `${file.name} > ${test.fullName}\n${test.failureMessages.join('\n')}`),
    );
    expect(failures).toEqual([]);
    const results = defined(run.results, `the copy's test results:\n${run.output}`);
    expect(run.code, run.output).toBe(0);
    const status = new Map(
      results.testResults.map((file) => [
        path.relative(copy, file.name).split(path.sep).join('/'),
        file.status,
      ]),
    );
    expect([...status.keys()].sort()).toEqual(selected);
    // A file may be skipped as in any run (the infra tests without a Bicep CLI, outside CI); the
    // checks of the registrations and the document never are.
    expect(status.get('test/functions/registrations.test.ts')).toBe('passed');
    expect(status.get('test/apim/openapi.test.ts')).toBe('passed');
    expect([...status.values()].filter((s) => s !== 'passed' && s !== 'skipped')).toEqual([]);
    expect(results.numPassedTests).toBeGreaterThan(selected.length);
  });
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
  const text = addOperation(
    fs.readFileSync(path.join(ROOT, 'apim', 'openapi.yaml'), 'utf8'),
    example('apim/openapi.yaml paths'),
  );

  it('passes the API checks, inserted under paths: as the page says', () => {
    expect(openApiProblems(text)).toEqual([]);
  });

  it('is routed by the local gateway', () => {
    const api = parseOpenApi(text, 'openapi.yaml');
    expect(matchOperation(api, 'GET', '/orders/42')?.operationId).toBe('getOrder');
    expect(matchOperation(api, 'POST', '/orders/42')).toBeUndefined();
  });
});
