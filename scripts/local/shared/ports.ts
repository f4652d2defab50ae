import net from 'node:net';
import type { Server } from 'node:http';

/** Every local server binds loopback only: nothing here is meant to be reachable from elsewhere. */
export const LOOPBACK = '127.0.0.1';

/** A port that another process already listens on. `variable` names the setting that moves it. */
export class PortInUseError extends Error {
  readonly code = 'port_in_use';

  constructor(
    readonly port: number,
    readonly variable: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `Port ${port} on ${LOOPBACK} is already in use` +
        (variable ? `: stop what uses it or set ${variable} to another port.` : '.'),
      options,
    );
    this.name = 'PortInUseError';
  }
}

/**
 * Reads a port from the environment variable `variable`, or `fallback` when unset. Port 0 (an
 * ephemeral port) is accepted only when `allowZero` is set. Throws a TypeError naming the variable.
 */
export function readPort(
  env: NodeJS.ProcessEnv,
  variable: string,
  fallback: number,
  options: { allowZero?: boolean } = {},
): number {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  const min = options.allowZero ? 0 : 1;
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new TypeError(`${variable} must be a port number from ${min} to 65535, got "${raw}".`);
  }
  return port;
}

/**
 * Starts `server` on 127.0.0.1:`port` and resolves to the port it got (useful with port 0).
 * Rejects with a PortInUseError naming `variable` when the port is taken.
 */
export function listen(
  server: Server | net.Server,
  port: number,
  variable?: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(
        error.code === 'EADDRINUSE' ? new PortInUseError(port, variable, { cause: error }) : error,
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, LOOPBACK);
  });
}

/** Rejects with a PortInUseError when something already listens on 127.0.0.1:`port`. */
export async function ensurePortFree(port: number, variable?: string): Promise<void> {
  const probe = net.createServer();
  await listen(probe, port, variable);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}
