import type { TokenCredential } from '@azure/identity';
import {
  azdCliEnvironment,
  optionalValue,
  requireValues,
  type AzdEnvironment,
  type AzdValues,
} from '../shared/azd-env';
import { deployerCredential } from '../shared/credential';
import { subscriptionTenant } from '../shared/subscription-tenant';
import { parseServiceEndpoint } from '../shared/endpoint';
import { createGraphClient, DEFAULT_GRAPH_ENDPOINT, type GraphClient } from './graph';

/** Everything a hook touches outside its own code; tests replace each part. */
export interface HookContext {
  /** The values azd passed (the process environment when run by azd). */
  readonly values: AzdValues;
  readonly azdEnv: AzdEnvironment;
  /** The deployer's credential as azd chooses its tenant (used for Azure Resource Manager). */
  readonly credential: TokenCredential;
  /** The deployer's credential in one tenant (for Microsoft Graph); default `credential`. */
  readonly credentialForTenant?: (tenantId: string) => TokenCredential;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log: (line: string) => void;
  readonly warn: (line: string) => void;
}

export function defaultHookContext(values: AzdValues = process.env): HookContext {
  return {
    values,
    azdEnv: azdCliEnvironment(),
    credential: deployerCredential(),
    credentialForTenant: (tenantId) => deployerCredential(tenantId),
    log: (line) => console.log(line),
    warn: (line) => console.warn(`WARNING: ${line}`),
  };
}

/**
 * Microsoft Graph in the tenant of the azd environment's subscription, which Azure Resource
 * Manager names before the first Graph call: the tenant the Bicep template trusts (`tenant()`),
 * whatever the signed-in account's default tenant or a stale AZURE_TENANT_ID.
 */
export async function graphFor(context: HookContext, hook: string): Promise<GraphClient> {
  const { AZURE_SUBSCRIPTION_ID: subscriptionId } = requireValues(context.values, hook, [
    'AZURE_SUBSCRIPTION_ID',
  ]);
  // Checked before any token is asked for: a token is sent only to a valid endpoint.
  const graphEndpoint = optionalValue(context.values, 'GRAPH_ENDPOINT');
  parseServiceEndpoint('GRAPH_ENDPOINT', graphEndpoint ?? DEFAULT_GRAPH_ENDPOINT);
  const tenantId = await subscriptionTenant({
    credential: context.credential,
    subscriptionId,
    endpoint: optionalValue(context.values, 'ARM_ENDPOINT'),
    fetch: context.fetch,
    sleep: context.sleep,
  });
  const configured = optionalValue(context.values, 'AZURE_TENANT_ID');
  if (configured !== undefined && configured.toLowerCase() !== tenantId) {
    context.warn(
      `AZURE_TENANT_ID is ${configured}, but the subscription ${subscriptionId} belongs to the ` +
        `tenant ${tenantId}: the hooks use ${tenantId}, as the deployment does.`,
    );
  }
  return createGraphClient({
    credential: context.credentialForTenant?.(tenantId) ?? context.credential,
    endpoint: graphEndpoint,
    fetch: context.fetch,
    sleep: context.sleep,
  });
}

/** Stores a value with `azd env set` unless azd already holds exactly that value. */
export async function storeValue(
  context: HookContext,
  key: string,
  value: string,
): Promise<boolean> {
  if (context.values[key] === value) {
    return false;
  }
  await context.azdEnv.set(key, value);
  return true;
}
