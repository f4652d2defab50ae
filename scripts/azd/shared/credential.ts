import { AzureDeveloperCliCredential, type TokenCredential } from '@azure/identity';
import { optionalValue, type AzdValues } from './azd-env';

/** The deployer's credential: the user (or service principal) signed in with `azd auth login`. */
export function deployerCredential(values: AzdValues): TokenCredential {
  const tenantId = optionalValue(values, 'AZURE_TENANT_ID');
  return new AzureDeveloperCliCredential({ tenantId, processTimeoutInMs: 60_000 });
}
