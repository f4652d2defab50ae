/**
 * `npm run bicep -- <args>`: runs the Bicep CLI with `<args>`, finding it wherever it already is or,
 * where `dotnet` is installed, restoring it from NuGet into a cache folder outside the repository.
 *
 * Lookup order (the first that runs `--version` wins):
 *   1. `AZD_BICEP_TOOL_PATH` (the variable azd itself honours; when set it must work),
 *   2. `bicep` on PATH,
 *   3. azd's own copy (`$AZD_CONFIG_DIR` or `~/.azd`, `bin/bicep`),
 *   4. the Azure CLI's copy from `az bicep install` (`$AZURE_CONFIG_DIR` or `~/.azure`, `bin/bicep`),
 *   5. a copy restored earlier into the cache folder,
 *   6. a fresh restore of the NuGet package `Azure.Bicep.CommandLine.<rid>` with `dotnet`.
 * Otherwise it fails with install instructions.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureError } from '../../functions/lib/errors';

/** The Bicep CLI version restored from NuGet when no other copy is found. */
export const BICEP_NUGET_VERSION = '0.49.2';

export type BicepSource =
  'AZD_BICEP_TOOL_PATH' | 'PATH' | 'azd' | 'azure-cli' | 'cache' | 'nuget-restore';

export interface ResolvedBicep {
  /** Absolute path (or, for PATH, the command name) of the executable. */
  readonly path: string;
  /** Where it was found. */
  readonly source: BicepSource;
  /** First line of `bicep --version`, e.g. `Bicep CLI version 0.49.2 (...)`. */
  readonly version: string;
}

export interface ResolveOptions {
  /** Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where restored copies live. Defaults to {@link defaultCacheDir}. */
  readonly cacheDir?: string;
  /** Progress messages (the restore takes a while); defaults to stderr. */
  readonly log?: (message: string) => void;
}

export class BicepNotFoundError extends Error {
  override readonly name = 'BicepNotFoundError';
}

const EXE = process.platform === 'win32' ? 'bicep.exe' : 'bicep';

export const INSTALL_INSTRUCTIONS = [
  'Install one of:',
  '  - the Bicep CLI: https://learn.microsoft.com/azure/azure-resource-manager/bicep/install',
  '  - the Azure CLI, then `az bicep install`',
  '  - the Azure Developer CLI (azd), which downloads its own copy on first use',
  '  - the .NET SDK (`dotnet`), from which this script restores the NuGet package',
  `    Azure.Bicep.CommandLine.<rid> ${BICEP_NUGET_VERSION} into a cache folder`,
  'or point AZD_BICEP_TOOL_PATH at a bicep executable.',
].join('\n');

/** `$XDG_CACHE_HOME` (or `~/.cache`; `%LOCALAPPDATA%` on Windows) + `functions-behind-apim/bicep`. */
export function defaultCacheDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const base =
    env.XDG_CACHE_HOME ??
    (process.platform === 'win32' && env.LOCALAPPDATA !== undefined
      ? env.LOCALAPPDATA
      : path.join(os.homedir(), '.cache'));
  return path.join(base, 'functions-behind-apim', 'bicep');
}

/** The NuGet runtime identifier of the Bicep package for this machine. */
export function runtimeIdentifier(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
  musl: boolean = isMusl(),
): string {
  const cpu = arch === 'x64' ? 'x64' : arch === 'arm64' ? 'arm64' : undefined;
  if (cpu === undefined) {
    throw new BicepNotFoundError(`No Bicep CLI package exists for the CPU architecture ${arch}.`);
  }
  switch (platform) {
    case 'linux':
      return musl ? `linux-musl-${cpu}` : `linux-${cpu}`;
    case 'darwin':
      return `osx-${cpu}`;
    case 'win32':
      return `win-${cpu}`;
    default:
      throw new BicepNotFoundError(`No Bicep CLI package exists for the platform ${platform}.`);
  }
}

