/**
 * scripts/local/shared/launch.cjs, which the npm scripts of the local services run: before any
 * build it says what to run in one line, and `npm start` checks its ports before it builds.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORTS } from '../../../scripts/local/shared/environment';
import { ROOT, cleanEnv, runNode } from '../../support/node-process';
import { freePort } from '../../support/ports';

const LAUNCH = path.join(ROOT, 'scripts', 'local', 'shared', 'launch.cjs');

let dir: string;
let fakeNpm: string;
let buildMarker: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launch-'));
  // Stands in for npm's CLI (npm_execpath) so that no test here rebuilds dist/: it records that a
  // build was asked for and fails, which stops the launcher.
  buildMarker = path.join(dir, 'build-requested');
  fakeNpm = path.join(dir, 'fake-npm.js');
  fs.writeFileSync(
    fakeNpm,
    `require('node:fs').writeFileSync(${JSON.stringify(buildMarker)}, process.argv.slice(2).join(' '));\nprocess.exit(1);\n`,
  );
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function listenOn(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function startEnv() {
  return {
    IDENTITY_PORT: String(await freePort()),
    FUNCTIONS_PORT: String(await freePort()),
    GATEWAY_PORT: String(await freePort()),
    npm_execpath: fakeNpm,
  };
}

describe('launch.cjs', () => {
  it('checks the same default ports as the services use', () => {
    const { START_PORTS } = createRequire(__filename)(LAUNCH) as {
      START_PORTS: Record<string, number>;
    };
    expect(START_PORTS).toEqual(DEFAULT_PORTS);
  });

  it('npm start: a taken port stops it before the build, naming the setting', async () => {
    fs.rmSync(buildMarker, { force: true });
    const env = await startEnv();
    const taken = await listenOn(Number(env.FUNCTIONS_PORT));
    try {
      const { code, stdout, stderr } = await runNode(LAUNCH, ['start'], cleanEnv(env));
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toContain(
        `[start] Port ${env.FUNCTIONS_PORT} on 127.0.0.1 is already in use: stop what uses it or set FUNCTIONS_PORT to another port.`,
      );
      expect(stderr).toContain('Nothing was built or started');
      expect(fs.existsSync(buildMarker)).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('npm start: with its ports free, it builds (here: asks the stand-in npm to)', async () => {
    fs.rmSync(buildMarker, { force: true });
    const { code } = await runNode(LAUNCH, ['start'], cleanEnv(await startEnv()));
    expect(code).toBe(1);
    expect(fs.readFileSync(buildMarker, 'utf8')).toBe('run -s build');
  });

  describe('before any build', () => {
    let copy: string;
    beforeAll(() => {
      // The launcher finds dist/ next to itself: a copy in a tree without dist/ is a fresh clone.
      copy = path.join(dir, 'clone', 'scripts', 'local', 'shared', 'launch.cjs');
      fs.mkdirSync(path.dirname(copy), { recursive: true });
      fs.copyFileSync(LAUNCH, copy);
    });

    it.each([
      ['identity', ['mint', 'apim']],
      ['identity', ['help']],
      ['gateway', []],
      ['serve', []],
    ])('npm run %s %j says in one line to build first', async (name, args) => {
      const { code, stdout, stderr } = await runNode(copy, [name, ...args], cleanEnv());
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toEqual([
        `\`npm run ${name}\` runs the compiled scripts, and there are none yet: run \`npm run build\` (or \`npm start\`, which builds) first.`,
      ]);
    });
  });

  it('runs the compiled entry with its own arguments once built', async () => {
    const { code, stdout } = await runNode(LAUNCH, ['identity', 'help'], cleanEnv());
    expect(code).toBe(0);
    expect(stdout).toContain('npm run -s identity -- mint <identity>');
  });

  it('refuses an unknown script name', async () => {
    const { code, stderr } = await runNode(LAUNCH, ['deploy'], cleanEnv());
    expect(code).toBe(2);
    expect(stderr).toContain('unknown script "deploy"');
  });
});
