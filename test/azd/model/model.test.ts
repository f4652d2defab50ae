/**
 * The model of azd itself, on small made-up projects (fast, no npm registry): parameter
 * resolution, the prompt that `--no-prompt` turns into a failure before any hook, hook order,
 * packaging beside provisioning in the unified graph, and one step after another under
 * `workflows: up:`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AzdModel, StepFailed, type ModelCloud, type StepRecord } from './azd-up';
import { envsubst, missingParameters, resolveParameters } from './parameters';

describe('parameter resolution (bicep_provider.go loadParameters, drone/envsubst)', () => {
  const file = {
    parameters: {
      plain: { value: '${PLAIN}' },
      withDefault: { value: '${WITH_DEFAULT=fallback}' },
      emptyDefault: { value: '${EMPTY_DEFAULT=}' },
      literal: { value: 'text' },
      mixed: { value: 'pre-${UNSET_TOO}' },
      noValue: {},
    },
  };

  it.each([
    ['${A}', { A: 'x' }, { value: 'x', hasUnset: false }],
    ['${A}', {}, { value: '', hasUnset: true }],
    ['${A=d}', {}, { value: 'd', hasUnset: true }],
    ['${A=d}', { A: '' }, { value: 'd', hasUnset: false }],
    ['${A:-d}', { A: 'x' }, { value: 'x', hasUnset: false }],
    ['a${A}b${B}', { A: '1', B: '2' }, { value: 'a1b2', hasUnset: false }],
  ] as const)('envsubst(%s, %o)', (text, env, expected) => {
    expect(envsubst(text, (name) => (env as Record<string, string>)[name])).toEqual(expected);
  });

  it('drops what an unset variable emptied, honours defaults, keeps a value set to empty', () => {
    expect(resolveParameters(file, {})).toEqual({
      withDefault: 'fallback',
      literal: 'text',
      mixed: 'pre-',
    });
    expect(resolveParameters(file, { PLAIN: '' })).toMatchObject({ plain: '' });
    expect(resolveParameters(file, {}, { PLAIN: 'from the process' })).toMatchObject({
      plain: 'from the process',
    });
  });

  it('prompts for (under --no-prompt: fails on) what has no value, no default and is not nullable', () => {
    const template = {
      parameters: {
        a: { type: 'string' },
        b: { type: 'string', defaultValue: '' },
        c: { type: 'string', nullable: true },
        d: { type: 'string' },
        e: { type: 'string' },
      },
    };
    expect(missingParameters(template, { a: 'x' })).toEqual(['d', 'e']);
    expect(missingParameters(template, { a: 'x' }, { 'infra.parameters.e': 'saved' })).toEqual([
      'd',
    ]);
  });
});

/** A made-up project: hooks and the build record when they start and end in `marks`. */
function makeProject(root: string, options: { workflow: boolean; failPreprovision?: boolean }) {
  const mark = (name: string, seconds: number) =>
    `echo "${name} start $(date +%s%N)" >> marks && sleep ${seconds} && echo "${name} end $(date +%s%N)" >> marks`;
  const hook = (name: string, run: string) =>
    `  ${name}:\n    posix:\n      shell: sh\n      run: '${run}'\n`;
  fs.writeFileSync(
    path.join(root, 'azure.yaml'),
    'name: made-up\nservices:\n  api:\n    project: .\n    language: ts\n    host: function\n    remoteBuild: true\n' +
      'hooks:\n' +
      hook(
        'preprovision',
        options.failPreprovision
          ? 'exit 3'
          : `${mark('preprovision', 1)} && azd env set FROM_HOOK set-by-hook`,
      ) +
      hook('postprovision', 'echo postprovision >> marks') +
      hook('postdeploy', 'echo postdeploy >> marks') +
      hook('predown', 'echo predown >> marks') +
      (options.workflow
        ? 'workflows:\n  up:\n    steps:\n      - azd: provision\n      - azd: deploy --all\n'
        : ''),
  );
  fs.writeFileSync(
    path.join(root, 'package.json'),
    JSON.stringify({ name: 'made-up', version: '1.0.0', scripts: { build: mark('build', 1) } }),
  );
  fs.writeFileSync(
    path.join(root, 'package-lock.json'),
    JSON.stringify({
      name: 'made-up',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name: 'made-up', version: '1.0.0' } },
    }),
  );
  fs.writeFileSync(path.join(root, '.funcignore'), 'node_modules\n.azure\nmarks\n');
  fs.mkdirSync(path.join(root, 'infra'));
  fs.writeFileSync(
    path.join(root, 'infra', 'main.parameters.json'),
    JSON.stringify({
      parameters: { name: { value: '${AZURE_ENV_NAME}' }, fromHook: { value: '${FROM_HOOK}' } },
    }),
  );
}

