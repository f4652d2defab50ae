/**
 * The gateway with its real credential (@azure/identity's ManagedIdentityCredential) against the
 * identity stand-in, and an echo backend that records what reaches it. @azure/identity keeps the
 * managed identity endpoint and header it first read for the whole process, so each way of failing
 * lives in its own test file (vitest runs each file in its own process).
 */
import path from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { RunningGateway, startGateway } from '../../scripts/local/gateway/server';
import { IdentityServer, startIdentityServer } from '../../scripts/local/identity/server';
import { EchoBackend, ROOT, startEchoBackend } from '../local/gateway/support';

export const SUBSCRIPTION_KEY = 'fault-test-subscription-key';

/** The body that apim/policies/api.xml's on-error section sets: nothing about the cause. */
export const GENERIC_ERROR = {
  type: 'about:blank',
  title: 'The request could not be completed.',
  code: 'gateway_error',
};

export interface GatewayOverIdentity {
  readonly identity: IdentityServer;
  readonly backend: EchoBackend;
  readonly gateway: RunningGateway;
  readonly logs: string[];
  close(): Promise<void>;
}

/**
 * Starts the three; `sentHeader` is the IDENTITY_HEADER the gateway sends (the stand-in expects
 * its own), `namedValues` replaces apim/named-values.local.json.
 */
export async function startGatewayOverIdentity(options: {
  sentHeader?: string;
  namedValues?: Record<string, string>;
}): Promise<GatewayOverIdentity> {
  const identity = await startIdentityServer({ log: () => undefined });
  process.env.IDENTITY_ENDPOINT = identity.urls.managedIdentityEndpoint('apim');
  process.env.IDENTITY_HEADER = options.sentHeader ?? identity.identityHeader;
  const backend = await startEchoBackend();
  const logs: string[] = [];
  const gateway = await startGateway({
    port: 0,
    apimDir: path.join(ROOT, 'apim'),
    functionsBaseUrl: backend.url,
    subscriptionKey: SUBSCRIPTION_KEY,
    namedValues: options.namedValues,
    credential: new ManagedIdentityCredential({ retryOptions: { maxRetries: 0 } }),
    log: (line) => logs.push(line),
  });
  return {
    identity,
    backend,
    gateway,
    logs,
    close: async () => {
      await gateway.close();
      await backend.close();
      await identity.close().catch(() => undefined);
    },
  };
}

/** Calls an operation through the gateway, with the subscription key. */
export async function callThrough(
  gateway: RunningGateway,
  operation = 'whoami',
): Promise<{ status: number; body: string }> {
  const response = await fetch(`${gateway.url}/api/${operation}`, {
    headers: { 'Ocp-Apim-Subscription-Key': SUBSCRIPTION_KEY },
  });
  return { status: response.status, body: await response.text() };
}
