import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILT_IN_ERRORS_CHECK } from '../../../scripts/azd/smoke-test/builtin-errors';
import { runSmokeChecks } from '../../../scripts/azd/smoke-test/checks';
import { startFakeDeployment, type FakeDeployment } from './fake-deployment';

/** docs/smoke-test.md lists every check that can fail postdeploy, and only those. */

const PAGE = readFileSync(path.join(__dirname, '../../../docs/smoke-test.md'), 'utf8');

/** The check names in the first column of the page's table, and whether each row names a source. */
function documentedChecks(): { names: string[]; rowsWithoutSource: string[] } {
  const names: string[] = [];
  const rowsWithoutSource: string[] = [];
  for (const line of PAGE.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | check | expects | rests on |: cells[0] and cells[4] are the empty edges.
    if (cells.length !== 5 || !cells[1]!.startsWith('`')) continue;
    const rowNames = [...cells[1]!.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!);
    names.push(...rowNames);
    if (cells[3] === '') rowsWithoutSource.push(rowNames.join(', '));
  }
  return { names, rowsWithoutSource };
}

let deployment: FakeDeployment | undefined;
afterEach(async () => {
  await deployment?.close();
  deployment = undefined;
});

describe('docs/smoke-test.md', () => {
  it('lists exactly the checks that can fail postdeploy, each with what it rests on', async () => {
    deployment = await startFakeDeployment({});
    const report = await runSmokeChecks(
      {
        gatewayUrl: deployment.gatewayUrl,
        apiPath: 'api',
        functionUrl: deployment.functionUrl,
        subscriptionKey: deployment.subscriptionKey,
        expectedObjectId: deployment.apimObjectId,
        role: 'Api.Invoke',
      },
      { propagationTimeoutMs: 0 },
    );
    const { names, rowsWithoutSource } = documentedChecks();
    expect(names.toSorted()).toEqual(report.results.map((r) => r.name).toSorted());
    expect(rowsWithoutSource).toEqual([]);
  });

  it('lists the built-in errors observation as a note, not in the table of checks', () => {
    expect(documentedChecks().names).not.toContain(BUILT_IN_ERRORS_CHECK);
    const notes = PAGE.slice(PAGE.indexOf('**Notes, never failures.**'));
    expect(notes).toContain(`\`${BUILT_IN_ERRORS_CHECK}\``);
  });
});
