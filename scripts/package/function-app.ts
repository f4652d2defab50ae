/**
 * `npm run package:api` (azure.yaml runs it as the `prepackage` and `predeploy` hooks): writes the
 * package of the Function App that `azd deploy` zips and the remote build installs, into
 * `.package/api` (azure.yaml `services.api.project`).
 *
 * The Flex Consumption remote build (Oryx) runs a plain `npm install`, devDependencies included,
 * then `npm run build` and `npm run build:azure` (microsoft/Oryx `doc/runtimes/nodejs.md`). Given
 * this repository's package.json it would install every test, lint and mutation-testing tool. The
 * package written here declares only what the app needs at run time (package.json
 * `dependencies`) and what its build needs (TypeScript, esbuild when the project uses it, and the
 * type declarations of Node and of the runtime dependencies), with the same `build` and
 * `build:azure` scripts and the files that `build` reads. Its package-lock.json is this
 * repository's lock cut down to those packages, so the remote build installs the same versions
 * that `npm ci` installs here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { findProjectRoot } from '../local/shared/paths';

/** Where the package is written, relative to the repository (azure.yaml points here). */
export const PACKAGE_DIR = '.package/api';

/** What the build may need besides the runtime dependencies, when package.json lists it. */
export const BUILD_TOOLS = ['typescript', 'esbuild', '@types/node'] as const;

/** The files and folders of the app, copied as they are. */
export const APP_FILES = ['functions', 'host.json', 'tsconfig.json', 'tsconfig.build.json'];

/** What the package leaves out of the zip azd uploads: the remote build installs and builds. */
export const FUNCIGNORE = [
  '# Written by scripts/package/function-app.ts. The remote build installs the packages and builds',
  '# dist/ itself (azure.yaml remoteBuild: true, which needs node_modules excluded).',
  'node_modules',
  'dist',
  '',
].join('\n');

