import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipSummary } from './skip-summary';

const ROOT = path.resolve(__dirname, '../..');
const VITEST = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const CONFIG = path.join(__dirname, 'fixtures', 'skip-summary', 'vitest.config.mts');

/** Runs the fixture `file` in a Vitest of its own, as `npm test` would, and returns its output. */
function runFixture(file: string, env: Record<string, string>) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(VITEST|CI$|NODE_OPTIONS$)/.test(name)),
  );
  const result = spawnSync(process.execPath, [VITEST, 'run', '--config', CONFIG, file], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...inherited, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
    timeout: 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('skipSummary', () => {
  it('groups the skipped tests by reason, and names the ones skipped where declared', () => {
    expect(
      skipSummary([
        { file: 'test/a.test.ts', name: 'one', note: 'no tool\nget it here' },
        { file: 'test/b.test.ts', name: 'two', note: 'no tool\nget it here' },
        { file: 'test/c.test.ts', name: 'three (skipped on Windows)', note: undefined },
      ]),
    ).toBe(
      [
        'Skipped tests (3), and why:',
        '',
        '  no tool',
        '  get it here',
        '    - test/a.test.ts > one',
        '    - test/b.test.ts > two',
        '',
        '  skipped where declared (the test name says why)',
        '    - test/c.test.ts > three (skipped on Windows)',
        '',
      ].join('\n'),
    );
  });

  it('prints nothing when nothing was skipped', () => {
    expect(skipSummary([])).toBe('');
  });
});

describe('a run with skipped tests', { timeout: 120_000 }, () => {
  it('ends with each skipped test and its reason, after the totals', () => {
    const { status, output } = runFixture('skips.fixture.ts', {});
    expect(status, output).toBe(0);
    const totals = output.indexOf('Tests  1 passed | 2 skipped (3)');
    const summary = output.indexOf('Skipped tests (2), and why:');
    expect(totals, output).toBeGreaterThan(0);
    expect(summary, output).toBeGreaterThan(totals);
    expect(output.slice(summary)).toContain(
      [
        '  the widget CLI is not installed: get it from https://example.invalid/widget',
        '    - test/support/fixtures/skip-summary/skips.fixture.ts > needs a tool that is not there',
      ].join('\n'),
    );
    expect(output.slice(summary)).toContain(
      '    - test/support/fixtures/skip-summary/skips.fixture.ts > is declared as skipped (skipped on purpose in this fixture)',
    );
  });
});

describe('the infra tests without a Bicep CLI', { timeout: 120_000 }, () => {
  const noBicep = { AZD_BICEP_TOOL_PATH: path.join(ROOT, 'no-such-dir', 'bicep') };

  it('are skipped, and the summary says why and how to get the CLI', () => {
    const { status, output } = runFixture('infra.fixture.ts', noBicep);
    expect(status, output).toBe(0);
    const summary = output.slice(output.indexOf('Skipped tests (1), and why:'));
    expect(summary).toMatch(/^Skipped tests \(1\), and why:/);
    expect(summary).toContain('Bicep CLI not available, so the infra tests are skipped');
    expect(summary).toContain(
      'https://learn.microsoft.com/azure/azure-resource-manager/bicep/install',
    );
    expect(summary).toContain('skip-summary/infra.fixture.ts > compiles infra/main.bicep');
  });

  it('fail under CI=true, naming the missing CLI', () => {
    const { status, output } = runFixture('infra.fixture.ts', { ...noBicep, CI: 'true' });
    expect(status, output).toBe(1);
    expect(output).toContain('CI=true and no Bicep CLI is available');
    expect(output).toContain('Test Files  1 failed (1)');
    expect(output.slice(output.indexOf('Skipped tests (1), and why:'))).toContain(
      'not run: a hook of its file or suite failed (see the errors above)',
    );
  });
});
