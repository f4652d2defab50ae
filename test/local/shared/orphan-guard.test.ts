/**
 * dist/scripts/local/shared/orphan-guard.js: it ends as its command does, passes signals on, waits
 * for its command when its process group is signalled, and stops the command's whole tree when the
 * process that started it ends.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Finished, cleanEnv, script } from '../../support/node-process';
import { forceKill, leftAfter } from '../../support/processes';

const GUARD = script('local/shared/orphan-guard');

/** The guard running `node -e <code>`, as npm start starts it: detached, its own group's leader. */
function guard(code: string, options: { detached?: boolean } = {}) {
  const child = spawn(process.execPath, [GUARD, process.execPath, '-e', code], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = new Promise<Finished>((resolve) =>
    child.once('close', (exitCode, signal) => resolve({ code: exitCode, signal, stdout, stderr })),
  );
  const waitFor = async (text: string): Promise<void> => {
    const deadline = Date.now() + 15_000;
    while (!stdout.includes(text)) {
      if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`No "${text}" in:\n${stdout}${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { child, closed, waitFor };
}

// A child that says when it got SIGTERM and exits 5 a moment later.
const SLOW_TO_STOP = `
process.on('SIGTERM', () => { console.log('child got SIGTERM'); setTimeout(() => process.exit(5), 300); });
console.log('child ready');
setInterval(() => {}, 1000);
`;

describe.skipIf(process.platform === 'win32')('orphan-guard (POSIX: process groups)', () => {
  it("passes the command's output through and exits with its exit code", async () => {
    const run = guard("console.log('to stdout'); console.error('to stderr'); process.exit(3)");
    const finished = await run.closed;
    expect(finished).toEqual({
      code: 3,
      signal: null,
      stdout: 'to stdout\n',
      stderr: 'to stderr\n',
    });
  });

  it('ends with the signal that ended the command', async () => {
    const run = guard("process.kill(process.pid, 'SIGTERM')");
    expect(await run.closed).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  it('passes a SIGTERM sent to the guard alone on to the command, and ends when it has', async () => {
    const run = guard(SLOW_TO_STOP);
    try {
      await run.waitFor('child ready');
      run.child.kill('SIGTERM');
      expect(await run.closed).toMatchObject({
        code: 5,
        stdout: expect.stringContaining('child got SIGTERM'),
      });
    } finally {
      forceKill([run.child.pid!]);
    }
  });

  it("waits for the command when the whole group is signalled, as npm start's stop does", async () => {
    const run = guard(SLOW_TO_STOP);
    try {
      await run.waitFor('child ready');
      process.kill(-run.child.pid!, 'SIGTERM');
      // Exit code 5 is the command's, 300 ms after the signal: the guard did not end before it.
      expect(await run.closed).toMatchObject({ code: 5 });
    } finally {
      forceKill([run.child.pid!]);
    }
  });

  // Ignoring SIGTERM: the command (SIGKILL after the grace), or what it started (SIGKILL once the
  // command has exited).
  it.each([
    ['the command', 'setInterval(() => {}, 1000)', "process.on('SIGTERM', () => undefined);"],
    ['what it started', "process.on('SIGTERM', () => undefined); setInterval(() => {}, 1000)", ''],
  ])(
    'stops the whole tree when its parent is killed, even when %s ignores SIGTERM',
    async (_, grandchildCode, commandSetup) => {
      // A parent that starts the guard; the guard's command starts a grandchild.
      const command = `
${commandSetup}
const grandchild = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchildCode)}], { stdio: 'ignore' });
setTimeout(() => console.log('pids ' + process.pid + ' ' + grandchild.pid), 300);
setInterval(() => {}, 1000);
`;
      const parentCode = `
const guard = require('node:child_process').spawn(process.execPath, ${JSON.stringify([GUARD, process.execPath, '-e', command])}, { stdio: 'inherit', detached: true });
console.log('guard ' + guard.pid);
setInterval(() => {}, 1000);
`;
      const parent = spawn(process.execPath, ['-e', parentCode], {
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      parent.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      const pids: number[] = [parent.pid!];
      try {
        const deadline = Date.now() + 15_000;
        let match: RegExpMatchArray | null = null;
        while (
          !(match = /guard (\d+)\n[^]*pids (\d+) (\d+)\n/.exec(out)) &&
          Date.now() < deadline
        ) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(match, out).not.toBeNull();
        pids.push(Number(match![1]), Number(match![2]), Number(match![3]));
        parent.kill('SIGKILL');
        // The parent watch (200 ms), the grace (1.5 s) and a margin for a busy machine.
        expect(await leftAfter(pids, 5_000)).toEqual([]);
      } finally {
        forceKill(pids);
      }
    },
  );

  it('refuses to run when it does not lead its own process group', async () => {
    const run = guard("console.log('ran')", { detached: false });
    const finished = await run.closed;
    expect(finished.code).toBe(2);
    expect(finished.stdout).toBe('');
    expect(finished.stderr).toContain('must lead its own process group');
  });

  it('says so and exits 127 when the command does not exist, and 2 without one', async () => {
    const missing = spawn(process.execPath, [GUARD, '/nonexistent/func', 'start'], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    missing.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise((resolve) => missing.once('close', resolve));
    expect(code).toBe(127);
    expect(stderr).toContain(
      '[orphan-guard] cannot run /nonexistent/func: spawn /nonexistent/func ENOENT',
    );

    const none = spawn(process.execPath, [GUARD], {
      env: cleanEnv(),
      stdio: 'ignore',
      detached: true,
    });
    expect(await new Promise((resolve) => none.once('close', resolve))).toBe(2);
  });
});