export interface PackageJson {
  name: string;
  version: string;
  description?: string;
  license?: string;
  private?: boolean;
  type?: string;
  main?: string;
  engines?: Record<string, string>;
  scripts: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface LockEntry {
  name?: string;
  version?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

export interface PackageLock {
  name: string;
  version: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

/** `@types/<name>` of a package name (`@scope/name` becomes `@types/scope__name`). */
export function typesPackage(name: string): string {
  return `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`;
}

/** The package.json of the deployed package. */
export function functionAppPackageJson(project: PackageJson): PackageJson {
  const dependencies = project.dependencies ?? {};
  const wanted = [...BUILD_TOOLS, ...Object.keys(dependencies).map(typesPackage)];
  const devDependencies = Object.fromEntries(
    Object.entries(project.devDependencies ?? {}).filter(([name]) => wanted.includes(name)),
  );
  const scripts = Object.fromEntries(
    ['build', 'build:azure']
      .filter((name) => project.scripts[name] !== undefined)
      .map((name) => [name, project.scripts[name]!]),
  );
  return {
    name: `${project.name}-function-app`,
    version: project.version,
    ...(project.description === undefined ? {} : { description: project.description }),
    ...(project.license === undefined ? {} : { license: project.license }),
    private: true,
    ...(project.type === undefined ? {} : { type: project.type }),
    ...(project.main === undefined ? {} : { main: project.main }),
    ...(project.engines === undefined ? {} : { engines: project.engines }),
    scripts,
    dependencies,
    devDependencies,
  };
}

/** Where npm finds `name` for the package installed at `from` (node_modules lookup upwards). */
function resolveIn(lock: PackageLock, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (lock.packages[candidate] !== undefined) return candidate;
    if (base === '') return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

/** Every lock entry reachable from `roots` through dependencies, optional and peer ones. */
function reachable(lock: PackageLock, roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (from: string, names: readonly string[], required: boolean): void => {
    for (const name of names) {
      const location = resolveIn(lock, from, name);
      if (location === undefined) {
        if (required) throw new Error(`package-lock.json has no ${name} for ${from || 'the root'}`);
        continue;
      }
      if (seen.has(location)) continue;
      seen.add(location);
      const entry = lock.packages[location]!;
      visit(location, Object.keys(entry.dependencies ?? {}), true);
      visit(location, Object.keys(entry.optionalDependencies ?? {}), false);
      visit(location, Object.keys(entry.peerDependencies ?? {}), false);
    }
  };
  visit('', roots, true);
  return seen;
}

/** The repository's lock cut down to the packages of `pkg`, with npm's dev flags recomputed. */
export function functionAppLock(lock: PackageLock, pkg: PackageJson): PackageLock {
  if (lock.lockfileVersion < 2) throw new Error('package-lock.json must be lockfileVersion 2 or 3');
  const runtime = reachable(lock, Object.keys(pkg.dependencies ?? {}));
  const build = reachable(lock, Object.keys(pkg.devDependencies ?? {}));
  const packages: Record<string, LockEntry> = {
    '': {
      name: pkg.name,
      version: pkg.version,
      ...(pkg.license === undefined ? {} : { license: pkg.license }),
      dependencies: pkg.dependencies ?? {},
      devDependencies: pkg.devDependencies ?? {},
      ...(pkg.engines === undefined ? {} : { engines: pkg.engines }),
    },
  };
  for (const location of Object.keys(lock.packages).sort()) {
    if (!runtime.has(location) && !build.has(location)) continue;
    const entry: LockEntry = { ...lock.packages[location] };
    delete entry.dev;
    delete entry.devOptional;
    // npm marks a package that only the build needs `dev`, and keeps `optional` on one that is
    // only an optional dependency (esbuild's platform packages): `dev` and `optional` together.
    if (!runtime.has(location)) entry.dev = true;
    packages[location] = entry;
  }
  return { name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages };
}

/**
 * What the build script needs of the repository: each file it names (`node <file>`, `-p
 * <tsconfig>`), and for a file in a folder the whole folder, which holds what that file reads
 * (`scripts/build/bundle.mjs` and the modules it aliases).
 */
export function filesNamedBy(script: string, root: string): string[] {
  return script
    .split(/[\s"'&|;]+/)
    .filter((token) => /^[\w./-]+\.[cm]?[jt]s(on)?$/.test(token))
    .filter((token) => fs.existsSync(path.join(root, token)))
    .map((file) => (path.posix.dirname(file) === '.' ? file : path.posix.dirname(file)));
}

function copy(root: string, out: string, relative: string): void {
  const from = path.join(root, relative);
  if (!fs.existsSync(from)) throw new Error(`${relative} not found in ${root}`);
  fs.cpSync(from, path.join(out, relative), { recursive: true });
}

/** Writes the package of the app from the repository at `root` into `out`, replacing it. */
export function writeFunctionAppPackage(root: string, out: string): PackageJson {
  const project = JSON.parse(
    fs.readFileSync(path.join(root, 'package.json'), 'utf8'),
  ) as PackageJson;
  const lock = JSON.parse(
    fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'),
  ) as PackageLock;
  const pkg = functionAppPackageJson(project);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const files = new Set([...APP_FILES, ...filesNamedBy(pkg.scripts.build ?? '', root)]);
  for (const file of files) copy(root, out, file);
  fs.writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  fs.writeFileSync(
    path.join(out, 'package-lock.json'),
    `${JSON.stringify(functionAppLock(lock, pkg), null, 2)}\n`,
  );
  fs.writeFileSync(path.join(out, '.funcignore'), FUNCIGNORE);
  return pkg;
}

function main(): void {
  const root = findProjectRoot(__dirname);
  const out = path.join(root, PACKAGE_DIR);
  const pkg = writeFunctionAppPackage(root, out);
  const tools = Object.keys(pkg.devDependencies ?? {}).join(', ');
  const hook = process.argv[2] === undefined ? '' : ` (${process.argv[2]})`;
  console.log(`${PACKAGE_DIR}${hook}: the Function App's package, built remotely with ${tools}`);
}

if (require.main === module) main();
