/**
 * Refuses, in `preprovision` and before anything is created, a region that cannot host the app:
 * Flex Consumption runs in some regions only, and API Management's Consumption tier (Standard v2
 * with NETWORK_ISOLATION=true) is not offered everywhere. Without this check a wrong AZURE_LOCATION fails halfway through the
 * deployment, after storage and API Management exist (and a deleted API Management holds its
 * name for 48 hours unless purged).
 *
 * Both lists come live from Azure Resource Manager, for the deployer's subscription:
 * - Flex Consumption: `GET /subscriptions/{id}/providers/Microsoft.Web/geoRegions?sku=FlexConsumption`
 *   (api-version 2023-01-01), the call the Azure Functions extension for VS Code makes to offer
 *   Flex Consumption regions (microsoft/vscode-azurefunctions,
 *   `src/commands/createFunctionApp/FunctionAppHostingPlanStep.ts`, `getFlexLocations`), and what
 *   `az functionapp list-flexconsumption-locations` lists.
 * - API Management: `GET /subscriptions/{id}/providers/Microsoft.ApiManagement/skus`
 *   (api-version 2024-05-01, operation `ApiManagementSkus_List` in Azure/azure-rest-api-specs
 *   `specification/apimanagement`): each SKU of `service` with its `locations` and the
 *   `restrictions` (type `Location`) that withhold it from this subscription.
 *
 * What the check cannot read (a failed call, no Consumption SKU in the list) is a warning, never
 * a refusal: the deployment then says for itself whether the region works.
 */
import { optionalValue, requireValues } from '../shared/azd-env';
import { armClient } from '../shared/arm';
import { ensureError, HookError } from '../shared/errors';
import type { RestClient } from '../shared/rest';
import type { HookContext } from './context';

export const GEO_REGIONS_API_VERSION = '2023-01-01';
export const APIM_SKUS_API_VERSION = '2024-05-01';
/** The API Management tier infra/modules/apim.bicep deploys by default. */
export const APIM_SKU = 'Consumption';
/** The tier it deploys with NETWORK_ISOLATION=true (outbound virtual network integration). */
export const APIM_ISOLATED_SKU = 'StandardV2';

/** The API Management tier the deployment will ask for, from the azd value NETWORK_ISOLATION. */
export function apimSkuFor(values: Record<string, string | undefined>): string {
  return optionalValue(values, 'NETWORK_ISOLATION')?.toLowerCase() === 'true'
    ? APIM_ISOLATED_SKU
    : APIM_SKU;
}

/** `East US`, `eastus` and `EastUS` are one region: ARM mixes display names and names. */
export function regionKey(name: string): string {
  return name.toLowerCase().replace(/[\s_-]/g, '');
}

interface ArmList<T> {
  value?: T[];
  nextLink?: string;
}

async function listAll<T>(arm: RestClient, path: string): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined = path;
  // A bound on pages, so that a service that links to itself cannot hold the hook forever.
  for (let page = 0; next !== undefined && page < 100; page++) {
    const { body } = await arm.request({ method: 'GET', path: next, expect: [200] });
    const list = (body ?? {}) as ArmList<T>;
    items.push(...(Array.isArray(list.value) ? list.value : []));
    next = typeof list.nextLink === 'string' && list.nextLink !== '' ? list.nextLink : undefined;
  }
  return items;
}

/** Azure/azure-rest-api-specs `Microsoft.Web` `GeoRegion`: `name`, `properties.displayName`. */
interface GeoRegion {
  name?: unknown;
  properties?: { displayName?: unknown };
}

/** The regions (by `regionKey`) where Flex Consumption runs for the subscription. */
export async function flexConsumptionRegions(
  arm: RestClient,
  subscriptionId: string,
): Promise<Map<string, string>> {
  const regions = await listAll<GeoRegion>(
    arm,
    `/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.Web/geoRegions` +
      `?api-version=${GEO_REGIONS_API_VERSION}&sku=FlexConsumption`,
  );
  const names = new Map<string, string>();
  for (const region of regions) {
    const name = typeof region.name === 'string' ? region.name : region.properties?.displayName;
    if (typeof name === 'string' && name !== '') names.set(regionKey(name), name);
  }
  return names;
}

interface ApimSku {
  resourceType?: unknown;
  name?: unknown;
  locations?: unknown;
  restrictions?: { type?: unknown; values?: unknown; reasonCode?: unknown }[];
}

