/**
 * azure.yaml: valid against the azd schema, the `api` service, and thin hooks that install the
 * packages only when node_modules is missing and then run one TypeScript entry point.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../support/bicep';

const SCHEMA_PATH = path.join(__dirname, 'azd-schema', 'azure.yaml.json');
const HOOK_NAMES = ['preprovision', 'postprovision', 'postdeploy', 'predown'] as const;
/** The hooks that write the Function App's package (.package/api) before azd packages it. */
const PACKAGE_HOOK_NAMES = ['prepackage', 'predeploy'] as const;

interface HookConfig {
  shell?: string;
  run?: string;
}
interface AzureYaml {
  name: string;
  infra?: { provider?: string; path?: string; module?: string };
  services: Record<
    string,
    { project: string; language: string; host: string; remoteBuild?: boolean }
  >;
  hooks: Record<string, { posix?: HookConfig; windows?: HookConfig }>;
  requiredVersions?: { azd?: string };
  workflows?: { up?: { steps: { azd: string }[] } };
}

const text = fs.readFileSync(path.join(ROOT, 'azure.yaml'), 'utf8');
const azureYaml = parse(text) as AzureYaml;

/** Every `$ref` of the schema that points outside it. */
function externalRefs(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) externalRefs(item, found);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && /^https?:/.test(value)) found.add(value);
      else externalRefs(value, found);
    }
  }
  return found;
}

const schema = JSON.parse(fs.readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;

function validator() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // The schema refers to azd extension schemas that only apply to `host: azure.ai.*` and
  // `microsoft.foundry` services and are not available offline: accept anything there.
  for (const ref of externalRefs(schema)) ajv.addSchema({ $id: ref }, ref);
  return ajv.compile(schema);
}

describe('azure.yaml against the azd schema (draft 2019-09)', () => {
  it('refers outside itself only to azd extension schemas (not used by this project)', () => {
    const refs = [...externalRefs(schema)];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).toMatch(
        /^https:\/\/raw\.githubusercontent\.com\/Azure\/azure-dev\/main\/cli\/azd\/extensions\//,
      );
    }
    expect(Object.values(azureYaml.services).map((s) => s.host)).toEqual(['function']);
  });

  it('is valid', () => {
    const validate = validator();
    const valid = validate(azureYaml);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema is strict enough to reject a broken file', () => {
    const validate = validator();
    expect(validate({ ...azureYaml, services: { api: { project: '.', language: 'ts' } } })).toBe(
      false,
    );
    expect(
      validate({ ...azureYaml, hooks: { preprovision: { posix: { shell: 'bash', run: 'x' } } } }),
    ).toBe(false);
  });
});

