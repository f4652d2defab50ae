/**
 * No service outlives `npm start`: on SIGTERM or SIGHUP to npm's process or to the supervisor
 * (dist/scripts/local/start/main.js), and on SIGKILL of the supervisor, the identity stand-in, the
 * built-in host and the gateway all exit within 2 s and free their ports. So does Core Tools (a
 * fake `func` here), which does not watch its parent, and the worker it starts.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess, ROOT, cleanEnv, script } from '../../support/node-process';
import { freePort, portIsFree } from '../../support/ports';
import { ended, forceKill } from '../../support/processes';

const DEADLINE_MS = 2_000;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetime-'));
  // npm runs this the way it runs the project's own start script: through `sh -c`, with a command
  // before the supervisor so that the shell stays in between (as `npm run build && node ...` did).
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'lifetime-test',
      private: true,
      scripts: { start: `true && "${process.execPath}" "${script('local/start/main')}"` },
    }),
  );
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function environment(extra: Record<string, string> = {}) {
  const ports = {
    IDENTITY_PORT: await freePort(),
    FUNCTIONS_PORT: await freePort(),
    GATEWAY_PORT: await freePort(),
  };
  const env = cleanEnv({
    ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
    IDENTITY_KEYS_FILE: path.join(dir, 'keys.json'),
    LOCAL_FUNCTION_HOST: 'builtin',
    ...extra,
  });
  return { env, ports: Object.values(ports) };
}

/** Resolves to what is still up `DEADLINE_MS` after the kill: empty when everything has stopped. */
async function leftAfterDeadline(pids: number[], ports: number[]): Promise<string[]> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const left = [
      ...pids.filter((pid) => !ended(pid)).map((pid) => `process ${pid}`),
      ...(await Promise.all(
        ports.map(async (port) => ((await portIsFree(port)) ? '' : `port ${port}`)),
      )),
    ].filter(Boolean);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Output of a child, and a wait for a line in it. */
function capture(child: ChildProcess) {
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return {
    get output() {
      return out;
    },
    waitFor: async (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = out.match(pattern);
        if (match) return match;
        if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`No ${pattern} in:\n${out}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

// POSIX signals (SIGHUP, SIGKILL of a process tree) and an orphan's new parent are what is tested.
describe.skipIf(process.platform === 'win32')(
  'npm start leaves no process behind (POSIX only: SIGHUP and reparenting)',
  () => {
    it.each(['SIGTERM', 'SIGHUP'] as const)(
      "when npm's own process gets %s",
      async (signal) => {
        const { env, ports } = await environment();
        const npm = spawn('npm', ['run', '-s', 'start'], {
          cwd: dir,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const out = capture(npm);
        const pids: number[] = [];
        try {
          const [, supervisor] = await out.waitFor(/\[start\] npm start runs as process (\d+)/);
          const [, host] = await out.waitFor(/\[start\] functions runs as process (\d+)/);
          pids.push(Number(supervisor), Number(host));
          await out.waitFor(/^Press Ctrl-C to stop\.$/m);
          npm.kill(signal);
          expect(await leftAfterDeadline(pids, ports)).toEqual([]);
        } finally {
          forceKill([...pids, npm.pid!]);
        }
      },
      60_000,
    );

    it.each(['SIGTERM', 'SIGHUP', 'SIGKILL'] as const)(
      'when the supervisor gets %s',
      async (signal) => {
        const { env, ports } = await environment();
        const start = new NodeProcess(script('local/start/main'), [], env);
        const pids = [start.child.pid!];
        try {
          const [, host] = await start.waitFor(/\[start\] functions runs as process (\d+)/, 30_000);
          pids.push(Number(host));
          await start.waitFor(/^Press Ctrl-C to stop\.$/m, 30_000);
          start.child.kill(signal);
          expect(await leftAfterDeadline(pids, ports)).toEqual([]);
          if (signal !== 'SIGKILL') {
            expect((await start.closed).code).toBe(0);
            expect(start.stdout).toContain(`[start] ${signal}: stopping`);
          }
        } finally {
          forceKill(pids);
        }
      },
      60_000,
    );
  },
);

/**
 * `func start --port <port>` as far as npm start sees it: it serves the port, and it starts a
 * language worker as its own child (the Functions host starts the Node.js worker as a child process,
 * in its process group). Like Core Tools, neither watches its parent.
 */
const FAKE_FUNC = `
const { spawn } = require('node:child_process');
const http = require('node:http');
const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const worker = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
http.createServer((request, response) => response.end('fake func')).listen(port, '127.0.0.1', () => {
  console.log('fake func is process ' + process.pid + ', its worker process ' + worker.pid);
});
`;

// node_modules/.bin comes before PATH when npm start looks for func: a real one there would run.
const coreToolsInProject = fs.existsSync(path.join(ROOT, 'node_modules', '.bin', 'func'));

describe.skipIf(process.platform === 'win32' || coreToolsInProject)(
  'npm start leaves no Core Tools process behind (POSIX only; skipped when node_modules/.bin/func would be run instead of the fake)',
  () => {
    let bin: string;
    beforeAll(() => {
      bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-func-'));
      fs.writeFileSync(path.join(bin, 'func'), `#!${process.execPath}\n${FAKE_FUNC}`, {
        mode: 0o755,
      });
    });
    afterAll(() => {
      fs.rmSync(bin, { recursive: true, force: true });
    });

    // The process npm start names for the function app is the guard: its end also ends func.
    it.each([
      ['the supervisor', 'SIGTERM'],
      ['the supervisor', 'SIGKILL'],
      ['the process named for the function app', 'SIGKILL'],
    ] as const)(
      'when %s gets %s',
      async (target, signal) => {
        const { env, ports } = await environment({
          LOCAL_FUNCTION_HOST: 'func',
          PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
        });
        const start = new NodeProcess(script('local/start/main'), [], env);
        const pids = [start.child.pid!];
        try {
          const [, guard] = await start.waitFor(
            /\[start\] functions runs as process (\d+) \(orphan-guard around func start/,
            30_000,
          );
          const [, func, worker] = await start.waitFor(
            /\[functions\] fake func is process (\d+), its worker process (\d+)/,
            30_000,
          );
          pids.push(Number(guard), Number(func), Number(worker));
          await start.waitFor(/^Press Ctrl-C to stop\.$/m, 30_000);
          expect(start.stdout).toContain(`(Core Tools: ${path.join(bin, 'func')})`);
          if (target === 'the supervisor') {
            start.child.kill(signal);
            expect(await leftAfterDeadline(pids, ports)).toEqual([]);
            if (signal !== 'SIGKILL') {
              expect((await start.closed).code).toBe(0);
              expect(start.stdout).toContain(`[start] ${signal}: stopping`);
            }
          } else {
            process.kill(Number(guard), signal);
            expect(await leftAfterDeadline(pids, ports)).toEqual([]);
            expect((await start.closed).code).toBe(1);
            expect(start.stderr).toContain(
              '[start] functions stopped (signal SIGKILL); stopping the others.',
            );
          }
        } finally {
          forceKill(pids);
        }
      },
      60_000,
    );
  },
);
