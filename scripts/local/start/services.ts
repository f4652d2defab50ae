import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { ensureError } from '../../../functions/lib/errors';
import { watchParent } from '../shared/parent';
import { PortInUseError, ensurePortFree } from '../shared/ports';
import { STOP_GRACE_MS, signalGroup } from '../shared/process-group';

export { STOP_GRACE_MS };

/** How a service ended on its own. */
export interface ServiceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

/** A started service. */
export interface RunningService {
  readonly name: string;
  /** The process id, for a service that runs as a child process. */
  readonly pid?: number;
  /** What that process is, when it is not the service itself (printed after its pid). */
  readonly pidNote?: string;
  /** Settles when the service stops on its own (a child process exits, a server fails). */
  readonly exited: Promise<ServiceExit>;
  /** Stops the service; safe to call more than once. */
  stop(): Promise<void>;
}

/** One entry of the list of services that `npm start` runs (scripts/local/start/main.ts). */
export interface ServiceDefinition {
  /** Short name, used as the `[name]` prefix of its output. */
  readonly name: string;
  readonly port: number;
  /** The environment variable that sets `port`, named when the port is taken. */
  readonly portVariable: string;
  /** A URL that answers (with any HTTP status) once the service is ready. */
  readonly readyUrl: string;
  /** Default DEFAULT_READY_TIMEOUT_MS. */
  readonly readyTimeoutMs?: number;
  start(): Promise<RunningService>;
  /** Lines for the summary printed once every service is ready. */
  describe?(): string[];
}

export interface Output {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export const consoleOutput: Output = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

export const DEFAULT_READY_TIMEOUT_MS = 60_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

/** A service that runs inside this process (for example the identity stand-in). */
export function inProcessService(name: string, stop: () => Promise<void>): RunningService {
  let stopping: Promise<void> | undefined;
  return {
    name,
    exited: never(),
    stop: () => (stopping ??= stop()),
  };
}

export interface SpawnServiceOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly output?: Output;
  /** RunningService.pidNote. */
  readonly pidNote?: string;
}

function relayLines(
  stream: NodeJS.ReadableStream | null,
  prefix: string,
  write: (line: string) => void,
): void {
  if (!stream) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split(/\r?\n/);
    pending = lines.pop() ?? '';
    for (const line of lines) write(`${prefix}${line}`);
  });
  stream.on('end', () => {
    if (pending !== '') write(`${prefix}${pending}`);
  });
}

/**
 * Runs a child process as a service: its output is relayed line by line with a `[name]` prefix, and
 * stop() ends it (and, on POSIX, every process it started: it runs in its own process group, which
 * stop() also clears when the child itself has already exited) with SIGTERM, then SIGKILL after a
 * grace period.
 */
export function spawnService(options: SpawnServiceOptions): RunningService {
  const output = options.output ?? consoleOutput;
  const posix = process.platform !== 'win32';
  const child: ChildProcess = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: posix,
  });
  const prefix = `[${options.name}] `;
  relayLines(child.stdout, prefix, output.out);
  relayLines(child.stderr, prefix, output.err);

  let done = false;
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('error', (error) => {
      done = true;
      resolve({ code: null, signal: null, error });
    });
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  const signal = (name: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    // On POSIX also once the child has exited: whatever it started may still be in its group.
    if (posix) signalGroup(child.pid, name);
    else if (!done) child.kill(name);
  };
  const groupLeft = (): boolean => posix && child.pid !== undefined && signalGroup(child.pid, 0);
  // If this process ends without stopping its services, do not leave them behind.
  const onExit = (): void => signal('SIGTERM');
  process.once('exit', onExit);
  void exited.then(() => process.off('exit', onExit));

  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    pid: child.pid,
    pidNote: options.pidNote,
    exited,
    stop: () =>
      (stopping ??= (async () => {
        const deadline = Date.now() + STOP_GRACE_MS;
        signal('SIGTERM');
        // The grace is for the child and for what it started (a group member that exits after its
        // parent stays a zombie until PID 1 reaps it, and counts as left until then).
        while ((!done || groupLeft()) && Date.now() < deadline) {
          await (done ? sleep(50) : Promise.race([exited, sleep(50)]));
        }
        if (!done || groupLeft()) signal('SIGKILL');
        await exited;
      })()),
  };
}

/**
 * A service that runs `dist/scripts/<script>.js` of the project with this Node.js, for example
 * the built-in host (`local/host/main`).
 */
export function nodeScriptService(options: {
  readonly name: string;
  readonly projectRoot: string;
  /** Path below dist/scripts, without `.js` (for example `local/host/main`). */
  readonly script: string;
  readonly port: number;
  readonly portVariable: string;
  readonly readyUrl: string;
  readonly readyTimeoutMs?: number;
  /** The child's whole environment. */
  readonly env: NodeJS.ProcessEnv;
  /** Node.js options before the script, for example `--expose-gc`. */
  readonly nodeOptions?: readonly string[];
  readonly describe?: () => string[];
  readonly output?: Output;
}): ServiceDefinition {
  const { name, projectRoot, script, env, output, nodeOptions = [], ...definition } = options;
  return {
    name,
    ...definition,
    start: () =>
      Promise.resolve(
        spawnService({
          name,
          command: process.execPath,
          args: [...nodeOptions, path.join(projectRoot, 'dist', 'scripts', `${script}.js`)],
          cwd: projectRoot,
          env,
          output,
        }),
      ),
  };
}