function marks(root: string): { name: string; at: number }[] {
  return fs
    .readFileSync(path.join(root, 'marks'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .filter((parts) => parts.length === 3)
    .map(([name, what, ns]) => ({ name: `${name} ${what}`, at: Number(BigInt(ns!) / 1_000_000n) }));
}

function interval(root: string, name: string): [number, number] {
  const all = marks(root);
  return [
    all.find((m) => m.name === `${name} start`)!.at,
    all.find((m) => m.name === `${name} end`)!.at,
  ];
}

let root: string;
let provisioned: Record<string, unknown>[];

function cloud(template: Record<string, unknown>): ModelCloud {
  return {
    template,
    provision(parameters) {
      provisioned.push(parameters);
      return Promise.resolve({ OUTPUT: 'from-bicep' });
    },
    deploy: () => Promise.resolve(),
    down: () => Promise.resolve(),
  };
}

const TEMPLATE = {
  parameters: { name: { type: 'string' }, fromHook: { type: 'string', defaultValue: '' } },
};

function model(options: { packageOffsetMs?: number; template?: Record<string, unknown> } = {}) {
  const bin = path.join(root, '.bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(
    path.join(bin, 'azd'),
    `#!/bin/sh\n[ "$1 $2" = "env set" ] && printf '%s=%s\\n' "$3" "\\"$4\\"" >> "${root}/.azure/$AZURE_ENV_NAME/.env"\n`,
    { mode: 0o755 },
  );
  return new AzdModel({
    root,
    envName: 'dev',
    subscriptionId: '00000000-0000-4000-8000-000000000001',
    location: 'swedencentral',
    platform: 'posix',
    cloud: cloud(options.template ?? TEMPLATE),
    processEnv: {
      PATH: [bin, path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter),
      HOME: process.env.HOME ?? os.homedir(),
      npm_config_update_notifier: 'false',
    },
    packageOffsetMs: options.packageOffsetMs,
  });
}

const names = (steps: StepRecord[]) => steps.map((s) => s.name);

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'azd-model-'));
  provisioned = [];
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe.skipIf(process.platform === 'win32')('the model of azd up (sh hooks)', () => {
  it('without workflows: packages beside preprovision (azd >= 1.25), in azd order otherwise', async () => {
    makeProject(root, { workflow: false });
    const azd = model();
    await azd.up();
    const step = (name: string) => azd.steps.find((s) => s.name === name)!;
    // Packaging (npm install first) started while the preprovision hook was still running.
    expect(step('package: restore').start).toBeLessThan(step('hook preprovision').end);
    expect(step('hook preprovision').start).toBeLessThan(step('package: restore').end);
    expect(names(azd.steps)).toEqual(
      expect.arrayContaining([
        'initialize: parameters',
        'hook preprovision',
        'provision',
        'hook postprovision',
        'package api',
        'deploy api',
        'hook postdeploy',
      ]),
    );
    const order = names(azd.steps).filter((n) => n.startsWith('hook') || n.startsWith('deploy'));
    expect(order.slice(-2)).toEqual(['deploy api', 'hook postdeploy']);
    // The environment was reloaded before the parameters were: the hook's value reached them.
    expect(provisioned).toEqual([{ name: 'dev', fromHook: 'set-by-hook' }]);
    expect(azd.env()).toMatchObject({ OUTPUT: 'from-bicep', FROM_HOOK: 'set-by-hook' });
  }, 60_000);

  it('honours the offset: packaging started 1.5 s after preprovision', async () => {
    makeProject(root, { workflow: false });
    await model({ packageOffsetMs: 1500 }).up();
    const [hookStart] = interval(root, 'preprovision');
    const [buildStart] = interval(root, 'build');
    expect(buildStart - hookStart).toBeGreaterThanOrEqual(1400);
  }, 60_000);

  it('with workflows: up: runs provision to its end before packaging starts', async () => {
    makeProject(root, { workflow: true });
    const azd = model({ packageOffsetMs: -1000 });
    await azd.up();
    const [, hookEnd] = interval(root, 'preprovision');
    const [buildStart] = interval(root, 'build');
    expect(buildStart).toBeGreaterThan(hookEnd);
    expect(names(azd.steps).slice(0, 5)).toEqual([
      'initialize: parameters',
      'provision: initialize',
      'hook preprovision',
      'provision',
      'provision: parameters',
    ]);
    expect(fs.readFileSync(path.join(root, 'marks'), 'utf8')).toMatch(
      /postprovision[\s\S]*build start[\s\S]*postdeploy/,
    );
  }, 60_000);

  it('fails under --no-prompt before any hook when a parameter has no value and no default', async () => {
    makeProject(root, { workflow: true });
    const template = { parameters: { ...TEMPLATE.parameters, fromHook: { type: 'string' } } };
    const error = await model({ template })
      .up()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepFailed);
    expect((error as Error).message).toBe(
      'initialize: parameters: missing required inputs: fromHook (azd --no-prompt cannot prompt ' +
        'for a parameter without a value in main.parameters.json and without a default)',
    );
    expect(fs.existsSync(path.join(root, 'marks'))).toBe(false);
  });

  it('stops at a failing hook (FailFast): no provision, no deploy', async () => {
    makeProject(root, { workflow: false, failPreprovision: true });
    const azd = model();
    const error = await azd.up().catch((e: unknown) => e);
    expect((error as Error).message).toBe('hook preprovision: exit 3');
    expect(provisioned).toEqual([]);
    expect(names(azd.steps)).not.toContain('deploy api');
  }, 60_000);

  it('azd down runs predown first', async () => {
    makeProject(root, { workflow: true });
    const azd = model();
    await azd.down();
    expect(names(azd.steps)).toEqual(['hook predown', 'down: delete resources']);
  });
});
