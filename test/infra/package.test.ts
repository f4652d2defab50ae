/**
 * The package `azd deploy` uploads (the project minus .funcignore) and the remote build that runs
 * on it: it must hold what `npm run build` needs, build on its own, and produce every function
 * that package.json `main` names, importing only production dependencies.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../support/bicep';
import { isIgnored, packageFiles, parseFuncignore } from './funcignore';

const rules = parseFuncignore(fs.readFileSync(path.join(ROOT, '.funcignore'), 'utf8'));
const files = packageFiles(ROOT, rules);
const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

describe('.funcignore', () => {
  it('excludes node_modules, as azd requires for a remote build (azure.yaml remoteBuild: true)', () => {
    const azureYaml = parse(fs.readFileSync(path.join(ROOT, 'azure.yaml'), 'utf8')) as {
      services: { api: { remoteBuild?: boolean } };
    };
    expect(azureYaml.services.api.remoteBuild).toBe(true);
    expect(isIgnored(rules, 'node_modules', true)).toBe(true);
  });

  it('excludes a local dist/, so stale compiled functions can never be deployed', () => {
    expect(isIgnored(rules, 'dist', true)).toBe(true);
  });

  it('excludes local settings, tooling, tests and infrastructure', () => {
    for (const name of [
      'local.settings.json',
      '.azure',
      '.git',
      'test',
      'infra',
      'scripts',
      'apim',
      '.local',
    ]) {
      expect(isIgnored(rules, name, name !== 'local.settings.json'), name).toBe(true);
    }
  });
});

describe('the deployment package', () => {
  it('holds what the remote `npm install` and `npm run build` need', () => {
    // dist/ is emptied first: a compiled function whose source is gone must never be served.
    expect(packageJson.scripts.build).toBe(
      `node -e "require('node:fs').rmSync('dist',{recursive:true,force:true})" && tsc -p tsconfig.build.json`,
    );
    for (const file of [
      'package.json',
      'package-lock.json',
      'host.json',
      'tsconfig.json',
      'tsconfig.build.json',
    ]) {
      expect(files, file).toContain(file);
    }
  });

  it('prunes the build tools after the remote build (Oryx runs build:azure after build)', () => {
    // Oryx installs everything, devDependencies and optional ones included, runs `build`, then
    // `build:azure`: what ships is the runtime set only.
    expect(packageJson.scripts['build:azure']).toBe('npm prune --omit=dev');
  });

  it('makes the remote build download nothing: no package in the lock runs an install script', () => {
    // Oryx's `npm install` runs every install script of the tree it installs, optional packages
    // included (microsoft/Oryx NodeBashBuildSnippet.sh.tpl): Core Tools' downloads its binary.
    // Core Tools is therefore not a dependency at all; `npm start` uses `func` from PATH.
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const scripted = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript === true)
      .map(([name]) => name);
    expect(scripted).toEqual([]);
    expect(Object.keys(lock.packages)).not.toContain('node_modules/azure-functions-core-tools');
  });

  it('holds every source file of the app, and nothing from dist, node_modules or local settings', () => {
    const sources = packageFiles(path.join(ROOT, 'functions'), rules).map((f) => `functions/${f}`);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(files).toContain(source);
    for (const file of files) {
      expect(file).not.toMatch(/^(dist|node_modules|\.azure|\.git|test|infra|scripts)\//);
      expect(file).not.toBe('local.settings.json');
    }
  });
});

describe('the remote build of the package', () => {
  let dir: string;
  let build: { status: number | null; output: string };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'function-package-'));
    for (const file of files) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
    }
    // The remote build installs from package-lock.json; this tree was installed from the same lock.
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const tsc = require.resolve('typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
      cwd: dir,
      encoding: 'utf8',
    });
    build = { status: result.status, output: `${result.stdout}${result.stderr}` };
  }, 120_000);

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('`npm run build` succeeds on the package alone', () => {
    expect(build.output).toBe('');
    expect(build.status).toBe(0);
  });

  it('produces a compiled file for every function that package.json `main` names', () => {
    expect(packageJson.main).toBe('dist/functions/*.js');
    const triggers = fs
      .readdirSync(path.join(ROOT, 'functions'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, '.js'));
    expect(triggers.length).toBeGreaterThan(0);
    const built = fs
      .readdirSync(path.join(dir, 'dist', 'functions'))
      .filter((f) => f.endsWith('.js'));
    expect(built.sort()).toEqual(triggers.sort());
  });

  it('the compiled app imports only Node built-ins, its own files and production dependencies', () => {
    const allowed = new Set([...Object.keys(packageJson.dependencies), ...builtinModules]);
    const imported = new Set<string>();
    const walk = (folder: string): void => {
      for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.js')) {
          for (const m of fs.readFileSync(full, 'utf8').matchAll(/require\("([^"]+)"\)/g))
            imported.add(m[1]!);
        }
      }
    };
    walk(path.join(dir, 'dist'));
    expect(imported.size).toBeGreaterThan(0);
    for (const specifier of imported) {
      if (specifier.startsWith('.')) continue;
      const name = specifier.startsWith('node:')
        ? specifier.slice(5)
        : specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/');
      expect(allowed, specifier).toContain(name);
    }
  });
});
