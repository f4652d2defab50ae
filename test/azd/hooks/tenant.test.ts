/**
 * The hooks work in the tenant of the azd environment's subscription, which Azure Resource Manager
 * names (`GET /subscriptions/{id}`), never in the signed-in account's default tenant or one a
 * stale AZURE_TENANT_ID names: the Bicep template trusts `tenant()`, the subscription's.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postprovision } from '../../../scripts/azd/hooks/postprovision-grant-apim-role';
import { predown } from '../../../scripts/azd/hooks/predown-remove-app-registration';
import { preprovision } from '../../../scripts/azd/hooks/preprovision-app-registration';
import { HookError } from '../../../scripts/azd/shared/errors';
import { FakeGraph } from './fake-graph';
import { APIM_PRINCIPAL_ID, hookRun, SUBSCRIPTION_ID, valuesAfter } from './support';

const OTHER_TENANT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const OTHER_TOKEN = 'fake-graph-token-of-the-other-tenant';

let graph: FakeGraph;

beforeEach(async () => {
  graph = await new FakeGraph().start();
  // The subscription belongs to another tenant than the account's default (graph.tenantId).
  graph.tokenTenants.set(OTHER_TOKEN, OTHER_TENANT);
  graph.arm.subscriptions.set(SUBSCRIPTION_ID, OTHER_TENANT);
});

afterEach(async () => {
  await graph.close();
});

describe('the tenant of the subscription', () => {
  it('preprovision creates the app registration in the subscription tenant, not the default one', async () => {
    const run = hookRun(graph);
    const registration = await preprovision(run.context);
    expect(run.tenants).toEqual([OTHER_TENANT]);
    expect(graph.appTenants.get(registration.API_APP_CLIENT_ID)).toBe(OTHER_TENANT);
    expect(run.warnings).toEqual([]);
  });

  it('wins over an AZURE_TENANT_ID of another tenant, with a warning naming both', async () => {
    const run = hookRun(graph, { AZURE_TENANT_ID: graph.tenantId });
    const registration = await preprovision(run.context);
    expect(graph.appTenants.get(registration.API_APP_CLIENT_ID)).toBe(OTHER_TENANT);
    expect(run.warnings).toEqual([
      `AZURE_TENANT_ID is ${graph.tenantId}, but the subscription ${SUBSCRIPTION_ID} belongs to ` +
        `the tenant ${OTHER_TENANT}: the hooks use ${OTHER_TENANT}, as the deployment does.`,
    ]);
  });

  it('postprovision and predown use the same tenant', async () => {
    graph.principals.add(APIM_PRINCIPAL_ID);
    const first = hookRun(graph);
    await preprovision(first.context);
    const second = hookRun(graph, { ...valuesAfter(first), APIM_PRINCIPAL_ID });
    await postprovision(second.context);
    const third = hookRun(graph, valuesAfter(first));
    await predown(third.context);
    expect([...second.tenants, ...third.tenants]).toEqual([OTHER_TENANT, OTHER_TENANT]);
    expect(graph.apps.size).toBe(0);
  });

  it('stops before any Graph call when ARM does not know the subscription, naming it', async () => {
    graph.arm.missing.add(SUBSCRIPTION_ID);
    const run = hookRun(graph);
    const error = await preprovision(run.context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HookError);
    expect(error).toMatchObject({ code: 'invalid_setting' });
    expect((error as Error).message).toContain(
      `Azure Resource Manager did not show the subscription ${SUBSCRIPTION_ID} (404 SubscriptionNotFound)`,
    );
    expect(graph.requests).toEqual([]);
  });
});
