import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, request } from './support';

/** `node dist/scripts/local/gateway/main.js` (what `npm run gateway` runs) as a child process. */

const SCRIPT = path.join(ROOT, 'dist', 'scripts', 'local', 'gateway', 'main.js');

interface Run {
  code: number | null;
  output: string;
}

function runToExit(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

let busy: http.Server;
let busyPort: number;

beforeAll(async () => {
  busy = http.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => busy.close(() => resolve()));
});

describe('npm run gateway', () => {
  it.each([
    ['IDENTITY_HEADER unset', { GATEWAY_PORT: '1' }, /IDENTITY_HEADER is not set/],
    [
      'a bad GATEWAY_PORT',
      { GATEWAY_PORT: 'abc', IDENTITY_HEADER: 'x' },
      /GATEWAY_PORT must be a port number/,
    ],
    [
      'a bad FUNCTIONS_PORT',
      { FUNCTIONS_PORT: '70000', IDENTITY_HEADER: 'x' },
      /FUNCTIONS_PORT must be a port number/,
    ],
  ])('fails fast on %s, naming the setting', async (_what, env, message) => {
    const run = await runToExit(env);
    expect(run.code).toBe(1);
    expect(run.output).toMatch(message);
  });

  it('names GATEWAY_PORT when the port is taken', async () => {
    const run = await runToExit({ GATEWAY_PORT: String(busyPort), IDENTITY_HEADER: 'x' });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(
      new RegExp(`Port ${busyPort} on 127\\.0\\.0\\.1 is already in use.*GATEWAY_PORT`),
    );
  });

  it('starts with LOCAL_SUBSCRIPTION_KEY, never prints it, and stops on SIGTERM', async () => {
    const key = 'cli-test-key-9f8e7d';
    const child = spawn(process.execPath, [SCRIPT], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        GATEWAY_PORT: '0',
        IDENTITY_HEADER: 'x',
        LOCAL_SUBSCRIPTION_KEY: key,
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not started:\n${output}`)), 15_000);
        child.stdout.on('data', () => {
          // The last start-up line is the curl; wait for it, not just the first one.
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*try: curl/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        child.once('exit', () => reject(new Error(`exited:\n${output}`)));
      });
      expect(output).toContain('try: curl -i -H');
      const reply = await request(`${url}/api/hello`, {
        headers: { 'Ocp-Apim-Subscription-Key': 'wrong' },
      });
      expect(reply.status).toBe(401);
      expect(output).not.toContain(key);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).toMatch(/GET \/api\/hello 401 \d+ms/);
    expect(output).not.toContain(key);
  });
});
