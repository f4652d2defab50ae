/**
 * The package `azd deploy` uploads and the remote build that runs on it. azure.yaml points the
 * service at `.package/api`, which the `prepackage`/`predeploy` hooks write with
 * scripts/package/function-app.ts. The remote build (Oryx: a plain `npm install`, devDependencies
 * included, then `npm run build` and `npm run build:azure`; microsoft/Oryx doc/runtimes/nodejs.md)
 * must install only the runtime dependencies and what the build needs, build every function that
 * package.json `main` names, and ship only production dependencies. Here the package is written
 * into a temporary folder and that remote build is run on it: `npm install --offline` from the
 * npm cache that `npm ci` filled, then both scripts.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  filesNamedBy,
  functionAppLock,
  functionAppPackageJson,
  PACKAGE_DIR,
  writeFunctionAppPackage,
  type PackageJson,
  type PackageLock,
} from '../../scripts/package/function-app';
import { ROOT } from '../support/bicep';
import { isIgnored, packageFiles, parseFuncignore } from './funcignore';

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const project = readJson<PackageJson>(path.join(ROOT, 'package.json'));
const projectLock = readJson<PackageLock>(path.join(ROOT, 'package-lock.json'));

/** The tools of this repository that the remote build must never install. */
const DEVELOPMENT_ONLY = [
  '@stryker-mutator/core',
  'vitest',
  'eslint',
  'prettier',
  'autocannon',
  'fast-check',
  '@actions/workflow-parser',
];