/** Resolves once `url` answers with any HTTP status; rejects when `exited` settles first or on timeout. */
export async function waitUntilReady(
  url: string,
  options: {
    timeoutMs?: number;
    exited?: Promise<ServiceExit>;
    name?: string;
    signal?: AbortSignal;
  } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let gone: ServiceExit | undefined;
  void options.exited?.then((exit) => {
    gone = exit;
  });
  const label = options.name ?? url;
  for (;;) {
    if (options.signal?.aborted) throw new Error(`Stopped waiting for ${label}.`);
    if (gone) {
      throw new Error(`${label} stopped before it was ready (${describeExit(gone)}).`);
    }
    try {
      const timeout = AbortSignal.timeout(2_000);
      const response = await fetch(url, {
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
      await response.arrayBuffer();
      return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${label} did not answer at ${url} within ${Math.round(timeoutMs / 1000)} s.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

export function describeExit(exit: ServiceExit): string {
  if (exit.error) return exit.error.message;
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/** What stopped the services from outside: a signal, or the end of the parent process. */
type Interruption = NodeJS.Signals | 'parent_exited';

/**
 * Starts the services in order (each one ready before the next starts), prints their summary, and
 * runs until SIGINT/SIGTERM/SIGHUP or the end of the process that started this one (resolves 0), or
 * until one of them stops on its own (the others are stopped; resolves 1). A taken port or a
 * service that never gets ready also resolves 1, with a message that names the cause. Everything
 * started is stopped, in reverse order, before resolving.
 */
export async function runServices(
  definitions: readonly ServiceDefinition[],
  options: { output?: Output; signals?: readonly NodeJS.Signals[]; watchParent?: boolean } = {},
): Promise<number> {
  const output = options.output ?? consoleOutput;
  const signals = options.signals ?? ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const running: RunningService[] = [];

  let interrupted: (why: Interruption) => void = () => undefined;
  const interruption = new Promise<Interruption>((resolve) => {
    interrupted = resolve;
  });
  const handlers = signals.map((signal) => {
    const handler = (): void => interrupted(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  const stopWatching =
    options.watchParent === false ? undefined : watchParent(() => interrupted('parent_exited'));

  const stopAll = async (): Promise<void> => {
    for (const service of [...running].reverse()) {
      try {
        await service.stop();
      } catch (error) {
        output.err(`[start] stopping ${service.name} failed: ${ensureError(error).message}`);
      }
    }
  };

  try {
    output.out(`[start] npm start runs as process ${process.pid}; its services stop with it`);
    const ports = new Map<number, string>();
    for (const definition of definitions) {
      const other = ports.get(definition.port);
      if (other !== undefined) {
        output.err(
          `[start] ${definition.portVariable} and ${other} are both ${definition.port}; give each service its own port.`,
        );
        return 1;
      }
      ports.set(definition.port, definition.portVariable);
    }
    for (const definition of definitions) {
      try {
        await ensurePortFree(definition.port, definition.portVariable);
      } catch (error) {
        output.err(
          `[start] ${error instanceof PortInUseError ? error.message : ensureError(error).message}`,
        );
        return 1;
      }
    }

    for (const definition of definitions) {
      output.out(
        `[start] starting ${definition.name} on port ${definition.port} (${definition.portVariable})`,
      );
      const waiting = new AbortController();
      const started = definition.start().then((service) => {
        running.push(service);
        if (service.pid !== undefined) {
          const note = service.pidNote ? ` (${service.pidNote})` : '';
          output.out(`[start] ${definition.name} runs as process ${service.pid}${note}`);
        }
        return service;
      });
      const ready = started.then((service) =>
        waitUntilReady(definition.readyUrl, {
          timeoutMs: definition.readyTimeoutMs,
          exited: service.exited,
          name: definition.name,
          signal: waiting.signal,
        }),
      );
      const outcome = await Promise.race([
        ready.then(() => 'ready' as const),
        interruption.then(() => 'interrupted' as const),
      ]).catch((error: unknown) => ensureError(error));
      if (outcome === 'interrupted') {
        waiting.abort();
        await ready.catch(() => undefined);
        return 0;
      }
      if (outcome instanceof Error) {
        output.err(`[start] ${definition.name} did not start: ${outcome.message}`);
        return 1;
      }
    }

    output.out('');
    output.out('Ready:');
    for (const definition of definitions) {
      for (const line of definition.describe?.() ?? []) output.out(line);
    }
    output.out('Press Ctrl-C to stop.');

    const ended = await Promise.race([
      interruption.then((signal) => ({ signal })),
      ...running.map((service) => service.exited.then((exit) => ({ service, exit }))),
    ]);
    if ('signal' in ended) {
      output.out(
        ended.signal === 'parent_exited'
          ? '[start] the process that started npm start has ended: stopping'
          : `[start] ${ended.signal}: stopping`,
      );
      return 0;
    }
    output.err(
      `[start] ${ended.service.name} stopped (${describeExit(ended.exit)}); stopping the others.`,
    );
    return 1;
  } finally {
    stopWatching?.();
    await stopAll();
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}
