import type { TokenCredential } from '@azure/identity';
import { parseServiceEndpoint, scopeForEndpoint } from './endpoint';
import { RestClient } from './rest';

export const ARM_SCOPE = 'https://management.azure.com/.default';
export const DEFAULT_ARM_ENDPOINT = 'https://management.azure.com';

/**
 * A REST client for Azure Resource Manager at `ARM_ENDPOINT` (default the public cloud; blank
 * counts as unset), with a token for that endpoint's own scope.
 */
export function armClient(options: {
  readonly credential: TokenCredential;
  readonly endpoint?: string;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}): RestClient {
  const endpoint = parseServiceEndpoint(
    'ARM_ENDPOINT',
    options.endpoint === undefined || options.endpoint === ''
      ? DEFAULT_ARM_ENDPOINT
      : options.endpoint,
  );
  return new RestClient({
    endpoint,
    scope: scopeForEndpoint(endpoint, ARM_SCOPE),
    credential: options.credential,
    serviceName: 'Azure Resource Manager',
    fetch: options.fetch,
    sleep: options.sleep,
  });
}
