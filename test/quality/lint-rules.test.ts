import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

let eslint: ESLint;

beforeAll(async () => {
  // The repository's own eslint.config.mjs, as `npm run lint` runs it, with only the plugin's
  // rules on (they need no type information, so the TypeScript project is not loaded).
  eslint = new ESLint({
    cwd: ROOT,
    ruleFilter: ({ ruleId }) => ruleId.startsWith('vitest/'),
    overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  });
  // Loads the configuration and the plugin once, outside any test's time limit.
  await eslint.lintText('', { filePath: path.join(ROOT, 'test/quality/lint-rules.test.ts') });
}, 60_000);

/** The rules of the test block that fire on a snippet linted as a test file. */
async function testRuleIds(text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, {
    filePath: path.join(ROOT, 'test/quality/lint-rules.test.ts'),
  });
  return result!.messages.map((m) => m.ruleId ?? m.message);
}

describe('the lint rules for test files', () => {
  it.each([
    ['toBeTruthy()', `it('exits', () => { expect(exit.code).toBeTruthy(); });`],
    ['not.toBeTruthy()', `it('x', () => { expect(error).not.toBeTruthy(); });`],
    ['toBeFalsy()', `it('x', () => { expect(error).toBeFalsy(); });`],
    [
      'resolves.not.toBeFalsy()',
      `it('x', async () => { await expect(p).resolves.not.toBeFalsy(); });`,
    ],
  ])('refuse %s', async (_name, text) => {
    expect(await testRuleIds(text)).toEqual(['vitest/no-restricted-matchers']);
  });

  it('refuse a test that asserts nothing', async () => {
    expect(await testRuleIds(`it('adds', () => { add(1, 1); });`)).toEqual([
      'vitest/expect-expect',
    ]);
  });

  it.each([
    ['an expect() without a matcher', `it('x', () => { expect(add(1, 1)); });`],
    ['an async matcher not awaited', `it('x', async () => { expect(p).resolves.toBe(1); });`],
  ])('refuse %s', async (_name, text) => {
    expect(await testRuleIds(text)).toEqual(['vitest/valid-expect']);
  });

  it.each([
    ['a plain assertion', `it('adds', () => { expect(1 + 1).toBe(2); });`],
    ['an assertion with a message', `it('adds', () => { expect(1 + 1, 'sum').toBe(2); });`],
    ['a test asserting through helpers', `it('x', async () => { await expectProblem(r); });`],
    ['a property test', `it('x', () => { fc.assert(fc.property(fc.nat(), (n) => n >= 0)); });`],
  ])('accept %s', async (_name, text) => {
    expect(await testRuleIds(text)).toEqual([]);
  });
});
