import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeAzd, type FakeAzd } from '../../support/fake-azd';
import { runNode, script } from '../../support/node-process';
import { ARM_TOKEN, RESOURCE_ID, startFakeArm } from './fake-arm';
import { startFakeDeployment, type FakeDeployment } from './fake-deployment';

let azd: FakeAzd;
let arm: Awaited<ReturnType<typeof startFakeArm>> | undefined;
let deployment: FakeDeployment | undefined;

beforeEach(() => {
  azd = createFakeAzd();
});

afterEach(async () => {
  azd.remove();
  await arm?.close();
  await deployment?.close();
  arm = undefined;
  deployment = undefined;
});

describe.skipIf(process.platform === 'win32')(
  'npm run smoke-test run by hand (the fake azd CLI is a POSIX script)',
  () => {
    it('reads the current azd environment, gets the key, passes, and never prints the key', async () => {
      deployment = await startFakeDeployment();
      arm = await startFakeArm(deployment.subscriptionKey);
      const values = {
        APIM_GATEWAY_URL: deployment.gatewayUrl,
        APIM_API_PATH: 'api',
        FUNCTION_APP_URL: deployment.functionUrl,
        APIM_SUBSCRIPTION_RESOURCE_ID: RESOURCE_ID,
        APIM_PRINCIPAL_ID: deployment.apimObjectId,
        API_APP_ROLE: 'Api.Invoke',
      };
      const run = await runNode(
        script('azd/smoke-test/main'),
        [],
        { ...azd.env(ARM_TOKEN, values), ARM_ENDPOINT: arm.url },
        { timeoutMs: 60_000 },
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout.split('\n').filter((l) => l.startsWith('PASS '))).toHaveLength(8);
      expect(run.stdout).toContain('Smoke test passed: 8 checks.');
      expect(run.stdout + run.stderr).not.toContain(deployment.subscriptionKey);
      expect(run.stdout + run.stderr).not.toContain(ARM_TOKEN);
      expect(azd.calls()[0]).toEqual(['env', 'get-values', '--output', 'json']);
    }, 60_000);

    it('exits 1 with FAIL lines when the deployment is wrong', async () => {
      deployment = await startFakeDeployment({ gatewayAcceptsAnyKey: true });
      arm = await startFakeArm(deployment.subscriptionKey);
      const run = await runNode(
        script('azd/smoke-test/main'),
        [],
        {
          ...azd.env(ARM_TOKEN),
          ARM_ENDPOINT: arm.url,
          APIM_GATEWAY_URL: deployment.gatewayUrl,
          APIM_API_PATH: 'api',
          FUNCTION_APP_URL: deployment.functionUrl,
          APIM_SUBSCRIPTION_RESOURCE_ID: RESOURCE_ID,
          APIM_PRINCIPAL_ID: deployment.apimObjectId,
          API_APP_ROLE: 'Api.Invoke',
        },
        { timeoutMs: 60_000 },
      );
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^FAIL apim-rejects-wrong-key: /m);
      expect(run.stdout).toContain('Smoke test FAILED: 2 of 8 checks.');
    }, 60_000);

    it('without an azd environment, names the values it needs and exits 1', async () => {
      const run = await runNode(script('azd/smoke-test/main'), [], azd.env(ARM_TOKEN), {
        timeoutMs: 30_000,
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        'smoke-test: The smoke test needs APIM_GATEWAY_URL, APIM_API_PATH',
      );
      expect(run.stderr).toContain('azd up');
    }, 60_000);
  },
);
