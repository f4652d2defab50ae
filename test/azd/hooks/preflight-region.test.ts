import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runHook } from '../../../scripts/azd/hooks/main';
import { checkRegion, regionKey } from '../../../scripts/azd/hooks/preflight-region';
import { FakeGraph } from './fake-graph';
import { hookRun } from './support';

/**
 * preprovision refuses a region that cannot host the app before anything is created, from Azure
 * Resource Manager's live lists (the fake ARM serves them, in two pages each).
 */

let graph: FakeGraph;

beforeEach(async () => {
  graph = await new FakeGraph().start();
});

afterEach(async () => {
  await graph.close();
});

async function preprovisionIn(location: string | undefined) {
  const run = hookRun(graph, { AZURE_LOCATION: location });
  const errors: string[] = [];
  const code = await runHook(
    'preprovision',
    () => run.context,
    (line) => errors.push(line),
  );
  return { code, errors: errors.join('\n'), run };
}

describe('the region check of preprovision', () => {
  it('lets a region that hosts both Flex Consumption and API Management Consumption through', async () => {
    const { code, run } = await preprovisionIn('westeurope');
    expect(code).toBe(0);
    expect(run.logs).toContain(
      "Region westeurope: Flex Consumption and API Management's Consumption tier offered.",
    );
    expect(run.warnings).toEqual([]);
    expect(graph.apps.size).toBe(1);
  });

  it('refuses a region without Flex Consumption before any Graph call, naming the regions that work', async () => {
    const { code, errors } = await preprovisionIn('brazilsouth');
    expect(code).toBe(1);
    expect(errors).toContain(
      'AZURE_LOCATION is brazilsouth, where Flex Consumption is not offered to subscription',
    );
    expect(errors).toContain('eastus, northeurope, swedencentral, westeurope.');
    expect(errors).toContain('azd env set AZURE_LOCATION <region>');
    expect(graph.requests).toEqual([]);
    expect(graph.apps.size).toBe(0);
  });

  it("refuses a region without API Management's Consumption tier", async () => {
    const { code, errors } = await preprovisionIn('australiaeast');
    expect(code).toBe(1);
    expect(errors).toContain(
      "where API Management's Consumption tier is not offered to subscription",
    );
    expect(graph.requests).toEqual([]);
  });

  it('refuses a region where the subscription is restricted from the Consumption tier', async () => {
    graph.arm.apimSkus = [
      {
        resourceType: 'service',
        name: 'Consumption',
        locations: ['East US', 'West Europe'],
        restrictions: [
          { type: 'Location', values: ['westeurope'], reasonCode: 'NotAvailableForSubscription' },
        ],
      },
    ];
    const { code, errors } = await preprovisionIn('West Europe');
    expect(code).toBe(1);
    expect(errors).toContain('Regions that host');
    expect(errors).toMatch(/: eastus\. Nothing was created/);
  });

  it('checks the Standard v2 tier instead when NETWORK_ISOLATION is true', async () => {
    graph.arm.apimSkus = [
      { resourceType: 'service', name: 'Consumption', locations: ['East US'] },
      { resourceType: 'service', name: 'StandardV2', locations: ['West Europe'] },
    ];
    const isolated = hookRun(graph, { AZURE_LOCATION: 'westeurope', NETWORK_ISOLATION: 'true' });
    await checkRegion(isolated.context);
    expect(isolated.logs.join('\n')).toContain("API Management's StandardV2 tier offered");
    const refused = hookRun(graph, { AZURE_LOCATION: 'eastus', NETWORK_ISOLATION: 'True' });
    await expect(checkRegion(refused.context)).rejects.toThrow(
      "where API Management's StandardV2 tier is not offered",
    );
  });

  it('names both when neither is offered', async () => {
    const { errors } = await preprovisionIn('japaneast');
    expect(errors).toContain(
      "where Flex Consumption and API Management's Consumption tier are not offered",
    );
  });

  it('warns and goes on when a list cannot be read, or lists no Consumption tier', async () => {
    graph.arm.failLists.set('Microsoft.Web/geoRegions', 403);
    graph.arm.apimSkus = [{ resourceType: 'service', name: 'Developer', locations: ['East US'] }];
    const { code, run } = await preprovisionIn('brazilsouth');
    expect(code).toBe(0);
    expect(run.warnings).toHaveLength(2);
    expect(run.warnings[0]).toContain('Could not list the regions of Flex Consumption');
    expect(run.warnings[1]).toContain("lists no region for API Management's Consumption tier");
  });

  it('skips the check, saying so, when azd has no AZURE_LOCATION yet', async () => {
    const run = hookRun(graph);
    await checkRegion(run.context);
    expect(run.logs.join('\n')).toContain('AZURE_LOCATION is not set yet');
    expect(graph.arm.requests).toEqual([]);
  });

  it('reads both pages of each list', async () => {
    const run = hookRun(graph, { AZURE_LOCATION: 'westeurope' });
    await checkRegion(run.context);
    expect(graph.arm.requests.filter((r) => r.includes('page=2'))).toHaveLength(2);
  });

  it('treats display names and names of a region alike', () => {
    expect(regionKey('West Europe')).toBe(regionKey('westeurope'));
    expect(regionKey('East US 2')).toBe('eastus2');
  });
});
