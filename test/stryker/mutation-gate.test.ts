/**
 * The mutation score gate (scripts/dev/mutation-gate.ts): Stryker's score per file and in total, the
 * overall floor and the token checks' floors of their own, and its exit code on a report.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FILE_FLOORS, OVERALL_FLOOR, scores, shortfalls } from '../../scripts/dev/mutation-gate';
import { script } from '../support/node-process';

const ROOT = path.resolve(__dirname, '..', '..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'score-gate-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

type Status = 'Killed' | 'Timeout' | 'Survived' | 'NoCoverage' | 'Ignored' | 'CompileError';
const mutants = (counts: Partial<Record<Status, number>>) =>
  Object.entries(counts).flatMap(([status, n]) => Array.from({ length: n }, () => ({ status })));

/** A report in which every floor's file and `extra` have the given mutants. */
function report(
  perFile: Partial<Record<Status, number>>,
  extra: Record<string, Partial<Record<Status, number>>> = {},
) {
  const files: Record<string, { mutants: { status: string }[] }> = {};
  for (const file of Object.keys(FILE_FLOORS)) files[file] = { mutants: mutants(perFile) };
  for (const [file, counts] of Object.entries(extra)) files[file] = { mutants: mutants(counts) };
  return { files };
}

describe('scores', () => {
  it('counts killed and timed-out mutants as detected, survivors and uncovered ones as not, and leaves out the rest', () => {
    const { rows, total } = scores(
      {
        files: {
          'a.ts': {
            mutants: mutants({
              Killed: 6,
              Timeout: 2,
              Survived: 1,
              NoCoverage: 1,
              Ignored: 5,
              CompileError: 3,
            }),
          },
          'b.ts': { mutants: mutants({ Ignored: 2 }) },
        },
      },
      ROOT,
    );
    expect(rows).toEqual([
      { file: 'a.ts', detected: 8, undetected: 2, score: 80 },
      { file: 'b.ts', detected: 0, undetected: 0, score: undefined },
    ]);
    expect(total).toEqual({ detected: 8, undetected: 2, score: 80 });
  });
});

describe('shortfalls', () => {
  it('is empty when every file is held completely', () => {
    expect(shortfalls(report({ Killed: 3 }), ROOT)).toEqual([]);
  });

  it('names the total when it is under the overall floor', () => {
    // The token check files at 100 %, one other file pulling the total to 20 of 22 (90.9 %).
    const perFile = 18 / Object.keys(FILE_FLOORS).length;
    const short = shortfalls(
      report({ Killed: perFile }, { 'functions/auth/config.ts': { Killed: 2, Survived: 2 } }),
      ROOT,
    );
    expect(short).toEqual([`all files: 90.91 < ${OVERALL_FLOOR}`]);
  });

  it.each([
    'functions/auth/jws.ts',
    'functions/auth/token-validator.ts',
    'functions/auth/signing-keys.ts',
  ])(
    'names %s, a token check file, under its floor of 100, even when the total clears the overall one',
    (file) => {
      const files = report({ Killed: 100 }, { 'functions/auth/config.ts': { Killed: 100 } }).files;
      files[file] = { mutants: mutants({ Killed: 99, NoCoverage: 1 }) };
      expect(shortfalls({ files }, ROOT)).toEqual([`${file}: 99.00 < 100 (1 undetected)`]);
    },
  );

  it('reads absolute paths relative to the project', () => {
    const files = Object.fromEntries(
      Object.entries(report({ Killed: 1 }).files).map(([file, value]) => [
        path.join(ROOT, file),
        value,
      ]),
    );
    expect(shortfalls({ files }, ROOT)).toEqual([]);
  });

  it('names a floor file missing from the report', () => {
    const { files } = report({ Killed: 1 });
    delete files['functions/auth/token-validator.ts'];
    expect(shortfalls({ files }, ROOT)).toEqual([
      'functions/auth/token-validator.ts: not in the report',
    ]);
  });

  it('falls short on a report with no mutant that counts', () => {
    expect(shortfalls(report({ Ignored: 1 }), ROOT)).toEqual([
      `all files: no mutants < ${OVERALL_FLOOR}`,
    ]);
  });
});

describe('npm run test:mutation:gate', () => {
  const gate = (file: string) =>
    promisify(execFile)(process.execPath, [script('dev/mutation-gate'), file]).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('exits 0 and prints the table when every floor is met', async () => {
    const file = path.join(scratch, 'pass.json');
    fs.writeFileSync(file, JSON.stringify(report({ Killed: 2 })));
    const { code, stdout } = await gate(file);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^functions\/auth\/jws\.ts\s+100\.00\s+100\s+\(0 undetected\)$/m);
    expect(stdout).toMatch(/^all files\s+100\.00\s+95\s+\(0 undetected\)$/m);
  });

  it('exits 1 and names what falls short', async () => {
    const file = path.join(scratch, 'fail.json');
    fs.writeFileSync(file, JSON.stringify(report({ Killed: 1, Survived: 1 })));
    const { code, stderr } = await gate(file);
    expect(code).toBe(1);
    expect(stderr).toContain('Below its floor: all files: 50.00 < 95');
    expect(stderr).toContain('Below its floor: functions/auth/jws.ts: 50.00 < 100 (1 undetected)');
  });

  it('exits 1 and says what to run when there is no report', async () => {
    const { code, stderr } = await gate(path.join(scratch, 'absent.json'));
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^No mutation report at .*absent\.json .*; run npm run test:mutation\.$/m,
    );
  });
});