describe('azure.yaml contents', () => {
  it('deploys infra/main.bicep', () => {
    expect(azureYaml.infra).toEqual({ provider: 'bicep', path: 'infra', module: 'main' });
    expect(fs.existsSync(path.join(ROOT, 'infra', 'main.bicep'))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, 'infra', 'main.parameters.json'))).toBe(true);
  });

  it('has one service, api: the package .package/api, TypeScript, on Azure Functions, built remotely', () => {
    expect(azureYaml.services).toEqual({
      api: { project: '.package/api', language: 'ts', host: 'function', remoteBuild: true },
    });
  });

  it('has exactly the hooks preprovision, postprovision, postdeploy and predown, and the two that write the package', () => {
    expect(Object.keys(azureYaml.hooks).sort()).toEqual(
      [...HOOK_NAMES, ...PACKAGE_HOOK_NAMES].sort(),
    );
  });

  it.each(PACKAGE_HOOK_NAMES)(
    '%s: thin posix (sh) and windows (pwsh) wrappers over `npm run -s package:api -- <name>`',
    (name) => {
      const hook = azureYaml.hooks[name]!;
      expect(hook.posix?.shell).toBe('sh');
      expect(hook.windows?.shell).toBe('pwsh');
      for (const run of [hook.posix?.run, hook.windows?.run]) {
        expect(run).toContain(`npm run -s package:api -- ${name}`);
        expect(run).toContain('npm ci --no-audit --no-fund');
      }
    },
  );

  it.each(HOOK_NAMES)(
    '%s: thin posix (sh) and windows (pwsh) wrappers over `npm run -s hooks -- <name>`',
    (name) => {
      const hook = azureYaml.hooks[name]!;
      expect(hook.posix?.shell).toBe('sh');
      expect(hook.windows?.shell).toBe('pwsh');
      for (const run of [hook.posix?.run, hook.windows?.run]) {
        expect(run).toContain(`npm run -s hooks -- ${name}`);
        expect(run).toMatch(/node_modules/);
        expect(run).toContain('npm ci --no-audit --no-fund');
      }
    },
  );

  it('requires azd 1.21 or later: it passes the values preprovision stores to the Bicep parameters', () => {
    expect(azureYaml.requiredVersions).toEqual({ azd: '>= 1.21.0' });
  });

  it('runs provision to its end before packaging: a custom up workflow, one step after another', () => {
    // Without it, azd 1.25 and later package (npm install, npm run build) while preprovision
    // installs and builds in the same folder (test/azd/model/up.test.ts runs it).
    expect(azureYaml.workflows).toEqual({
      up: { steps: [{ azd: 'provision' }, { azd: 'deploy --all' }] },
    });
  });

  it('the hooks build into .hooks/, which packaging (npm run build empties dist/) never touches', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.hooks).toBe(
      'tsc -p tsconfig.hooks.json && node .hooks/scripts/azd/hooks/main.js',
    );
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.hooks.json'), 'utf8')) as {
      compilerOptions: { outDir: string };
    };
    expect(config.compilerOptions.outDir).toBe('.hooks');
    expect(pkg.scripts.build).not.toContain('.hooks');
  });

  it('the hooks script in package.json builds and runs the hooks entry point', () => {
    const scripts = (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    expect(scripts.hooks).toBe(
      'tsc -p tsconfig.hooks.json && node .hooks/scripts/azd/hooks/main.js',
    );
    expect(fs.existsSync(path.join(ROOT, 'scripts', 'azd', 'hooks', 'main.ts'))).toBe(true);
  });
});

describe.runIf(process.platform !== 'win32')('the posix hook wrapper, run by sh', () => {
  let dir: string;
  let log: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azd-hook-'));
    log = path.join(dir, 'npm.log');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    // A stand-in npm that records its arguments and fails when told to.
    fs.writeFileSync(
      path.join(bin, 'npm'),
      `#!/bin/sh\necho "$*" >> "${log}"\ncase "$1" in ci) exit "\${FAKE_NPM_CI_EXIT:-0}";; *) exit "\${FAKE_NPM_RUN_EXIT:-0}";; esac\n`,
      { mode: 0o755 },
    );
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function runPosix(name: string, env: Record<string, string> = {}) {
    const script = azureYaml.hooks[name]!.posix!.run!;
    const result = spawnSync('sh', ['-c', script], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: `${path.join(dir, 'bin')}:/usr/bin:/bin`, ...env },
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
    return { status: result.status, calls };
  }

  it('installs when node_modules is missing, then runs the hook', () => {
    expect(runPosix('preprovision')).toEqual({
      status: 0,
      calls: ['ci --no-audit --no-fund', 'run -s hooks -- preprovision'],
    });
  });

  it('does not install when node_modules exists', () => {
    fs.mkdirSync(path.join(dir, 'node_modules'));
    expect(runPosix('postdeploy')).toEqual({ status: 0, calls: ['run -s hooks -- postdeploy'] });
  });

  it('stops (non-zero) without running the hook when the install fails', () => {
    const { status, calls } = runPosix('postprovision', { FAKE_NPM_CI_EXIT: '7' });
    expect(status).not.toBe(0);
    expect(calls).toEqual(['ci --no-audit --no-fund']);
  });

  it("returns the hook's failure to azd", () => {
    fs.mkdirSync(path.join(dir, 'node_modules'));
    expect(runPosix('predown', { FAKE_NPM_RUN_EXIT: '1' }).status).toBe(1);
  });
});
