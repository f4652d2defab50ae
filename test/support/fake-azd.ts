import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A stand-in for the azd CLI, put first on PATH of a child process. It answers what this
 * project's scripts run: `azd auth token` (AzureDeveloperCliCredential) with FAKE_AZD_TOKEN,
 * `azd env set KEY VALUE`, and `azd env get-values --output json` with FAKE_AZD_VALUES (fails
 * like azd without an environment when that is unset). Every call is logged. POSIX only.
 */
const SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_AZD_LOG, JSON.stringify(args) + '\\n');
const is = (...prefix) => prefix.every((word, i) => args[i] === word);
if (is('auth', 'token')) {
  process.stdout.write(JSON.stringify({ token: process.env.FAKE_AZD_TOKEN, expiresOn: new Date(Date.now() + 3600e3).toISOString() }));
} else if (is('env', 'set') && args.length === 4) {
  // stored by the test through the log
} else if (is('env', 'get-values', '--output', 'json') && process.env.FAKE_AZD_VALUES) {
  process.stdout.write(process.env.FAKE_AZD_VALUES);
} else {
  process.stderr.write('ERROR: fake azd: unsupported command or no environment');
  process.exit(1);
}
`;

export interface FakeAzd {
  readonly dir: string;
  /** Environment for the child process: PATH with the fake first, and where it logs. */
  env(token: string, values?: Record<string, string>): Record<string, string>;
  /** The argument lists azd was called with, in order. */
  calls(): string[][];
  clear(): void;
  remove(): void;
}

export function createFakeAzd(): FakeAzd {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fake-azd-'));
  const log = path.join(dir, 'azd.log');
  writeFileSync(path.join(dir, 'azd'), SCRIPT);
  chmodSync(path.join(dir, 'azd'), 0o755);
  writeFileSync(log, '');
  return {
    dir,
    env(token, values) {
      return {
        PATH: [dir, path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter),
        FAKE_AZD_LOG: log,
        FAKE_AZD_TOKEN: token,
        ...(values ? { FAKE_AZD_VALUES: JSON.stringify(values) } : {}),
      };
    },
    calls() {
      return readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as string[]);
    },
    clear() {
      writeFileSync(log, '');
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
