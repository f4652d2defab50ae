import { AzureDeveloperCliCredential, type TokenCredential } from '@azure/identity';

/**
 * The deployer's credential: the user (or service principal) signed in with `azd auth login`.
 * With a tenant, `azd auth token --tenant-id`; without, azd picks the tenant through which the
 * user reaches the azd environment's subscription (azd: cmd/auth_token.go).
 */
export function deployerCredential(tenantId?: string): TokenCredential {
  return new AzureDeveloperCliCredential({ tenantId, processTimeoutInMs: 60_000 });
}
