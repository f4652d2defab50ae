/**
 * The external tools the ecosystem tests run: `pwsh` (the Windows variants of the azd hooks) and
 * `shellcheck` (their sh variants). Found on PATH, or `pwsh` where .ci/run installs it
 * (`dotnet tool install --tool-path`, see PWSH_TOOL_DIR). Locally a missing tool skips its tests
 * with the reason in their name; with CI=true it is a failure instead.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isCi } from '../support/bicep';

export { isCi };

/** Where .ci/run installs PowerShell: the cache folder the Bicep CLI uses too. */
export function pwshToolDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME?.trim() || path.join(os.homedir(), '.cache');
  return path.join(base, 'functions-behind-apim', 'pwsh');
}

export type Tool =
  | { readonly found: true; readonly path: string; readonly version: string }
  | { readonly found: false; readonly reason: string };

function probe(command: string, versionArgs: string[]): string | undefined {
  const result = spawnSync(command, versionArgs, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) return undefined;
  return result.stdout.trim().split('\n')[0] ?? '';
}

/** The absolute path of `name` on PATH, if it is there. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

export function findTool(name: 'pwsh' | 'shellcheck', extraDirs: string[] = []): Tool {
  const versionArgs =
    name === 'pwsh'
      ? ['-NoLogo', '-NoProfile', '-Command', '$PSVersionTable.PSVersion.ToString()']
      : ['--version'];
  const candidates = [onPath(name), ...extraDirs.map((dir) => path.join(dir, name))];
  for (const candidate of candidates) {
    if (candidate === undefined || !fs.existsSync(candidate)) continue;
    const version = probe(candidate, versionArgs);
    if (version !== undefined) return { found: true, path: candidate, version };
  }
  const where = ['PATH', ...extraDirs].join(', ');
  const install =
    name === 'pwsh'
      ? `dotnet tool install --tool-path ${pwshToolDir()} PowerShell --version 7.6.9 (what .ci/run does)`
      : 'apt-get install shellcheck (what .ci/run does)';
  return {
    found: false,
    reason: `${name} not found (looked in ${where}); install it with ${install}`,
  };
}

export const PWSH = findTool('pwsh', [pwshToolDir()]);
export const SHELLCHECK = findTool('shellcheck');

/** The suffix of a describe block's name: why its tests are skipped, if they are. */
export function skipNote(tool: Tool): string {
  return tool.found ? '' : ` (skipped: ${tool.reason})`;
}

/** Run the tests when the tool is there; skip them locally; in CI they run and fail. */
export function runTests(tool: Tool): boolean {
  return tool.found || isCi();
}

export function requireTool(tool: Tool): string {
  if (!tool.found) throw new Error(`${tool.reason}. CI=true: a missing tool fails the run.`);
  return tool.path;
}
