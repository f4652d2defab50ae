/**
 * The hook wrappers of azure.yaml, both kinds, read from azure.yaml (never copied) and run the way
 * azd runs them (./azd-scripts.ts): the `pwsh` (windows) variant must do exactly what the `sh`
 * (posix) variant does, and the `sh` variant must pass shellcheck. `npm` is a stand-in that records
 * its arguments and fails when told to.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { azureYamlHooks, runAsAzd, shScript } from './azd-scripts';
import { PWSH, requireTool, runTests, SHELLCHECK, skipNote } from './tools';

const HOOKS = Object.entries(azureYamlHooks());
const WRAPPED = HOOKS.filter(([, hook]) => hook.posix?.run && hook.windows?.run);

interface Outcome {
  readonly status: number | null;
  /** The npm command lines, in order. */
  readonly calls: string[];
}

interface Scenario {
  readonly name: string;
  readonly nodeModules: boolean;
  readonly env?: Record<string, string>;
}

const SCENARIOS: Scenario[] = [
  { name: 'node_modules missing: installs, then runs the hook', nodeModules: false },
  { name: 'node_modules present: runs the hook only', nodeModules: true },
  {
    name: 'the install fails (exit 7): stops with a failure, hook not run',
    nodeModules: false,
    env: { FAKE_NPM_CI_EXIT: '7' },
  },
  {
    name: 'the hook fails (exit 3): returns 3 to azd',
    nodeModules: true,
    env: { FAKE_NPM_RUN_EXIT: '3' },
  },
];

it('azure.yaml has hooks, each with a posix (sh) and a windows (pwsh) variant', () => {
  expect(HOOKS.length).toBeGreaterThan(0);
  for (const [name, hook] of HOOKS) {
    expect({ name, posix: hook.posix?.shell, windows: hook.windows?.shell }).toEqual({
      name,
      posix: 'sh',
      windows: 'pwsh',
    });
  }
  expect(WRAPPED.map(([name]) => name)).toEqual(HOOKS.map(([name]) => name));
});

describe.runIf(runTests(PWSH))(
  `the windows (pwsh) wrappers behave as the posix (sh) ones${skipNote(PWSH)}`,
  () => {
    let dir: string;
    let log: string;

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azd-hook-wrapper-'));
      log = path.join(dir, 'npm.log');
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      fs.writeFileSync(
        path.join(bin, 'npm'),
        '#!/bin/sh\n' +
          `printf '%s\\n' "$*" >> '${log}'\n` +
          'case "$1" in ci|install) exit "${FAKE_NPM_CI_EXIT:-0}";; *) exit "${FAKE_NPM_RUN_EXIT:-0}";; esac\n',
        { mode: 0o755 },
      );
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    function run(kind: 'sh' | 'pwsh', script: string, scenario: Scenario): Outcome {
      fs.rmSync(log, { force: true });
      fs.rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true });
      if (scenario.nodeModules) fs.mkdirSync(path.join(dir, 'node_modules'));
      const result = runAsAzd(kind, script, {
        dir,
        pwsh: requireTool(PWSH),
        env: {
          PATH: [path.join(dir, 'bin'), '/usr/bin', '/bin'].join(path.delimiter),
          HOME: dir,
          ...scenario.env,
        },
      });
      const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
      return { status: result.status, calls };
    }

    describe.each(WRAPPED)('%s', (name, hook) => {
      it.each(SCENARIOS)('$name', (scenario) => {
        const posix = run('sh', hook.posix!.run!, scenario);
        const windows = run('pwsh', hook.windows!.run!, scenario);
        expect(windows).toEqual(posix);

        // What both must do, whatever their text.
        const hookCalls = posix.calls.filter((call) => call.split(/\s+/).includes(name));
        const installs = posix.calls.filter((call) => /^(ci|install)\b/.test(call));
        if (scenario.env?.FAKE_NPM_CI_EXIT) {
          expect(posix.status).not.toBe(0);
          expect(hookCalls).toEqual([]);
        } else if (scenario.env?.FAKE_NPM_RUN_EXIT) {
          expect(posix.status).toBe(Number(scenario.env.FAKE_NPM_RUN_EXIT));
        } else {
          expect(posix.status).toBe(0);
          expect(hookCalls).toHaveLength(1);
          expect(posix.calls.at(-1)).toBe(hookCalls[0]);
        }
        expect(installs).toHaveLength(scenario.nodeModules ? 0 : 1);
      });
    });

    it('the comparison catches a pwsh wrapper that loses the exit code or skips the install check', () => {
      const [name, hook] = WRAPPED[0]!;
      const failing = SCENARIOS[3]!;
      const naive = `npm install; npm run -s hooks -- ${name}; exit 0`;
      expect(run('pwsh', naive, failing)).not.toEqual(run('sh', hook.posix!.run!, failing));
      const missing = SCENARIOS[0]!;
      const noInstall = `npm run -s hooks -- ${name}`;
      expect(run('pwsh', noInstall, missing)).not.toEqual(run('sh', hook.posix!.run!, missing));
    });
  },
);

describe.runIf(runTests(SHELLCHECK))(
  `the posix (sh) wrappers, as azd writes them, pass shellcheck${skipNote(SHELLCHECK)}`,
  () => {
    function shellcheck(script: string): { status: number | null; output: string } {
      const result = spawnSync(requireTool(SHELLCHECK), ['--shell=sh', '--severity=style', '-'], {
        input: script,
        encoding: 'utf8',
      });
      return { status: result.status, output: result.stdout + result.stderr };
    }

    it.each(WRAPPED)('%s', (_name, hook) => {
      expect(shellcheck(shScript(hook.posix!.run!))).toEqual({ status: 0, output: '' });
    });

    it('flags an unquoted expansion (the check can fail)', () => {
      const result = shellcheck(shScript('[ -d $HOME ] && cd $HOME'));
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('SC2086');
    });
  },
);

describe.runIf(runTests(SHELLCHECK))(`.ci/run passes shellcheck${skipNote(SHELLCHECK)}`, () => {
  it('has no finding, nor has the .ci/node it sources', () => {
    const args = ['--external-sources', '--severity=style', '.ci/run', '.ci/node'];
    const result = spawnSync(requireTool(SHELLCHECK), args, {
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
    });
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({
      status: 0,
      output: '',
    });
  });
});
