/**
 * `npm start` (dist/scripts/local/start/main.js) with the built-in host: the identity stand-in and the
 * function app on the ports it is given, wired to trust each other, stopped together.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess, ROOT, cleanEnv, runNode, script } from '../../support/node-process';
import { freePort, portIsFree } from '../../support/ports';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'start-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function environment(extra: Record<string, string> = {}) {
  const identityPort = await freePort();
  const functionsPort = await freePort();
  const env = cleanEnv({
    IDENTITY_PORT: String(identityPort),
    FUNCTIONS_PORT: String(functionsPort),
    // Every service npm start runs gets a free port, so parallel test files never collide.
    GATEWAY_PORT: String(await freePort()),
    IDENTITY_KEYS_FILE: path.join(dir, 'keys.json'),
    LOCAL_FUNCTION_HOST: 'builtin',
    ...extra,
  });
  return { env, identityPort, functionsPort };
}

describe('npm start', () => {
  it('runs both, prints a mint command and a curl that work, and stops everything on SIGINT', async () => {
    const { env, identityPort, functionsPort } = await environment();
    const start = new NodeProcess(script('local/start/main'), [], env);
    try {
      await start.waitFor(/^Press Ctrl-C to stop\.$/m, 30_000);
      expect(start.stdout).toContain(`identity stand-in  http://127.0.0.1:${identityPort}`);
      expect(start.stdout).toContain(
        `function app       http://127.0.0.1:${functionsPort}/api/  (built-in host, LOCAL_FUNCTION_HOST=builtin)`,
      );
      const mintLine = start.stdout.match(/TOKEN=\$\((.*) npm run -s identity -- mint apim\)/);
      expect(mintLine?.[1]).toBe(
        `IDENTITY_PORT=${identityPort} IDENTITY_KEYS_FILE=${path.join(dir, 'keys.json')}`,
      );
      expect(start.stdout).toContain(
        `curl -i -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:${functionsPort}/api/hello?name=world"`,
      );

      // What the printed command does: mint with the same port and key file, then call the function.
      const minted = await runNode(script('local/identity/main'), ['mint', 'apim'], env);
      expect(minted.code).toBe(0);
      const token = minted.stdout.trim();
      const hello = await fetch(`http://127.0.0.1:${functionsPort}/api/hello?name=world`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(hello.status).toBe(200);
      expect(await hello.json()).toEqual({ message: 'Hello, world!' });
      const intruder = await runNode(script('local/identity/main'), ['mint', 'intruder'], env);
      const refused = await fetch(`http://127.0.0.1:${functionsPort}/api/whoami`, {
        headers: { Authorization: `Bearer ${intruder.stdout.trim()}` },
      });
      expect(refused.status).toBe(403);
      await refused.arrayBuffer();

      const finished = await start.stop('SIGINT');
      expect(finished.code).toBe(0);
      expect(start.stdout).toContain('[start] stopped');
      expect(await portIsFree(identityPort)).toBe(true);
      expect(await portIsFree(functionsPort)).toBe(true);
      expect(start.output).not.toContain(token);
    } finally {
      await start.stop('SIGKILL');
    }
  });

  it('exits 1 naming FUNCTIONS_PORT when that port is taken, having started nothing', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const { env, identityPort } = await environment({ FUNCTIONS_PORT: String(port) });
      const { code, stderr, stdout } = await runNode(script('local/start/main'), [], env, {
        timeoutMs: 30_000,
      });
      expect(code).toBe(1);
      expect(stderr).toContain(
        `Port ${port} on 127.0.0.1 is already in use: stop what uses it or set FUNCTIONS_PORT to another port.`,
      );
      expect(stdout).not.toContain('[start] starting');
      expect(await portIsFree(identityPort)).toBe(true);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('stops the identity stand-in and exits 1 when the function app dies', async () => {
    const { env, identityPort, functionsPort } = await environment();
    const start = new NodeProcess(script('local/start/main'), [], env);
    try {
      const [, pid] = await start.waitFor(/\[start\] functions runs as process (\d+)/, 30_000);
      await start.waitFor(/^Press Ctrl-C to stop\.$/m, 30_000);
      process.kill(Number(pid), 'SIGKILL');
      const finished = await start.closed;
      expect(finished.code).toBe(1);
      expect(start.stderr).toContain(
        '[start] functions stopped (signal SIGKILL); stopping the others.',
      );
      expect(await portIsFree(identityPort)).toBe(true);
      expect(await portIsFree(functionsPort)).toBe(true);
    } finally {
      await start.stop('SIGKILL');
    }
  });

  it.each([
    ['IDENTITY_PORT', 'x', 'IDENTITY_PORT must be a port number'],
    ['LOCAL_FUNCTION_HOST', 'docker', 'LOCAL_FUNCTION_HOST must be auto, func or builtin'],
    ['IDENTITY_TOKEN_VERSION', '3', 'IDENTITY_TOKEN_VERSION must be 1 or 2'],
  ])('exits 2 on a malformed %s, naming it', async (name, value, message) => {
    const { env } = await environment({ [name]: value });
    const { code, stderr } = await runNode(script('local/start/main'), [], env);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  const coreToolsInstalled = fs.existsSync(path.join(ROOT, 'node_modules', '.bin', 'func'));
  it.skipIf(coreToolsInstalled)(
    'exits 2 when LOCAL_FUNCTION_HOST=func and Core Tools is not installed (skipped where it is installed)',
    async () => {
      const { env } = await environment({
        LOCAL_FUNCTION_HOST: 'func',
        PATH: path.dirname(process.execPath),
      });
      const { code, stderr } = await runNode(script('local/start/main'), [], env);
      expect(code).toBe(2);
      expect(stderr).toContain('Core Tools (func) is not installed');
    },
  );
});
