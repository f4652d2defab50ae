import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BICEP_NUGET_VERSION,
  BicepNotFoundError,
  defaultCacheDir,
  resolveBicep,
  runtimeIdentifier,
} from '../../scripts/dev/bicep';

const ROOT = path.resolve(__dirname, '../..');
const posix = process.platform !== 'win32';

describe('runtimeIdentifier (NuGet package of the Bicep CLI)', () => {
  it.each([
    ['linux', 'x64', false, 'linux-x64'],
    ['linux', 'arm64', false, 'linux-arm64'],
    ['linux', 'x64', true, 'linux-musl-x64'],
    ['darwin', 'arm64', false, 'osx-arm64'],
    ['darwin', 'x64', false, 'osx-x64'],
    ['win32', 'x64', false, 'win-x64'],
    ['win32', 'arm64', false, 'win-arm64'],
  ] as const)('%s %s (musl %s) -> %s', (platform, arch, musl, rid) => {
    expect(runtimeIdentifier(platform, arch, musl)).toBe(rid);
  });

  it('refuses platforms without a package', () => {
    expect(() => runtimeIdentifier('linux', 'ia32', false)).toThrow(BicepNotFoundError);
    expect(() => runtimeIdentifier('freebsd', 'x64', false)).toThrow(BicepNotFoundError);
  });
});

describe('defaultCacheDir', () => {
  it('lives under XDG_CACHE_HOME, outside the repository', () => {
    const dir = defaultCacheDir({ XDG_CACHE_HOME: '/var/cache/someone' });
    expect(dir).toBe(path.join('/var/cache/someone', 'functions-behind-apim', 'bicep'));
    expect(path.relative(ROOT, defaultCacheDir({})).startsWith('..')).toBe(true);
  });
});

describe.runIf(posix)('resolveBicep lookup order (POSIX: fake CLIs are sh scripts)', () => {
  let dir: string;
  let emptyPath: string;

  /** A fake `bicep` that prints a version line and echoes its arguments. */
  function fakeBicep(at: string, version: string, exitCode = 0): string {
    fs.mkdirSync(path.dirname(at), { recursive: true });
    fs.writeFileSync(
      at,
      `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "Bicep CLI version ${version} (fake)"; exit 0; fi\necho "args: $*"\nexit ${exitCode}\n`,
      { mode: 0o755 },
    );
    return at;
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bicep-resolve-'));
    emptyPath = path.join(dir, 'empty-path');
    fs.mkdirSync(emptyPath);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** An environment in which nothing is installed: no bicep, no azd, no az, no dotnet. */
  function bareEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: emptyPath,
      AZD_CONFIG_DIR: path.join(dir, 'azd'),
      AZURE_CONFIG_DIR: path.join(dir, 'azure'),
      ...extra,
    };
  }

  it('uses AZD_BICEP_TOOL_PATH first', () => {
    const explicit = fakeBicep(path.join(dir, 'explicit', 'bicep'), '1.0.0');
    fakeBicep(path.join(emptyPath, 'bicep'), '2.0.0');
    const found = resolveBicep({ env: bareEnv({ AZD_BICEP_TOOL_PATH: explicit }), cacheDir: dir });
    expect(found).toEqual({
      path: explicit,
      source: 'AZD_BICEP_TOOL_PATH',
      version: 'Bicep CLI version 1.0.0 (fake)',
    });
  });

  it('fails naming AZD_BICEP_TOOL_PATH when it points at nothing that runs', () => {
    const env = bareEnv({ AZD_BICEP_TOOL_PATH: path.join(dir, 'missing') });
    expect(() => resolveBicep({ env, cacheDir: dir })).toThrow(/AZD_BICEP_TOOL_PATH/);
  });

  it('then bicep on PATH', () => {
    fakeBicep(path.join(emptyPath, 'bicep'), '2.0.0');
    fakeBicep(path.join(dir, 'azd', 'bin', 'bicep'), '3.0.0');
    const found = resolveBicep({ env: bareEnv(), cacheDir: dir });
    expect(found.source).toBe('PATH');
    expect(found.version).toContain('2.0.0');
  });

  it("then azd's own copy, then the Azure CLI's", () => {
    fakeBicep(path.join(dir, 'azd', 'bin', 'bicep'), '3.0.0');
    fakeBicep(path.join(dir, 'azure', 'bin', 'bicep'), '4.0.0');
    expect(resolveBicep({ env: bareEnv(), cacheDir: dir }).source).toBe('azd');
    fs.rmSync(path.join(dir, 'azd'), { recursive: true });
    expect(resolveBicep({ env: bareEnv(), cacheDir: dir }).source).toBe('azure-cli');
  });

  it('then a copy restored earlier into the cache folder', () => {
    const cached = path.join(dir, 'cache', BICEP_NUGET_VERSION, runtimeIdentifier(), 'bicep');
    fakeBicep(cached, BICEP_NUGET_VERSION);
    const found = resolveBicep({ env: bareEnv(), cacheDir: path.join(dir, 'cache') });
    expect(found).toMatchObject({ path: cached, source: 'cache' });
  });

  it('without any copy and without dotnet, fails with install instructions', () => {
    let error: unknown;
    try {
      resolveBicep({ env: bareEnv(), cacheDir: path.join(dir, 'cache') });
    } catch (caught: unknown) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BicepNotFoundError);
    const message = (error as Error).message;
    expect(message).toContain('az bicep install');
    expect(message).toContain(`Azure.Bicep.CommandLine.<rid> ${BICEP_NUGET_VERSION}`);
    expect(message).toContain('AZD_BICEP_TOOL_PATH');
  });

  it('`npm run bicep -- <args>` passes the arguments and the exit code through', () => {
    const explicit = fakeBicep(path.join(dir, 'explicit', 'bicep'), '1.0.0', 3);
    const script = path.join(ROOT, 'dist', 'scripts', 'dev', 'bicep.js');
    const result = spawnSync(process.execPath, [script, 'build', 'infra/main.bicep', '--stdout'], {
      encoding: 'utf8',
      env: { ...process.env, AZD_BICEP_TOOL_PATH: explicit },
    });
    expect(result.status).toBe(3);
    expect(result.stdout.trim()).toBe('args: build infra/main.bicep --stdout');
    expect(result.stderr).toContain(
      `Using Bicep CLI version 1.0.0 (fake) (AZD_BICEP_TOOL_PATH: ${explicit})`,
    );
  });
});
