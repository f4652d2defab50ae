/**
 * Compiles and lints `infra/main.bicep` with the Bicep CLI (found or restored by scripts/dev/bicep.ts),
 * at most once per test process, into a temporary folder.
 *
 * Without a Bicep CLI the infra tests are skipped with the reason and how to install one (the run
 * ends with it: see skip-summary.ts), except in CI (`CI=true`), where a missing CLI is a failure.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, type TestContext } from 'vitest';
import { INSTALL_INSTRUCTIONS, resolveBicep, type ResolvedBicep } from '../../scripts/dev/bicep';

export const ROOT = path.resolve(__dirname, '../..');
export const MAIN_BICEP = path.join(ROOT, 'infra', 'main.bicep');

/** Restoring the CLI from NuGet and a first compile can take a while on a cold machine. */
const SETUP_TIMEOUT_MS = 300_000;

export interface BicepRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CompiledTemplate {
  /** The ARM template (JSON) that `bicep build` wrote. */
  readonly template: Record<string, unknown>;
  readonly build: BicepRun;
}

export interface SarifResult {
  readonly ruleId: string;
  readonly level: string;
  readonly message: { readonly text: string };
  readonly locations?: readonly {
    readonly physicalLocation?: {
      readonly artifactLocation?: { readonly uri?: string };
      readonly region?: { readonly startLine?: number };
    };
  }[];
}

export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

type Availability =
  | { readonly ok: true; readonly bicep: ResolvedBicep }
  | { readonly ok: false; readonly reason: string };

let availability: Availability | undefined;

function bicepAvailability(): Availability {
  if (availability === undefined) {
    try {
      availability = { ok: true, bicep: resolveBicep({ log: (message) => console.info(message) }) };
    } catch (error: unknown) {
      const message = error instanceof Error ? error.message : String(error);
      if (isCi()) {
        throw new Error(`CI=true and no Bicep CLI is available: ${message}`, { cause: error });
      }
      const how = message.includes(INSTALL_INSTRUCTIONS) ? '' : `\n${INSTALL_INSTRUCTIONS}`;
      availability = {
        ok: false,
        reason: `Bicep CLI not available, so the infra tests are skipped (in CI they fail). ${message}${how}`,
      };
      console.warn(availability.reason);
    }
  }
  return availability;
}

export function runBicep(bicep: ResolvedBicep, args: readonly string[]): BicepRun {
  const result = spawnSync(bicep.path, args, { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let workDir: string | undefined;
let compiled: CompiledTemplate | undefined;
let lint: { readonly run: BicepRun; readonly results: readonly SarifResult[] } | undefined;

function tempDir(): string {
  workDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'infra-bicep-'));
  return workDir;
}

function compile(bicep: ResolvedBicep): CompiledTemplate {
  if (compiled === undefined) {
    const outfile = path.join(tempDir(), 'main.json');
    const build = runBicep(bicep, ['build', MAIN_BICEP, '--outfile', outfile]);
    if (build.status !== 0) {
      throw new Error(
        `bicep build failed (exit ${String(build.status)}):\n${build.stderr}${build.stdout}`,
      );
    }
    compiled = {
      template: JSON.parse(fs.readFileSync(outfile, 'utf8')) as Record<string, unknown>,
      build,
    };
  }
  return compiled;
}

function runLint(bicep: ResolvedBicep): {
  readonly run: BicepRun;
  readonly results: readonly SarifResult[];
} {
  if (lint === undefined) {
    const run = runBicep(bicep, ['lint', MAIN_BICEP, '--diagnostics-format', 'sarif']);
    let sarif: { runs?: { results?: SarifResult[] }[] };
    try {
      sarif = JSON.parse(run.stdout) as typeof sarif;
    } catch (error: unknown) {
      throw new Error(
        `bicep lint did not print SARIF (exit ${String(run.status)}):\n${run.stderr}${run.stdout}`,
        {
          cause: error,
        },
      );
    }
    if (!Array.isArray(sarif.runs))
      throw new Error(`Unexpected SARIF from bicep lint: ${run.stdout}`);
    lint = { run, results: sarif.runs.flatMap((r) => r.results ?? []) };
  }
  return lint;
}

function setUp<T>(work: (bicep: ResolvedBicep) => T): (ctx: TestContext) => T {
  let value: T | undefined;
  let skipReason: string | undefined;
  beforeAll(() => {
    const found = bicepAvailability();
    if (!found.ok) {
      skipReason = found.reason;
      return;
    }
    value = work(found.bicep);
  }, SETUP_TIMEOUT_MS);
  afterAll(() => {
    if (workDir !== undefined) fs.rmSync(workDir, { recursive: true, force: true });
    workDir = undefined;
  });
  return (ctx) => {
    if (skipReason !== undefined) ctx.skip(skipReason);
    if (value === undefined) throw new Error('The Bicep setup did not run');
    return value;
  };
}

/** Registers the compile step for the current test file; call the result inside each test. */
export function useCompiledTemplate(): (ctx: TestContext) => CompiledTemplate {
  return setUp(compile);
}

/** Registers the lint step (SARIF results) for the current test file. */
export function useLint(): (ctx: TestContext) => {
  readonly run: BicepRun;
  readonly results: readonly SarifResult[];
} {
  return setUp(runLint);
}
