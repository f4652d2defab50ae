import { afterEach, describe, expect, it } from 'vitest';
import { BUILT_IN_ERRORS_CHECK } from '../../../scripts/azd/smoke-test/builtin-errors';
import { runSmokeChecks } from '../../../scripts/azd/smoke-test/checks';
import {
  startFakeDeployment,
  type DeploymentBehaviour,
  type FakeDeployment,
} from './fake-deployment';

/**
 * The observation of whether API Management's built-in errors go through on-error: a NOTE, since
 * the documentation does not settle it, so it never fails postdeploy.
 */

let deployment: FakeDeployment | undefined;
afterEach(async () => {
  await deployment?.close();
  deployment = undefined;
});

async function result(behaviour: DeploymentBehaviour) {
  deployment = await startFakeDeployment(behaviour);
  const report = await runSmokeChecks(
    {
      gatewayUrl: deployment.gatewayUrl,
      apiPath: 'api',
      functionUrl: deployment.functionUrl,
      subscriptionKey: deployment.subscriptionKey,
      expectedObjectId: deployment.apimObjectId,
      role: 'Api.Invoke',
    },
    { propagationTimeoutMs: 0, sleep: () => Promise.resolve() },
  );
  // An observation, never a check: it must not appear among the results nor fail the report.
  expect(report.results.map((r) => r.name)).not.toContain(BUILT_IN_ERRORS_CHECK);
  return { report, note: report.findings.find((f) => f.startsWith(`${BUILT_IN_ERRORS_CHECK}:`))! };
}

describe(BUILT_IN_ERRORS_CHECK, () => {
  it("notes that no key, a wrong key and no such operation get the API's on-error problem", async () => {
    const { report, note } = await result({});
    expect(report.ok).toBe(true);
    expect(note).toContain('401, 401, 404');
    expect(note).toContain('as the local gateway assumes');
  });

  it('notes, without failing the smoke test, that API Management answers with its own body', async () => {
    const { report, note } = await result({ builtInErrorsSkipOnError: true });
    expect(report.ok).toBe(true);
    expect(report.results.filter((r) => !r.ok)).toEqual([]);
    expect(note).toContain("no key: API Management's own body");
    expect(note).toContain('no such operation');
    expect(note).toContain('Not a failure');
  });

  it('notes a call without a valid key that gets through (the documented checks fail on it)', async () => {
    const { report, note } = await result({ gatewayAcceptsAnyKey: true });
    expect(note).toMatch(/no key: status 200, expected 401/);
    expect(report.results.filter((r) => !r.ok).map((r) => r.name)).toEqual([
      'apim-rejects-missing-key',
      'apim-rejects-wrong-key',
    ]);
  });
});