/**
 * The regions (by `regionKey`) where the subscription may create API Management's `sku`, or
 * undefined when Azure Resource Manager does not list that SKU at all (then nothing is known).
 */
export async function apimSkuRegions(
  arm: RestClient,
  subscriptionId: string,
  sku: string = APIM_SKU,
): Promise<Map<string, string> | undefined> {
  const skus = (
    await listAll<ApimSku>(
      arm,
      `/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.ApiManagement/skus` +
        `?api-version=${APIM_SKUS_API_VERSION}`,
    )
  ).filter(
    (s) =>
      typeof s.name === 'string' &&
      s.name.toLowerCase() === sku.toLowerCase() &&
      (s.resourceType === undefined ||
        (typeof s.resourceType === 'string' && s.resourceType.toLowerCase() === 'service')),
  );
  if (skus.length === 0) return undefined;
  const names = new Map<string, string>();
  const restricted = new Set<string>();
  for (const entry of skus) {
    for (const location of Array.isArray(entry.locations) ? entry.locations : []) {
      if (typeof location === 'string' && location !== '') names.set(regionKey(location), location);
    }
    for (const restriction of entry.restrictions ?? []) {
      if (restriction.type !== 'Location' || !Array.isArray(restriction.values)) continue;
      for (const value of restriction.values) {
        if (typeof value === 'string') restricted.add(regionKey(value));
      }
    }
  }
  for (const key of restricted) names.delete(key);
  return names;
}

function sorted(regions: Map<string, string>): string[] {
  return [...regions.keys()].sort();
}

/**
 * Refuses AZURE_LOCATION when Azure Resource Manager says Flex Consumption or API Management's
 * Consumption tier is not offered there to this subscription, naming the regions that work.
 */
export async function checkRegion(context: HookContext): Promise<void> {
  const { AZURE_SUBSCRIPTION_ID: subscriptionId } = requireValues(context.values, 'preprovision', [
    'AZURE_SUBSCRIPTION_ID',
  ]);
  const location = optionalValue(context.values, 'AZURE_LOCATION');
  if (location === undefined) {
    context.log('AZURE_LOCATION is not set yet: the region is not checked before provisioning.');
    return;
  }
  const arm = armClient({
    credential: context.credential,
    endpoint: optionalValue(context.values, 'ARM_ENDPOINT'),
    fetch: context.fetch,
    sleep: context.sleep,
  });
  const key = regionKey(location);
  const lists: { what: string; regions: Map<string, string> }[] = [];
  const read = async (
    what: string,
    list: () => Promise<Map<string, string> | undefined>,
  ): Promise<void> => {
    try {
      const regions = await list();
      if (regions === undefined || regions.size === 0) {
        context.warn(
          `Azure Resource Manager lists no region for ${what} in subscription ${subscriptionId}; ` +
            `${location} is not checked for it before provisioning.`,
        );
        return;
      }
      lists.push({ what, regions });
    } catch (error: unknown) {
      context.warn(
        `Could not list the regions of ${what} (${ensureError(error).message}); ${location} is ` +
          'not checked for it before provisioning.',
      );
    }
  };
  await read('Flex Consumption', () => flexConsumptionRegions(arm, subscriptionId));
  const sku = apimSkuFor(context.values);
  await read(`API Management's ${sku} tier`, () => apimSkuRegions(arm, subscriptionId, sku));

  const missing = lists.filter((l) => !l.regions.has(key)).map((l) => l.what);
  if (missing.length === 0) {
    if (lists.length > 0) {
      context.log(`Region ${location}: ${lists.map((l) => l.what).join(' and ')} offered.`);
    }
    return;
  }
  const both = lists
    .map((l) => new Set(l.regions.keys()))
    .reduce((a, b) => new Set([...a].filter((r) => b.has(r))));
  const working = sorted(new Map([...both].map((r) => [r, r])));
  throw new HookError(
    'invalid_setting',
    `AZURE_LOCATION is ${location}, where ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} ` +
      `not offered to subscription ${subscriptionId} (Azure Resource Manager's list), so the ` +
      `deployment would fail halfway. Regions that host ${lists.map((l) => l.what).join(' and ')}: ` +
      `${working.length > 0 ? working.join(', ') : '(none)'}. Nothing was created: choose one with ` +
      '`azd env set AZURE_LOCATION <region>` and run `azd up` again.',
  );
}
