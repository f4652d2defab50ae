import { afterEach, describe, expect, it } from 'vitest';
import { BUILT_IN_ERRORS_CHECK } from '../../../scripts/azd/smoke-test/builtin-errors';
import { runSmokeChecks } from '../../../scripts/azd/smoke-test/checks';
import {
  startFakeDeployment,
  type DeploymentBehaviour,
  type FakeDeployment,
} from './fake-deployment';

/** The check that settles whether API Management's built-in errors go through on-error. */

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
  return report.results.find((r) => r.name === BUILT_IN_ERRORS_CHECK)!;
}

describe(BUILT_IN_ERRORS_CHECK, () => {
  it("passes when no key, a wrong key and no such operation get the API's on-error problem", async () => {
    const check = await result({});
    expect(check.ok).toBe(true);
    expect(check.detail).toContain('401, 401, 404');
  });

  it('fails, saying so, when API Management answers with its own body (built-in errors skip on-error)', async () => {
    const check = await result({ builtInErrorsSkipOnError: true });
    expect(check.ok).toBe(false);
    expect(check.detail).toContain("no key: API Management's own body");
    expect(check.detail).toContain('no such operation');
  });

  it('fails when a call without a valid key gets through', async () => {
    const check = await result({ gatewayAcceptsAnyKey: true });
    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(/no key: status 200, expected 401/);
  });
});