function isMusl(): boolean {
  if (process.platform !== 'linux') return false;
  const report = process.report?.getReport() as
    { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime === undefined;
}

/** Runs `<candidate> --version`; returns its first line, or undefined when it does not run. */
function probe(
  candidate: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const result = spawnSync(candidate, ['--version'], { encoding: 'utf8', timeout: 60_000, env });
  if (result.error !== undefined || result.status !== 0) return undefined;
  const line = result.stdout.split(/\r?\n/).find((text) => text.trim() !== '');
  return line?.trim() ?? 'Bicep CLI (version unknown)';
}

function restoredPath(cacheDir: string, rid: string): string {
  return path.join(cacheDir, BICEP_NUGET_VERSION, rid, EXE);
}

/**
 * Restores `Azure.Bicep.CommandLine.<rid>` with a throw-away project into a private packages
 * folder, then moves its `tools` folder into place with one rename, so that concurrent restores
 * (parallel test processes) never see a half-written copy.
 */
function restoreFromNuGet(
  cacheDir: string,
  rid: string,
  env: Readonly<Record<string, string | undefined>>,
  log: (message: string) => void,
): string {
  const packageId = `Azure.Bicep.CommandLine.${rid}`;
  const target = path.dirname(restoredPath(cacheDir, rid));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const work = fs.mkdtempSync(path.join(cacheDir, 'restore-'));
  try {
    const project = path.join(work, 'restore.csproj');
    fs.writeFileSync(
      project,
      [
        '<Project Sdk="Microsoft.NET.Sdk">',
        '  <PropertyGroup>',
        '    <TargetFramework>netstandard2.0</TargetFramework>',
        '  </PropertyGroup>',
        '  <ItemGroup>',
        `    <PackageDownload Include="${packageId}" Version="[${BICEP_NUGET_VERSION}]" />`,
        '  </ItemGroup>',
        '</Project>',
        '',
      ].join('\n'),
    );
    const packages = path.join(work, 'packages');
    log(`Restoring ${packageId} ${BICEP_NUGET_VERSION} from NuGet into ${target} ...`);
    const result = spawnSync(
      'dotnet',
      ['restore', project, '--packages', packages, '--nologo', '--verbosity', 'quiet'],
      {
        encoding: 'utf8',
        timeout: 600_000,
        env: { ...env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
      },
    );
    if (result.error !== undefined || result.status !== 0) {
      const detail = result.error?.message ?? `${result.stdout}${result.stderr}`.trim();
      throw new BicepNotFoundError(
        `dotnet restore of ${packageId} ${BICEP_NUGET_VERSION} failed:\n${detail}\n\n${INSTALL_INSTRUCTIONS}`,
      );
    }
    const tools = path.join(packages, packageId.toLowerCase(), BICEP_NUGET_VERSION, 'tools');
    const executable = path.join(tools, EXE);
    if (!fs.existsSync(executable)) {
      throw new BicepNotFoundError(`${packageId} ${BICEP_NUGET_VERSION} has no tools/${EXE}.`);
    }
    fs.chmodSync(executable, 0o755);
    try {
      fs.renameSync(tools, target);
    } catch (error: unknown) {
      // Another process put its copy in place first: use that one.
      if (!fs.existsSync(restoredPath(cacheDir, rid))) throw ensureError(error);
    }
    return restoredPath(cacheDir, rid);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Finds a working Bicep CLI (see the file comment for the order), restoring one if needed. */
export function resolveBicep(options: ResolveOptions = {}): ResolvedBicep {
  const env = options.env ?? process.env;
  const log = options.log ?? ((message: string) => console.error(message));
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);

  const explicit = env.AZD_BICEP_TOOL_PATH;
  if (explicit !== undefined && explicit !== '') {
    const version = probe(explicit, env);
    if (version === undefined) {
      throw new BicepNotFoundError(
        `AZD_BICEP_TOOL_PATH is set to ${explicit}, which does not run \`--version\`. ` +
          'Point it at a bicep executable or unset it.',
      );
    }
    return { path: explicit, source: 'AZD_BICEP_TOOL_PATH', version };
  }

  const onPath = probe('bicep', env);
  if (onPath !== undefined) return { path: 'bicep', source: 'PATH', version: onPath };

  const azdDir = env.AZD_CONFIG_DIR ?? path.join(os.homedir(), '.azd');
  const azureDir = env.AZURE_CONFIG_DIR ?? path.join(os.homedir(), '.azure');
  const installed: ReadonlyArray<readonly [BicepSource, string]> = [
    ['azd', path.join(azdDir, 'bin', EXE)],
    ['azure-cli', path.join(azureDir, 'bin', EXE)],
  ];
  for (const [source, candidate] of installed) {
    if (!fs.existsSync(candidate)) continue;
    const version = probe(candidate, env);
    if (version !== undefined) return { path: candidate, source, version };
  }

  const rid = runtimeIdentifier();
  const cached = restoredPath(cacheDir, rid);
  if (fs.existsSync(cached)) {
    const version = probe(cached, env);
    if (version !== undefined) return { path: cached, source: 'cache', version };
  }

  if (probe('dotnet', env) === undefined) {
    throw new BicepNotFoundError(`The Bicep CLI was not found.\n${INSTALL_INSTRUCTIONS}`);
  }
  const restored = restoreFromNuGet(cacheDir, rid, env, log);
  const version = probe(restored, env);
  if (version === undefined) {
    throw new BicepNotFoundError(`The restored Bicep CLI at ${restored} does not run.`);
  }
  return { path: restored, source: 'nuget-restore', version };
}

function main(args: readonly string[]): number {
  let bicep: ResolvedBicep;
  try {
    bicep = resolveBicep();
  } catch (error: unknown) {
    console.error(ensureError(error).message);
    return 1;
  }
  // stderr, so that `npm run -s bicep -- build --stdout ...` keeps stdout for the template.
  console.error(`Using ${bicep.version} (${bicep.source}: ${bicep.path})`);
  const result = spawnSync(bicep.path, args, { stdio: 'inherit' });
  if (result.error !== undefined) {
    console.error(`Running ${bicep.path} failed: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
