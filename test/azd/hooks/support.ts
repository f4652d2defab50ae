import type { AccessToken, TokenCredential } from '@azure/identity';
import type { HookContext } from '../../../scripts/azd/hooks/context';
import type { FakeGraph } from './fake-graph';

export const SUBSCRIPTION_ID = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
export const APIM_PRINCIPAL_ID = '7d1e2f30-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

/** A credential that hands out the fake's token and records the scopes asked for. */
export function fakeCredential(token: string): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    getToken(scope: string | string[]): Promise<AccessToken> {
      scopes.push(...(Array.isArray(scope) ? scope : [scope]));
      return Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3600_000 });
    },
  };
}

export interface TestRun {
  readonly context: HookContext;
  /** What the hook stored with `azd env set`, in order. */
  readonly stored: [string, string][];
  readonly logs: string[];
  readonly warnings: string[];
  readonly sleeps: number[];
  /** The tenants the hook asked Graph credentials for, in order. */
  readonly tenants: string[];
  /** Scopes asked for with a tenant's credential (Graph), after `context.credential`'s (ARM). */
  readonly graphScopes: string[];
}

/** The fake Graph's token for a tenant (see FakeGraph.tokenTenants); a dud for an unknown one. */
export function tokenForTenant(graph: FakeGraph, tenantId: string): string {
  for (const [token, tenant] of graph.tokenTenants) if (tenant === tenantId) return token;
  return `no-token-for-${tenantId}`;
}

/**
 * A hook context wired to the fake Graph and its ARM: azd values as azd would pass them (the
 * defaults plus `values`), `azd env set` recorded, a Graph credential per tenant, no real waiting.
 */
export function hookRun(
  graph: FakeGraph,
  values: Record<string, string | undefined> = {},
): TestRun {
  const stored: [string, string][] = [];
  const logs: string[] = [];
  const warnings: string[] = [];
  const sleeps: number[] = [];
  const tenants: string[] = [];
  const graphScopes: string[] = [];
  const context: HookContext = {
    values: {
      AZURE_ENV_NAME: 'dev',
      AZURE_SUBSCRIPTION_ID: SUBSCRIPTION_ID,
      GRAPH_ENDPOINT: graph.url,
      ARM_ENDPOINT: graph.arm.url,
      ...values,
    },
    azdEnv: {
      set(key, value) {
        stored.push([key, value]);
        return Promise.resolve();
      },
    },
    credential: fakeCredential(graph.token),
    credentialForTenant(tenantId) {
      tenants.push(tenantId);
      const credential = fakeCredential(tokenForTenant(graph, tenantId));
      return {
        getToken: async (scope, options) => {
          const token = await credential.getToken(scope, options);
          graphScopes.push(...credential.scopes.splice(0));
          return token;
        },
      };
    },
    sleep(ms) {
      sleeps.push(ms);
      return Promise.resolve();
    },
    log: (line) => logs.push(line),
    warn: (line) => warnings.push(line),
  };
  return { context, stored, logs, warnings, sleeps, tenants, graphScopes };
}

/** The azd values after a run: what was passed in plus what the run stored. */
export function valuesAfter(run: TestRun): Record<string, string | undefined> {
  return { ...run.context.values, ...Object.fromEntries(run.stored) };
}
