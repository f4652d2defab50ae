/** The API Management subscription key the smoke test calls with, read from Azure Resource Manager. */
import type { TokenCredential } from '@azure/identity';
import { armClient, ARM_SCOPE, DEFAULT_ARM_ENDPOINT } from '../shared/arm';
import { HookError } from '../shared/errors';
import { RestError } from '../shared/rest';

export { ARM_SCOPE, DEFAULT_ARM_ENDPOINT };
const APIM_SUBSCRIPTION_ID =
  /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[\w.()-]+\/providers\/Microsoft\.ApiManagement\/service\/[\w-]+\/subscriptions\/[\w.-]+$/i;

export interface SubscriptionKeyOptions {
  /** `APIM_SUBSCRIPTION_RESOURCE_ID`: the API Management subscription's ARM resource id. */
  readonly resourceId: string;
  readonly credential: TokenCredential;
  /** `ARM_ENDPOINT`; default the public cloud. */
  readonly armEndpoint?: string;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Reads the subscription's primary key with the deployer's credential
 * (`POST {resourceId}/listSecrets`). The key is returned to the caller and nowhere else.
 */
export async function getSubscriptionKey(options: SubscriptionKeyOptions): Promise<string> {
  const dotSegment = options.resourceId.split('/').some((s) => s === '.' || s === '..');
  if (!APIM_SUBSCRIPTION_ID.test(options.resourceId) || dotSegment) {
    throw new HookError(
      'invalid_setting',
      'APIM_SUBSCRIPTION_RESOURCE_ID must be the resource id of an API Management subscription ' +
        '(/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service/{name}/subscriptions/{sid}).',
    );
  }
  const arm = armClient({ ...options, endpoint: options.armEndpoint });
  let body: unknown;
  try {
    ({ body } = await arm.request({
      method: 'POST',
      path: `${options.resourceId}/listSecrets?api-version=2024-05-01`,
      expect: [200],
    }));
  } catch (error: unknown) {
    if (error instanceof RestError && error.status === 403) {
      throw new HookError(
        'permission_denied',
        `Azure Resource Manager refused to read the API Management subscription key (403${
          error.serviceCode ? ` ${error.serviceCode}` : ''
        }). The user signed in to azd needs the action ` +
          'Microsoft.ApiManagement/service/subscriptions/listSecrets/action on it, for example through ' +
          'the Contributor or API Management Service Contributor role on the resource group.',
        { cause: error },
      );
    }
    throw error;
  }
  const key = (body as { primaryKey?: unknown } | undefined)?.primaryKey;
  if (typeof key !== 'string' || key === '') {
    throw new HookError(
      'invalid_response',
      'Azure Resource Manager returned no primaryKey for the subscription.',
    );
  }
  return key;
}
