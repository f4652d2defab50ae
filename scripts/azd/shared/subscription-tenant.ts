import type { TokenCredential } from '@azure/identity';
import { isGuid } from './azd-env';
import { armClient, ARM_SCOPE, DEFAULT_ARM_ENDPOINT } from './arm';
import { HookError } from './errors';
import { RestError } from './rest';

export { ARM_SCOPE, DEFAULT_ARM_ENDPOINT };
export const SUBSCRIPTIONS_API_VERSION = '2022-12-01';

export interface SubscriptionTenantOptions {
  readonly credential: TokenCredential;
  readonly subscriptionId: string;
  /** `ARM_ENDPOINT`; default the public cloud. */
  readonly endpoint?: string;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The tenant a subscription belongs to, as Azure Resource Manager says it
 * (`GET /subscriptions/{id}` returns `tenantId`). azd never writes AZURE_TENANT_ID itself, and the
 * Bicep template uses this tenant (`tenant()`): the app registration must be created there.
 */
export async function subscriptionTenant(options: SubscriptionTenantOptions): Promise<string> {
  const rest = armClient(options);
  const { subscriptionId } = options;
  let body: unknown;
  try {
    ({ body } = await rest.request({
      method: 'GET',
      path: `/subscriptions/${encodeURIComponent(subscriptionId)}?api-version=${SUBSCRIPTIONS_API_VERSION}`,
      expect: [200],
    }));
  } catch (error: unknown) {
    if (error instanceof RestError && [401, 403, 404].includes(error.status ?? 0)) {
      throw new HookError(
        error.status === 404 ? 'invalid_setting' : 'permission_denied',
        `Azure Resource Manager did not show the subscription ${subscriptionId} ` +
          `(${error.status}${error.serviceCode ? ` ${error.serviceCode}` : ''}) to the account ` +
          'signed in to azd, so its tenant is unknown. Check AZURE_SUBSCRIPTION_ID, or sign in to ' +
          "the subscription's tenant: `azd auth login --tenant-id <tenant id>`.",
        { cause: error },
      );
    }
    throw error;
  }
  const tenantId =
    body !== null && typeof body === 'object'
      ? (body as { tenantId?: unknown }).tenantId
      : undefined;
  if (typeof tenantId !== 'string' || !isGuid(tenantId)) {
    throw new HookError(
      'invalid_response',
      `Azure Resource Manager returned the subscription ${subscriptionId} without a tenant id.`,
    );
  }
  return tenantId.toLowerCase();
}
