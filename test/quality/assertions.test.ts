import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertionProblems } from './assertion-checks';

const TEST_DIR = path.resolve(__dirname, '..');

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('assertion checks', () => {
  it.each([
    [
      "'!' then toBeDefined() on the same value",
      `it('finds it', () => {\n  const app = find()!;\n  expect(app).toBeDefined();\n});`,
      "3: toBeDefined() on a value the code already asserted non-null with '!'",
    ],
    [
      "toBeDefined() then '!' on the same value",
      `it('finds it', () => {\n  const v = m.get(k);\n  expect(v).toBeDefined();\n  use(v!);\n});`,
      "3: toBeDefined() on a value the code already asserted non-null with '!'",
    ],
    [
      "toBeDefined() on a '!' expression",
      `it('finds it', () => { expect(find()!).toBeDefined(); });`,
      "1: toBeDefined() on a value the code already asserted non-null with '!'",
    ],
    [
      'the only assertion under an if',
      `it('leaks nothing', () => {\n  for (const t of tokens) {\n    if (t.length > 10) expect(message).not.toContain(t);\n  }\n});`,
      '1: every assertion of this test is under a condition',
    ],
    [
      'the only assertion behind &&',
      `it.each(cases)('%s', (c) => { c.ok && expect(c.value).toBe(1); });`,
      '1: every assertion of this test is under a condition',
    ],
  ])('flags %s', (_name, text, problem) => {
    const problems = assertionProblems(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it.each([
    ['a plain assertion', `it('adds', () => { expect(1 + 1).toBe(2); });`],
    [
      'a conditional assertion beside an unconditional one',
      `it('x', () => {\n  expect(a).toBe(1);\n  if (posix) expect(mode).toBe(0o600);\n});`,
    ],
    ['toBeDefined() on a value without !', `it('x', () => { expect(find()).toBeDefined(); });`],
    [
      "toBeDefined() on a name that has a '!' in another test",
      `it('a', () => { const v = f(); expect(v).toBeDefined(); });\nit('b', () => { use(v!); });`,
    ],
    ['a test asserting through helpers only', `it('x', async () => { await expectProblem(r); });`],
  ])('accepts %s', (_name, text) => {
    expect(assertionProblems(text)).toEqual([]);
  });
});

describe('every test file under test/', () => {
  const files = testFiles(TEST_DIR);

  it('finds the test files', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it.each(files.map((file) => [path.relative(TEST_DIR, file), file]))(
    '%s has no weak assertions',
    (_name, file) => {
      expect(assertionProblems(fs.readFileSync(file, 'utf8'), file)).toEqual([]);
    },
  );
});
