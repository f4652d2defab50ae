import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { smokeTestFromEnvironment } from '../../../scripts/azd/smoke-test/from-environment';
import { getSubscriptionKey } from '../../../scripts/azd/smoke-test/subscription-key';
import { fakeCredential } from '../hooks/support';
import { ARM_TOKEN, RESOURCE_ID, startFakeArm } from './fake-arm';
import { startFakeDeployment, type FakeDeployment } from './fake-deployment';

let arm: Awaited<ReturnType<typeof startFakeArm>> | undefined;
let deployment: FakeDeployment | undefined;

beforeEach(() => {
  arm = undefined;
  deployment = undefined;
});

afterEach(async () => {
  await arm?.close();
  await deployment?.close();
});

describe('getSubscriptionKey', () => {
  it("reads the primary key with listSecrets and the deployer's ARM token", async () => {
    arm = await startFakeArm('the-primary-key');
    const credential = fakeCredential(ARM_TOKEN);
    const key = await getSubscriptionKey({
      resourceId: RESOURCE_ID,
      credential,
      armEndpoint: arm.url,
    });
    expect(key).toBe('the-primary-key');
    expect(arm.requests).toEqual([
      {
        method: 'POST',
        url: `${RESOURCE_ID}/listSecrets?api-version=2024-05-01`,
        authorization: `Bearer ${ARM_TOKEN}`,
      },
    ]);
    expect(credential.scopes).toEqual(['https://management.azure.com/.default']);
  });

  it('names the action and roles the user needs when ARM refuses (403)', async () => {
    arm = await startFakeArm('k', 403);
    const error = await getSubscriptionKey({
      resourceId: RESOURCE_ID,
      credential: fakeCredential(ARM_TOKEN),
      armEndpoint: arm.url,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'permission_denied' });
    expect((error as Error).message).toContain(
      'Microsoft.ApiManagement/service/subscriptions/listSecrets/action',
    );
    expect((error as Error).message).toContain('AuthorizationFailed');
    expect((error as Error).message).not.toContain(ARM_TOKEN);
  });

  it.each([
    ['/subscriptions/x/resourceGroups/rg/providers/Microsoft.Web/sites/f', 'another resource type'],
    [`${RESOURCE_ID}/../../../../providers/Microsoft.Storage`, 'a path that climbs out'],
    [`https://example.com${RESOURCE_ID}`, 'an absolute URL'],
    [RESOURCE_ID.replace(/smoke$/, '..'), 'a dot-dot subscription name'],
  ])(
    'refuses APIM_SUBSCRIPTION_RESOURCE_ID %s (%s) before asking for a token',
    async (resourceId) => {
      const credential = fakeCredential(ARM_TOKEN);
      const error = await getSubscriptionKey({ resourceId, credential }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'invalid_setting' });
      expect((error as Error).message).toContain('APIM_SUBSCRIPTION_RESOURCE_ID');
      expect(credential.scopes).toEqual([]);
    },
  );

  it('refuses an ARM_ENDPOINT that is plain http off the loopback interface', async () => {
    const error = await getSubscriptionKey({
      resourceId: RESOURCE_ID,
      credential: fakeCredential(ARM_TOKEN),
      armEndpoint: 'http://management.example.com',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_setting' });
    expect((error as Error).message).toContain('ARM_ENDPOINT');
  });
});

describe('smokeTestFromEnvironment (what postdeploy and npm run smoke-test run)', () => {
  it('takes its inputs from the azd values, gets the key from ARM, passes, and never prints the key', async () => {
    deployment = await startFakeDeployment();
    arm = await startFakeArm(deployment.subscriptionKey);
    const out: string[] = [];
    const code = await smokeTestFromEnvironment(
      {
        APIM_GATEWAY_URL: deployment.gatewayUrl,
        APIM_API_PATH: 'api',
        FUNCTION_APP_URL: deployment.functionUrl,
        APIM_SUBSCRIPTION_RESOURCE_ID: RESOURCE_ID,
        APIM_PRINCIPAL_ID: deployment.apimObjectId,
        API_APP_ROLE: 'Api.Invoke',
        ARM_ENDPOINT: arm.url,
      },
      { credential: fakeCredential(ARM_TOKEN), out: (line) => out.push(line) },
    );
    expect(code).toBe(0);
    expect(out.filter((l) => l.startsWith('PASS '))).toHaveLength(8);
    expect(out.join('\n')).not.toContain(deployment.subscriptionKey);
    expect(out.join('\n')).not.toContain(ARM_TOKEN);
  });

  it('exits 1 when a check fails', async () => {
    deployment = await startFakeDeployment({ functionOpen: true });
    arm = await startFakeArm(deployment.subscriptionKey);
    const out: string[] = [];
    const code = await smokeTestFromEnvironment(
      {
        APIM_GATEWAY_URL: deployment.gatewayUrl,
        APIM_API_PATH: 'api',
        FUNCTION_APP_URL: deployment.functionUrl,
        APIM_SUBSCRIPTION_RESOURCE_ID: RESOURCE_ID,
        APIM_PRINCIPAL_ID: deployment.apimObjectId,
        API_APP_ROLE: 'Api.Invoke',
        ARM_ENDPOINT: arm.url,
      },
      { credential: fakeCredential(ARM_TOKEN), out: (line) => out.push(line) },
    );
    expect(code).toBe(1);
    expect(out).toContainEqual(expect.stringMatching(/^FAIL function-rejects-no-token: /));
  });

  it('names every missing value before calling anything', async () => {
    const credential = fakeCredential(ARM_TOKEN);
    const error = await smokeTestFromEnvironment(
      {
        APIM_GATEWAY_URL: 'https://apim.example.net',
        APIM_API_PATH: 'api',
        API_APP_ROLE: 'Api.Invoke',
      },
      { credential, out: () => undefined },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'missing_setting' });
    expect((error as Error).message).toContain(
      'FUNCTION_APP_URL, APIM_SUBSCRIPTION_RESOURCE_ID, APIM_PRINCIPAL_ID',
    );
    expect(credential.scopes).toEqual([]);
  });

  it('refuses a plain-http gateway off the loopback interface, since the key would travel in clear', async () => {
    const error = await smokeTestFromEnvironment(
      {
        APIM_GATEWAY_URL: 'http://apim.example.net',
        APIM_API_PATH: 'api',
        FUNCTION_APP_URL: 'https://func.example.net',
        APIM_SUBSCRIPTION_RESOURCE_ID: RESOURCE_ID,
        APIM_PRINCIPAL_ID: 'b1e2c3d4-1111-4a2b-8c3d-4e5f60718293',
        API_APP_ROLE: 'Api.Invoke',
      },
      { credential: fakeCredential(ARM_TOKEN), out: () => undefined },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_setting' });
    expect((error as Error).message).toContain('APIM_GATEWAY_URL');
  });
});
