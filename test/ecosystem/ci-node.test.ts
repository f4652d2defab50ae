/**
 * .ci/node, which .ci/run sources first: the tests run on Node 22 or later (package.json
 * "engines", the runtime infra/ deploys) even where the system's Node is older. Run under bash
 * with a stand-in `node` (an old or a new version) and a stand-in `npm` whose `npm pack` writes a
 * small tarball shaped like the registry's node-linux-<arch> package (package/bin/node).
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRepoFile, ROOT } from './workflow-parser';

const SCRIPT = readRepoFile('.ci/node');

function assignment(name: string): string {
  const match = new RegExp(`^${name}=(.+)$`, 'm').exec(SCRIPT);
  if (!match) throw new Error(`.ci/node sets no ${name}`);
  return match[1]!.replace(/^'|'$/g, '');
}

const NODE_VERSION = assignment('NODE_VERSION');
const NODE_MIN_MAJOR = Number(assignment('NODE_MIN_MAJOR'));
const ARCH = os.arch() === 'arm64' ? 'arm64' : 'x64';

/** A shell script that answers `node --version` and `node -p '…major…'` as Node `version`. */
function fakeNode(version: string): string {
  return [
    '#!/bin/sh',
    `case "$1" in`,
    `  --version) echo v${version} ;;`,
    `  -p) echo ${version.split('.')[0]} ;;`,
    `  *) exit 2 ;;`,
    'esac',
    '',
  ].join('\n');
}

let dir: string;
let bin: string;
let cache: string;
let npmLog: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-node-'));
  bin = path.join(dir, 'bin');
  cache = path.join(dir, 'cache');
  npmLog = path.join(dir, 'npm.log');
  fs.mkdirSync(bin);
  // The registry's package, reduced to what .ci/node unpacks.
  const pkg = path.join(dir, 'pkg', 'package');
  fs.mkdirSync(path.join(pkg, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'bin', 'node'), fakeNode(NODE_VERSION), { mode: 0o755 });
  fs.writeFileSync(path.join(pkg, 'LICENSE'), 'MIT\n');
  const tarball = path.join(dir, `node-linux-${ARCH}-${NODE_VERSION}.tgz`);
  const tar = spawnSync('tar', ['-czf', tarball, '-C', path.join(dir, 'pkg'), 'package']);
  expect(tar.status).toBe(0);
  // `npm pack <spec>` writes the tarball into the current folder; every call is logged.
  fs.writeFileSync(
    path.join(bin, 'npm'),
    `#!/bin/sh\necho "$*" >> '${npmLog}'\n[ "$1" = pack ] && cp '${tarball}' .\n`,
    { mode: 0o755 },
  );
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function integrityOf(file: string): string {
  return `sha512-${crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;
}

/** .ci/node with the pinned integrity of this machine's architecture replaced. */
function scriptPinning(integrity: string): string {
  const variable = ARCH === 'arm64' ? 'NODE_INTEGRITY_ARM64' : 'NODE_INTEGRITY_X64';
  const script = SCRIPT.replace(new RegExp(`^${variable}=.*$`, 'm'), `${variable}='${integrity}'`);
  expect(script).not.toBe(SCRIPT);
  return script;
}

/** Sources the script the way .ci/run does, then reports which node is on PATH. */
function source(script: string, systemNode: string) {
  fs.writeFileSync(path.join(bin, 'node'), fakeNode(systemNode), { mode: 0o755 });
  const file = path.join(dir, 'node.sh');
  fs.writeFileSync(file, script);
  const result = spawnSync(
    'bash',
    ['-c', `set -euo pipefail; . '${file}'; node --version; command -v node`],
    {
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, XDG_CACHE_HOME: cache },
    },
  );
  const npmCalls = fs.existsSync(npmLog) ? fs.readFileSync(npmLog, 'utf8').trim().split('\n') : [];
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, npmCalls };
}

const installDir = () => path.join(cache, 'functions-behind-apim', `node-${NODE_VERSION}`);

describe.skipIf(process.platform === 'win32')(
  '.ci/node (skipped on Windows: .ci/run is a bash script)',
  () => {
    it('installs Node from the npm registry when the system Node is older, then reuses it', () => {
      const tarball = path.join(dir, `node-linux-${ARCH}-${NODE_VERSION}.tgz`);
      const script = scriptPinning(integrityOf(tarball));

      const first = source(script, '20.20.2');
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toContain(`node v20.20.2 is older than ${NODE_MIN_MAJOR}`);
      expect(first.stdout.trim().split('\n').slice(-2)).toEqual([
        `v${NODE_VERSION}`,
        path.join(installDir(), 'bin', 'node'),
      ]);
      expect(first.npmCalls).toEqual([`pack --silent node-linux-${ARCH}@${NODE_VERSION}`]);
      // Nothing but the unpacked package is left in the cache.
      expect(fs.readdirSync(path.dirname(installDir()))).toEqual([`node-${NODE_VERSION}`]);

      const second = source(script, '20.20.2');
      expect(second.status, second.stderr).toBe(0);
      expect(second.stdout.trim().split('\n').at(-2)).toBe(`v${NODE_VERSION}`);
      expect(second.npmCalls).toHaveLength(1);
    });

    it('keeps a system Node that is new enough and installs nothing', () => {
      const result = source(SCRIPT, '24.1.0');
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout.trim().split('\n')).toEqual(['v24.1.0', path.join(bin, 'node')]);
      expect(result.npmCalls).toEqual([]);
      expect(fs.existsSync(cache)).toBe(false);
    });

    it('refuses a tarball whose integrity is not the pinned one, and keeps nothing of it', () => {
      const result = source(SCRIPT, '20.20.2');
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`node-linux-${ARCH}@${NODE_VERSION}: integrity sha512-`);
      expect(fs.existsSync(installDir())).toBe(false);
      expect(fs.readdirSync(path.dirname(installDir()))).toEqual([]);
    });
  },
);

describe('what .ci/node installs', () => {
  const engines = (JSON.parse(readRepoFile('package.json')) as { engines: { node: string } })
    .engines.node;

  it('is the oldest Node package.json "engines" allows, at or above its minimum', () => {
    const minimum = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(engines);
    if (!minimum) throw new Error(`unexpected engines.node: ${engines}`);
    expect(NODE_MIN_MAJOR).toBe(Number(minimum[1]));
    const [major, minor, patch] = NODE_VERSION.split('.').map(Number);
    expect(major).toBe(NODE_MIN_MAJOR);
    const atLeast =
      minor! > Number(minimum[2]) || (minor === Number(minimum[2]) && patch! >= Number(minimum[3]));
    expect(atLeast, `${NODE_VERSION} is older than ${engines}`).toBe(true);
  });

  it('is sourced by .ci/run before anything runs npm', () => {
    const run = readRepoFile('.ci/run');
    const sourced = run.indexOf('\n. .ci/node\n');
    expect(sourced).toBeGreaterThan(0);
    expect(sourced).toBeLessThan(run.indexOf('npm ci'));
    expect(fs.existsSync(path.join(ROOT, '.ci/node'))).toBe(true);
  });
});
