/**
 * The built-in host with the real built app, its Application Insights rows captured
 * (scripts/local/host/telemetry.ts), and the KQL files of infra/queries read as they are deployed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FunctionHost, startFunctionHost } from '../../scripts/local/host/server';
import type { TelemetryRow } from '../../scripts/local/host/telemetry';
import { ROOT } from '../support/node-process';
import type { Row, Tables } from './kusto';

export const QUERIES_DIR = path.join(ROOT, 'infra', 'queries');

/** Every query file, by name without `.kql`. */
export function queryFiles(): Record<string, string> {
  return Object.fromEntries(
    fs
      .readdirSync(QUERIES_DIR)
      .filter((name) => name.endsWith('.kql'))
      .map((name) => [name.slice(0, -4), fs.readFileSync(path.join(QUERIES_DIR, name), 'utf8')]),
  );
}

export function query(name: string): string {
  return fs.readFileSync(path.join(QUERIES_DIR, `${name}.kql`), 'utf8');
}

export interface CapturedHost {
  readonly host: FunctionHost;
  readonly rows: TelemetryRow[];
  readonly lines: string[];
  /** The rows as the tables a query reads. */
  tables(extra?: Partial<Record<'AppTraces' | 'AppRequests', Row[]>>): Tables;
  call(pathname: string, headers?: Record<string, string>): Promise<number>;
}

export async function startCapturedHost(): Promise<CapturedHost> {
  const rows: TelemetryRow[] = [];
  const lines: string[] = [];
  const host = await startFunctionHost({
    projectRoot: ROOT,
    log: (line) => lines.push(line),
    telemetry: (row) => rows.push(row),
  });
  return {
    host,
    rows,
    lines,
    tables: (extra = {}) => {
      const of = (type: string): Row[] =>
        rows.filter((r) => r.Type === type).map((r) => ({ ...r }));
      return {
        AppTraces: [...of('AppTraces'), ...(extra.AppTraces ?? [])],
        AppRequests: [...of('AppRequests'), ...(extra.AppRequests ?? [])],
      };
    },
    call: async (pathname, headers = {}) => {
      const response = await fetch(`${host.url}${pathname}`, { headers });
      await response.arrayBuffer();
      return response.status;
    },
  };
}