function npm(args: string[], cwd: string) {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 240_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('azure.yaml deploys the package, not the repository', () => {
  it('points the service at .package/api, built remotely', () => {
    const azureYaml = parse(fs.readFileSync(path.join(ROOT, 'azure.yaml'), 'utf8')) as {
      services: { api: { project: string; remoteBuild?: boolean } };
    };
    expect(azureYaml.services.api).toMatchObject({ project: PACKAGE_DIR, remoteBuild: true });
  });

  it('the repository declares the test and lint tools (which the package leaves out)', () => {
    for (const name of DEVELOPMENT_ONLY) expect(project.devDependencies, name).toHaveProperty(name);
  });
});

describe("the package's package.json", () => {
  const pkg = functionAppPackageJson(project);

  it('declares the runtime dependencies as they are, and as build tools only TypeScript, esbuild and type declarations', () => {
    expect(pkg.dependencies).toEqual(project.dependencies);
    const tools = Object.keys(pkg.devDependencies ?? {});
    expect(tools).toContain('typescript');
    expect(tools.filter((t) => !/^(typescript|esbuild|@types\/.+)$/.test(t))).toEqual([]);
    for (const [name, version] of Object.entries(pkg.devDependencies ?? {})) {
      expect(version, name).toBe(project.devDependencies?.[name]);
    }
    for (const name of DEVELOPMENT_ONLY) expect(tools).not.toContain(name);
  });

  it('builds with the same scripts as the repository', () => {
    expect(pkg.scripts).toEqual({
      build: project.scripts.build,
      'build:azure': project.scripts['build:azure'],
    });
    expect(pkg.scripts['build:azure']).toBe('npm prune --omit=dev');
    expect(pkg.main).toBe('dist/functions/*.js');
    expect(pkg.engines).toEqual(project.engines);
  });

  it('takes the type declarations of a runtime dependency and esbuild when the project has them', () => {
    const withMore = functionAppPackageJson({
      ...project,
      dependencies: { ...project.dependencies, jsonwebtoken: '9.0.3', '@scope/lib': '1.0.0' },
      devDependencies: {
        ...project.devDependencies,
        esbuild: '0.28.2',
        '@types/jsonwebtoken': '9.0.10',
        '@types/scope__lib': '1.0.0',
      },
      scripts: { ...project.scripts, build: 'node scripts/build/bundle.mjs' },
    });
    expect(Object.keys(withMore.devDependencies ?? {})).toEqual(
      expect.arrayContaining(['esbuild', '@types/jsonwebtoken', '@types/scope__lib']),
    );
    expect(withMore.scripts.build).toBe('node scripts/build/bundle.mjs');
  });

  it('copies the files the build script names (its tsconfig) and the folder of a script it runs', () => {
    expect(filesNamedBy(project.scripts.build!, ROOT)).toEqual(
      expect.arrayContaining(['tsconfig.build.json', 'scripts/build']),
    );
  });
});

describe("the package's lock", () => {
  const pkg = functionAppPackageJson(project);
  const lock = functionAppLock(projectLock, pkg);
  const entries = Object.keys(lock.packages).filter((k) => k !== '');

  it('is the repository lock cut down to the packages of the app and its build', () => {
    const total = Object.keys(projectLock.packages).filter((k) => k !== '').length;
    console.info(`remote build: ${entries.length} packages instead of ${total}`);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBeLessThan(total / 5);
    for (const entry of entries)
      expect(lock.packages[entry]).toMatchObject({
        version: projectLock.packages[entry]!.version,
        integrity: projectLock.packages[entry]!.integrity,
      });
    for (const name of DEVELOPMENT_ONLY) expect(entries).not.toContain(`node_modules/${name}`);
  });

  it("runs no install script but esbuild's, which takes its binary from the npm registry", () => {
    // esbuild's postinstall (install.js) checks that its platform package, an optional dependency
    // installed from the same registry, is in place, and installs that package from the npm
    // registry only when it is missing: the remote build downloads nothing from elsewhere.
    expect(entries.filter((e) => lock.packages[e]!.hasInstallScript === true)).toEqual(
      'esbuild' in (pkg.devDependencies ?? {}) ? ['node_modules/esbuild'] : [],
    );
  });
});

describe('the remote build of the package', () => {
  let dir: string;
  let files: string[];
  let install: { status: number | null; output: string };
  let lockAfterInstall: string;
  let build: { status: number | null; output: string };
  let buildAzure: { status: number | null; output: string };
  let written: string;
  let installed: string[];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'function-package-'));
    writeFunctionAppPackage(ROOT, dir);
    written = fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8');
    files = packageFiles(
      dir,
      parseFuncignore(fs.readFileSync(path.join(dir, '.funcignore'), 'utf8')),
    );
    install = npm(['install', '--offline', '--no-audit', '--no-fund'], dir);
    lockAfterInstall = fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8');
    installed = Object.keys(
      readJson<PackageLock>(path.join(dir, 'node_modules', '.package-lock.json')).packages,
    );
    build = npm(['run', 'build'], dir);
    buildAzure = npm(['run', 'build:azure'], dir);
  }, 300_000);

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the zip holds the sources and what the build reads, and neither node_modules nor dist', () => {
    const rules = parseFuncignore(fs.readFileSync(path.join(dir, '.funcignore'), 'utf8'));
    expect(isIgnored(rules, 'node_modules', true)).toBe(true);
    expect(isIgnored(rules, 'dist', true)).toBe(true);
    for (const file of [
      'package.json',
      'package-lock.json',
      'host.json',
      'tsconfig.json',
      'tsconfig.build.json',
    ]) {
      expect(files, file).toContain(file);
    }
    const sources = packageFiles(path.join(ROOT, 'functions'), []).map((f) => `functions/${f}`);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(files).toContain(source);
    expect(
      files.filter(
        (f) =>
          /^(test|scripts|infra|apim|docs|node_modules|dist)\//.test(f) &&
          !f.startsWith('scripts/build/'),
      ),
    ).toEqual([]);
  });

  it('`npm install` installs exactly the lock, and only the app and its build tools', () => {
    expect(install.status, install.output).toBe(0);
    expect(JSON.parse(lockAfterInstall)).toEqual(JSON.parse(written));
    // Every entry of the lock but the optional ones for another platform (esbuild's binaries).
    const forThisPlatform = Object.entries(
      readJson<PackageLock>(path.join(dir, 'package-lock.json')).packages,
    ).filter(([location, entry]) => {
      if (location === '') return false;
      const { os, cpu } = entry as { os?: string[]; cpu?: string[] };
      return (
        entry.optional !== true ||
        ((os === undefined || os.includes(process.platform)) &&
          (cpu === undefined || cpu.includes(process.arch)))
      );
    });
    expect(installed.length).toBe(forThisPlatform.length);
    for (const name of DEVELOPMENT_ONLY) expect(installed).not.toContain(`node_modules/${name}`);
  });

  it('`npm run build` builds every function that package.json `main` names', () => {
    expect(build.status, build.output).toBe(0);
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

  it('`npm run build:azure` leaves only the runtime dependencies', () => {
    expect(buildAzure.status, buildAzure.output).toBe(0);
    const left = npm(['ls', '--all', '--parseable'], dir)
      .output.split('\n')
      .filter((line) => line.includes(`${path.sep}node_modules${path.sep}`));
    const names = left.map((line) => line.slice(line.lastIndexOf(`node_modules${path.sep}`) + 13));
    for (const dependency of Object.keys(project.dependencies ?? {}))
      expect(names).toContain(dependency);
    expect(names).not.toContain('typescript');
  });

  it('the compiled app imports only Node built-ins, its own files and production dependencies', () => {
    const allowed = new Set([...Object.keys(project.dependencies ?? {}), ...builtinModules]);
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
