/**
 * How azd runs an inline hook (`run:` holding a script, not a file path): it writes the script
 * into a temporary file with a header and runs that file. Mirrored from azd's source
 * (Azure/azure-dev at ae35809f, cli/azd/pkg/tools/bash/bash.go and
 * cli/azd/pkg/tools/powershell/powershell.go, `Prepare` and `Execute`):
 *
 * - `shell: sh`: `#!/bin/sh`, `set -e`, the script; the file is executed directly (by `bash <file>`
 *   on Windows).
 * - `shell: pwsh`: `$ErrorActionPreference = 'Stop'`, the script, then
 *   `if ((Test-Path -LiteralPath variable:\LASTEXITCODE)) { exit $LASTEXITCODE }`; run as
 *   `pwsh <file>`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { readRepoFile } from './workflow-parser';

export interface HookVariant {
  readonly shell?: string;
  readonly run?: string;
}

export interface HookConfig extends HookVariant {
  readonly posix?: HookVariant;
  readonly windows?: HookVariant;
}

/** The hooks of azure.yaml as azd reads them, by name. */
export function azureYamlHooks(): Record<string, HookConfig> {
  const yaml = parse(readRepoFile('azure.yaml')) as { hooks?: Record<string, HookConfig> };
  return yaml.hooks ?? {};
}

export function shScript(script: string): string {
  return `#!/bin/sh\nset -e\n\n# Auto generated file from Azure Developer CLI\n${script}\n`;
}

export function pwshScript(script: string): string {
  return (
    "$ErrorActionPreference = 'Stop'\n\n" +
    '# Auto generated file from Azure Developer CLI\n' +
    `${script}\n` +
    'if ((Test-Path -LiteralPath variable:\\LASTEXITCODE)) { exit $LASTEXITCODE }\n'
  );
}

export interface ScriptRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Writes the script file as azd does into `dir` and runs it there, as azd does. */
export function runAsAzd(
  kind: 'sh' | 'pwsh',
  script: string,
  options: { dir: string; env: NodeJS.ProcessEnv; pwsh?: string },
): ScriptRun {
  const file = path.join(
    options.dir,
    `hook-${process.pid}-${Date.now()}.${kind === 'sh' ? 'sh' : 'ps1'}`,
  );
  fs.writeFileSync(file, kind === 'sh' ? shScript(script) : pwshScript(script), { mode: 0o755 });
  try {
    // azd runs `pwsh <file>`; -NoProfile keeps a developer's profile out of the test.
    const [command, args] =
      kind === 'sh'
        ? [file, []]
        : [options.pwsh ?? 'pwsh', ['-NoProfile', '-NonInteractive', file]];
    const result = spawnSync(command, args, {
      cwd: options.dir,
      env: options.env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    fs.rmSync(file, { force: true });
  }
}
