/**
 * `npm run test:mutation:gate`, after `npm run test:mutation` (docs/testing.md): the mutation
 * score of each file of the last run (reports/mutation/mutation.json), against the floors below.
 * Stryker's own `thresholds.break` is one number for the whole run; the token checks must be held
 * completely, so their files have a floor of their own.
 *
 * The score is Stryker's (mutation-testing-elements' metrics): detected (killed or timed out) over
 * detected plus undetected (survived or not covered); ignored mutants (`// Stryker disable`, each
 * with its reason) and those that do not compile do not count.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureError } from '../../functions/lib/errors';
import { findProjectRoot } from '../local/shared/paths';

/** Every file the run mutates scores at least this, taken together. */
export const OVERALL_FLOOR = 95;

/**
 * The app's own token checks, beside those jsonwebtoken and jwks-rsa make (which are not mutated):
 * the compact form and header rules, the time claims and the claim rules, and the signing keys
 * (which key is used, the unknown-`kid` cooldown, the bound on each lookup, the 503's reason).
 */
export const FILE_FLOORS: Readonly<Record<string, number>> = {
  'functions/auth/jws.ts': 100,
  'functions/auth/token-validator.ts': 100,
  'functions/auth/signing-keys.ts': 100,
};

/** The part of Stryker's JSON report (mutation-testing-report-schema) read here. */
export interface MutationReport {
  readonly files: Readonly<Record<string, { readonly mutants: readonly { status: string }[] }>>;
}

export interface Score {
  readonly detected: number;
  readonly undetected: number;
  /** Undefined when no mutant counts. */
  readonly score: number | undefined;
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

/** Per file (paths relative to `root`, with `/`) and in total. */
export function scores(
  report: MutationReport,
  root: string,
): { rows: (Score & { file: string })[]; total: Score } {
  const rows = Object.entries(report.files).map(([file, { mutants }]) => {
    const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
    const undetected = mutants.filter((m) => UNDETECTED.has(m.status)).length;
    return { file: relative(root, file), ...score(detected, undetected) };
  });
  const sum = (key: 'detected' | 'undetected') => rows.reduce((n, row) => n + row[key], 0);
  return { rows, total: score(sum('detected'), sum('undetected')) };
}

/**
 * What falls short, one line each; empty when every floor is met. A floor's file that is not in
 * the report falls short too: a renamed file must take its floor along.
 */
export function shortfalls(
  report: MutationReport,
  root: string,
  overall = OVERALL_FLOOR,
  floors = FILE_FLOORS,
): string[] {
  const { rows, total } = scores(report, root);
  const byFile = new Map(rows.map((row) => [row.file, row]));
  const short: string[] = [];
  if (total.score === undefined || total.score < overall) {
    short.push(`all files: ${format(total.score)} < ${overall}`);
  }
  for (const [file, floor] of Object.entries(floors)) {
    const row = byFile.get(file);
    if (!row) short.push(`${file}: not in the report`);
    else if (row.score !== undefined && row.score < floor) {
      short.push(`${file}: ${format(row.score)} < ${floor} (${row.undetected} undetected)`);
    }
  }
  return short;
}

function score(detected: number, undetected: number): Score {
  const valid = detected + undetected;
  return { detected, undetected, score: valid === 0 ? undefined : (100 * detected) / valid };
}

function format(value: number | undefined): string {
  return value === undefined ? 'no mutants' : value.toFixed(2);
}

function relative(root: string, file: string): string {
  return (path.isAbsolute(file) ? path.relative(root, file) : file).split(path.sep).join('/');
}

function main(): number {
  const root = findProjectRoot();
  const file = process.argv[2] ?? path.join(root, 'reports', 'mutation', 'mutation.json');
  let report: MutationReport;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8')) as MutationReport;
  } catch (error) {
    console.error(
      `No mutation report at ${file} (${ensureError(error).message}); run npm run test:mutation.`,
    );
    return 1;
  }
  const { rows, total } = scores(report, root);
  const line = (name: string, value: Score, floor: number | undefined) =>
    `${name.padEnd(40)} ${format(value.score).padStart(10)} ${String(floor ?? '').padStart(4)}  (${value.undetected} undetected)`;
  for (const row of rows.sort((a, b) => a.file.localeCompare(b.file))) {
    console.log(line(row.file, row, FILE_FLOORS[row.file]));
  }
  console.log(line('all files', total, OVERALL_FLOOR));
  const short = shortfalls(report, root);
  for (const reason of short) console.error(`Below its floor: ${reason}`);
  return short.length === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main();
