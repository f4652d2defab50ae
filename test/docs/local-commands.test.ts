/**
 * Runs every shell block the documentation marks `<!-- commands: local -->`, as a user pasting it
 * would (with sh), against `npm start`'s three services on free ports: the default ports in the
 * commands are rewritten to those, and a trailing `# 200` (or any status) on a curl line is the
 * status that curl must get. `npm ci` is left to CI and `npm start` is the running services.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORTS } from '../../scripts/local/shared/environment';
import { NodeProcess, cleanEnv, script } from '../support/node-process';
import { freePort } from '../support/ports';
import { parseMarker } from './command-checks';
import { ROOT, codeBlocks, docPages } from './markdown';

interface LocalBlock {
  readonly where: string;
  readonly content: string;
}

const blocks: LocalBlock[] = docPages().flatMap((page) =>
  codeBlocks(fs.readFileSync(path.join(ROOT, page), 'utf8'))
    .filter((block) => parseMarker(block.comment)?.kind === 'local')
    .map((block) => ({ where: `${page}:${block.line}`, content: block.content })),
);

const STATUS = /\s#\s*(\d{3})\b.*$/;
const START_SCRIPT = 'npm run -s build && node dist/scripts/local/start/main.js';

/** The block as a script for sh, and the statuses its curl lines must get, in order. */
function runnable(
  content: string,
  ports: Record<keyof typeof DEFAULT_PORTS, number>,
): { script: string; expected: string[] } {
  const expected: string[] = [];
  const lines = content
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .map((raw) => {
      let line = raw;
      for (const [name, port] of Object.entries(ports)) {
        const from = DEFAULT_PORTS[name as keyof typeof DEFAULT_PORTS];
        line = line.replaceAll(`127.0.0.1:${from}`, `127.0.0.1:${port}`);
      }
      const status = STATUS.exec(line)?.[1];
      line = line.replace(STATUS, '').replace(/(^|\s)#.*$/, '');
      const commands = line
        .split('&&')
        .map((command) => command.trim())
        .filter((command) => command !== 'npm ci' && command !== 'npm start' && command !== '');
      if (commands.length === 0) return '';
      line = commands.join(' && ');
      if (status !== undefined) {
        if (!/^curl\s/.test(line))
          throw new Error(`A status comment on a line that is not a curl: ${raw}`);
        expected.push(status);
        line += ` -s -o /dev/null -w 'status %{http_code}\\n'`;
      }
      return line;
    })
    .filter((line) => line !== '');
  return { script: lines.join('\n'), expected };
}

function sh(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'sh',
      ['-e', '-c', command],
      { env, cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`sh failed: ${stderr}`, { cause: error }));
        else resolve(stdout);
      },
    );
  });
}

let dir: string;
let start: NodeProcess;
let env: NodeJS.ProcessEnv;
let ports: Record<keyof typeof DEFAULT_PORTS, number>;

beforeAll(async () => {
  if (process.platform === 'win32') return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-commands-'));
  ports = {
    FUNCTIONS_PORT: await freePort(),
    IDENTITY_PORT: await freePort(),
    GATEWAY_PORT: await freePort(),
  };
  env = cleanEnv({
    ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
    IDENTITY_KEYS_FILE: path.join(dir, 'keys.json'),
    LOCAL_FUNCTION_HOST: 'builtin',
  });
  start = new NodeProcess(script('local/start/main'), [], env);
  await start.waitFor(/^Press Ctrl-C to stop\.$/m, 60_000);
}, 90_000);

afterAll(async () => {
  await start?.stop();
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

// The blocks are sh, as the pages present them; on Windows they are not run (the test name says so).
describe.skipIf(process.platform === 'win32')(
  'the commands marked local (POSIX only: run with sh)',
  { timeout: 60_000 },
  () => {
    it('are there, and npm start is what the test runs', () => {
      expect(blocks.length).toBeGreaterThanOrEqual(3);
      const scripts = (
        JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
          scripts: Record<string, string>;
        }
      ).scripts;
      expect(scripts.start).toBe(START_SCRIPT);
    });

    it('a block turns into a script with the test ports and the expected statuses', () => {
      const { script: text, expected } = runnable(
        'npm ci && npm start\nTOKEN=$(x)\ncurl -i http://127.0.0.1:7071/api/whoami   # 401: no token\n',
        { FUNCTIONS_PORT: 1, IDENTITY_PORT: 2, GATEWAY_PORT: 3 },
      );
      expect(text).toBe(
        "TOKEN=$(x)\ncurl -i http://127.0.0.1:1/api/whoami -s -o /dev/null -w 'status %{http_code}\\n'",
      );
      expect(expected).toEqual(['401']);
    });

    it.each(blocks)('$where runs as written, each curl getting its status', async ({ content }) => {
      const { script: text, expected } = runnable(content, ports);
      const output = await sh(text, env);
      const statuses = [...output.matchAll(/^status (\d{3})$/gm)].map((match) => match[1]);
      expect(statuses).toEqual(expected);
    });
  },
);
