import http from 'node:http';
import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import {
  Output,
  RunningService,
  ServiceDefinition,
  ServiceExit,
  inProcessService,
  runServices,
  spawnService,
  waitUntilReady,
} from '../../../scripts/local/start/services';
import { ROOT } from '../../support/node-process';
import { freePort, portIsFree } from '../../support/ports';

function capture(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (line) => lines.push(line), err: (line) => lines.push(`ERR ${line}`) };
}

/** An in-process HTTP service that records its start and stop in `events`. */
function httpService(
  name: string,
  port: number,
  events: string[],
  options: { exit?: Promise<ServiceExit>; readyUrl?: string } = {},
): ServiceDefinition {
  return {
    name,
    port,
    portVariable: `${name.toUpperCase()}_PORT`,
    readyUrl: options.readyUrl ?? `http://127.0.0.1:${port}/`,
    readyTimeoutMs: 5_000,
    start: async () => {
      const server = http.createServer((_req, res) => res.end('ok'));
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      events.push(`start ${name}`);
      const service = inProcessService(name, async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        events.push(`stop ${name}`);
      });
      return options.exit ? { ...service, exited: options.exit } : service;
    },
    describe: () => [`${name} ready`],
  };
}

describe('runServices', () => {
  it('starts in order, each ready before the next, prints the summary, and on a signal stops in reverse order', async () => {
    const events: string[] = [];
    const output = capture();
    const [a, b] = [await freePort(), await freePort()];
    const running = runServices([httpService('one', a, events), httpService('two', b, events)], {
      output,
      signals: ['SIGUSR2'],
    });
    await vi.waitFor(() => expect(output.lines).toContain('Press Ctrl-C to stop.'), {
      timeout: 10_000,
    });
    expect(events).toEqual(['start one', 'start two']);
    expect(output.lines).toEqual(expect.arrayContaining(['Ready:', 'one ready', 'two ready']));
    process.kill(process.pid, 'SIGUSR2');
    expect(await running).toBe(0);
    expect(events).toEqual(['start one', 'start two', 'stop two', 'stop one']);
  });

  it('stops the others and resolves 1 when a service stops on its own', async () => {
    const events: string[] = [];
    const output = capture();
    let exit: (value: ServiceExit) => void = () => undefined;
    const exited = new Promise<ServiceExit>((resolve) => (exit = resolve));
    const [a, b] = [await freePort(), await freePort()];
    const running = runServices(
      [httpService('one', a, events), httpService('two', b, events, { exit: exited })],
      {
        output,
        signals: [],
      },
    );
    await vi.waitFor(() => expect(output.lines).toContain('Press Ctrl-C to stop.'), {
      timeout: 10_000,
    });
    exit({ code: 3, signal: null });
    expect(await running).toBe(1);
    expect(events).toEqual(['start one', 'start two', 'stop two', 'stop one']);
    expect(output.lines).toContain('ERR [start] two stopped (exit code 3); stopping the others.');
  });

  it('starts nothing and resolves 1 when a port is taken, naming its variable', async () => {
    const events: string[] = [];
    const output = capture();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const code = await runServices(
        [httpService('one', await freePort(), events), httpService('two', port, events)],
        {
          output,
          signals: [],
        },
      );
      expect(code).toBe(1);
      expect(events).toEqual([]);
      expect(output.lines.join('\n')).toContain(
        `Port ${port} on 127.0.0.1 is already in use: stop what uses it or set TWO_PORT to another port.`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('refuses two services on one port', async () => {
    const output = capture();
    const port = await freePort();
    const code = await runServices([httpService('one', port, []), httpService('two', port, [])], {
      output,
      signals: [],
    });
    expect(code).toBe(1);
    expect(output.lines.join('\n')).toContain('TWO_PORT and ONE_PORT are both');
  });

  it('stops what it started and resolves 1 when a service never gets ready', async () => {
    const events: string[] = [];
    const output = capture();
    const [a, b] = [await freePort(), await freePort()];
    const neverReady = {
      ...httpService('two', b, events, { readyUrl: `http://127.0.0.1:${await freePort()}/` }),
      readyTimeoutMs: 500,
    };
    const code = await runServices([httpService('one', a, events), neverReady], {
      output,
      signals: [],
    });
    expect(code).toBe(1);
    expect(events).toEqual(['start one', 'start two', 'stop two', 'stop one']);
    expect(output.lines.join('\n')).toMatch(/two did not start: two did not answer/);
  });
});

describe('waitUntilReady', () => {
  it('rejects as soon as the service stops before answering', async () => {
    await expect(
      waitUntilReady(`http://127.0.0.1:${await freePort()}/`, {
        name: 'gone',
        timeoutMs: 60_000,
        exited: Promise.resolve({ code: 1, signal: null }),
      }),
    ).rejects.toThrow('gone stopped before it was ready (exit code 1).');
  });
});

describe('spawnService', () => {
  it('relays output with a [name] prefix and stop() ends the child and the processes it started', async () => {
    const output = capture();
    const port = await freePort();
    // The child starts a grandchild that listens on `port`, like `func start` starting its worker.
    const grandchild = `require('node:http').createServer((q, s) => s.end('up')).listen(${port}, '127.0.0.1', () => console.log('grandchild listening'))`;
    const child = `const c = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'inherit' }); console.log('child started'); setInterval(() => {}, 1000);`;
    const service: RunningService = spawnService({
      name: 'demo',
      command: process.execPath,
      args: ['-e', child],
      cwd: ROOT,
      env: { PATH: process.env.PATH },
      output,
    });
    expect(service.pid).toBeGreaterThan(0);
    await waitUntilReady(`http://127.0.0.1:${port}/`, {
      exited: service.exited,
      timeoutMs: 10_000,
    });
    await service.stop();
    const exit = await service.exited;
    // Ended by stop()'s SIGTERM, not by a crash of its own (a crash would exit with a code).
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(output.lines).toEqual(
      expect.arrayContaining(['[demo] child started', '[demo] grandchild listening']),
    );
    // The grandchild got the signal too (same process group): its port becomes free again.
    const free = async (): Promise<boolean> =>
      new Promise((resolve) => {
        const probe = net.createServer();
        probe.once('error', () => resolve(false));
        probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
      });
    await vi.waitFor(async () => expect(await free()).toBe(true), { timeout: 5_000 });
  });

  it.skipIf(process.platform === 'win32')(
    'stop() also ends what the child left in its process group, with SIGKILL after the grace (POSIX)',
    async () => {
      const port = await freePort();
      // The grandchild ignores SIGTERM and keeps its port after the child has exited.
      const grandchild = `process.on('SIGTERM', () => undefined); require('node:http').createServer((q, s) => s.end('up')).listen(${port}, '127.0.0.1')`;
      const child = `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'ignore' }); setInterval(() => {}, 1000);`;
      const service = spawnService({
        name: 'demo',
        command: process.execPath,
        args: ['-e', child],
        cwd: ROOT,
        env: { PATH: process.env.PATH },
        output: capture(),
      });
      try {
        await waitUntilReady(`http://127.0.0.1:${port}/`, {
          exited: service.exited,
          timeoutMs: 10_000,
        });
        await service.stop();
        expect(await service.exited).toEqual({ code: null, signal: 'SIGTERM' });
        // stop() returns once the group is empty or has been sent SIGKILL: a moment for the kernel.
        await vi.waitFor(async () => expect(await portIsFree(port)).toBe(true), {
          timeout: 5_000,
        });
      } finally {
        try {
          process.kill(-service.pid!, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    },
  );

  it('reports a command that cannot be started as an exit with its error', async () => {
    const service = spawnService({
      name: 'missing',
      command: '/nonexistent/func',
      args: [],
      cwd: ROOT,
      env: {},
      output: capture(),
    });
    const exit = await service.exited;
    expect(exit.error?.message).toContain('ENOENT');
  });
});
