/**
 * APIM_IDENTITY=userAssigned locally: the gateway runs apim/policies/user-assigned-identity/api.xml,
 * whose `client-id` names the identity it asks a token for, against the identity stand-in, which
 * serves the token only to a request whose `client_id` is that identity's (as the managed identity
 * endpoint of App Service does). A client id of another identity gets no token: 500, nothing
 * forwarded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunningGateway, startGateway } from '../../../scripts/local/gateway/server';
import { IdentityServer, startIdentityServer } from '../../../scripts/local/identity/server';
import { APIM_IDENTITY } from '../../../scripts/local/shared/environment';
import { EchoBackend, copyApim, removeDir, startEchoBackend } from './support';

const SUBSCRIPTION_KEY = 'user-assigned-identity-test-key';
const OTHER_CLIENT_ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

let identity: IdentityServer;
let backend: EchoBackend;
let apimDir: string;
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  identity = await startIdentityServer({ log: () => undefined });
  process.env.IDENTITY_ENDPOINT = identity.urls.managedIdentityEndpoint('apim');
  process.env.IDENTITY_HEADER = identity.identityHeader;
  backend = await startEchoBackend();
  // The deployment's policy for a user-assigned identity, in place of api.xml.
  apimDir = copyApim((file, text) =>
    file === 'policies/api.xml'
      ? fs.readFileSync(
          path.join(__dirname, '../../../apim/policies/user-assigned-identity/api.xml'),
          'utf8',
        )
      : text,
  );
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await backend?.close();
  await identity?.close().catch(() => undefined);
  removeDir(apimDir);
});

async function gatewayWithClientId(clientId: string): Promise<RunningGateway> {
  const namedValues = JSON.parse(
    fs.readFileSync(path.join(apimDir, 'named-values.local.json'), 'utf8'),
  ) as Record<string, string>;
  const gateway = await startGateway({
    port: 0,
    apimDir,
    functionsBaseUrl: backend.url,
    subscriptionKey: SUBSCRIPTION_KEY,
    namedValues: { ...namedValues, 'apim-identity-client-id': clientId },
    log: () => undefined,
  });
  gateways.push(gateway);
  return gateway;
}

const call = (gateway: RunningGateway) =>
  fetch(`${gateway.url}/api/whoami`, {
    headers: { 'Ocp-Apim-Subscription-Key': SUBSCRIPTION_KEY },
  });

function claimsOf(authorization: string | undefined): Record<string, unknown> {
  const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1] ?? '';
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

describe('the local gateway with a user-assigned identity (client-id)', () => {
  it("forwards a token of the identity that client-id names: its client id is the token's azp/appid", async () => {
    const gateway = await gatewayWithClientId(APIM_IDENTITY.clientId);
    backend.requests.length = 0;
    const response = await call(gateway);
    expect(response.status).toBe(200);
    expect(backend.requests).toHaveLength(1);
    const claims = claimsOf(backend.requests[0]!.headers.authorization);
    expect(claims.azp ?? claims.appid).toBe(APIM_IDENTITY.clientId);
    expect(claims.oid).toBe(APIM_IDENTITY.objectId);
  });

  it('gets no token for a client id that is not the identity’s: 500, nothing forwarded', async () => {
    const gateway = await gatewayWithClientId(OTHER_CLIENT_ID);
    backend.requests.length = 0;
    const response = await call(gateway);
    expect(response.status).toBe(500);
    expect(backend.requests).toEqual([]);
  });
});
