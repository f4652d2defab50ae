/**
 * A Vitest reporter that ends the run with every skipped test and why, so that a skip is never
 * silent: the reason given to `ctx.skip(reason)` (the infra tests give how to get the Bicep CLI),
 * or, for a test skipped where it is declared (`it.skipIf(...)`), its name, which says why.
 */
import path from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';

export interface SkippedTest {
  /** The test file, relative to the project root. */
  readonly file: string;
  readonly name: string;
  /** The reason given to `ctx.skip(reason)`, if any. */
  readonly note: string | undefined;
}

/** The lines printed at the end of the run: one group per reason, with the tests it skipped. */
export function skipSummary(skipped: readonly SkippedTest[]): string {
  if (skipped.length === 0) return '';
  const byReason = new Map<string, SkippedTest[]>();
  for (const test of skipped) {
    const reason = test.note?.trim() || DECLARED;
    byReason.set(reason, [...(byReason.get(reason) ?? []), test]);
  }
  const lines = [`Skipped tests (${skipped.length}), and why:`];
  for (const [reason, tests] of byReason) {
    lines.push('', `  ${reason.split('\n').join('\n  ')}`);
    for (const test of tests) lines.push(`    - ${test.file} > ${test.name}`);
  }
  return `${lines.join('\n')}\n`;
}

const NOT_RUN = 'not run: a hook of its file or suite failed (see the errors above)';
const DECLARED = 'skipped where declared (the test name says why)';

/** Whether the test's file or one of its suites failed (a `beforeAll` that threw, for example). */
function enclosingFailure(test: TestCase): boolean {
  for (let parent = test.parent; ; parent = parent.parent) {
    if (parent.state() === 'failed') return true;
    if (parent.type === 'module') return false;
  }
}

export default class SkipSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped: SkippedTest[] = [];
    for (const module of testModules) {
      const file = path.relative(process.cwd(), module.moduleId).split(path.sep).join('/');
      for (const test of module.children.allTests('skipped')) {
        const result = test.result();
        const note = result.state === 'skipped' ? result.note : undefined;
        skipped.push({
          file,
          name: test.fullName,
          note: note ?? (enclosingFailure(test) ? NOT_RUN : undefined),
        });
      }
    }
    const summary = skipSummary(skipped);
    if (summary !== '') process.stdout.write(`\n${summary}`);
  }
}
