/**
 * The secured path end to end over real HTTP, without Azure: @azure/identity's
 * ManagedIdentityCredential gets a token from the identity stand-in exactly as API Management does
 * with its managed identity, and calls the built app in the built-in host (`node
 * dist/scripts/local/host/main.js`), which trusts the stand-in as the deployed app trusts Entra ID.
 */
import http from 'node:http';
import { ManagedIdentityCredential } from '@azure/identity';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityServer, startIdentityServer } from '../../scripts/local/identity/server';
import {
  APIM_IDENTITY,
  APP_ROLE,
  INTRUDER_IDENTITY,
  LOCAL_API_APP_ID_URI,
  LOCAL_API_CLIENT_ID,
  LOCAL_TENANT_ID,
  localFunctionAppSettings,
} from '../../scripts/local/shared/environment';
import { NodeProcess, cleanEnv, script } from '../support/node-process';

const IDENTITY_HEADER = 'e2e-identity-header-7f3a';
let identity: IdentityServer;
let host: NodeProcess;
let functionsUrl: string;
const identityLog: string[] = [];
const tokens: string[] = [];

interface Problem {
  status: number;
  code: string;
}

async function call(path: string, token?: string) {
  const response = await fetch(`${functionsUrl}${path}`, {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

/** A token from the stand-in's managed identity endpoint with a plain request (for the identity APIM is not). */
async function managedIdentityToken(identityName: string): Promise<string> {
  const url = `${identity.urls.managedIdentityEndpoint(identityName)}?api-version=2019-08-01&resource=${LOCAL_API_CLIENT_ID}`;
  const response = await fetch(url, { headers: { 'X-IDENTITY-HEADER': IDENTITY_HEADER } });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { access_token: string };
  tokens.push(body.access_token);
  return body.access_token;
}

function mint(...args: Parameters<IdentityServer['mint']>): string {
  const token = identity.mint(...args);
  tokens.push(token);
  return token;
}

beforeAll(async () => {
  identity = await startIdentityServer({
    identityHeader: IDENTITY_HEADER,
    log: (line) => identityLog.push(line),
  });
  host = new NodeProcess(
    script('local/host/main'),
    [],
    cleanEnv({ PORT: '0', ...localFunctionAppSettings(identity.url) }),
  );
  functionsUrl = (await host.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
  await host.waitFor(/Ctrl-C/);
});

afterAll(async () => {
  await host?.stop();
  await identity?.close();
});

describe('the secured path, locally', () => {
  let apimToken: string;

  it('ManagedIdentityCredential gets a token for the API the way APIM does (App Service protocol)', async () => {
    for (const name of [
      'MSI_ENDPOINT',
      'MSI_SECRET',
      'IDENTITY_SERVER_THUMBPRINT',
      'IMDS_ENDPOINT',
      'AZURE_CLIENT_ID',
    ]) {
      delete process.env[name];
    }
    process.env.IDENTITY_ENDPOINT = identity.urls.managedIdentityEndpoint('apim');
    process.env.IDENTITY_HEADER = IDENTITY_HEADER;
    const credential = new ManagedIdentityCredential({ retryOptions: { maxRetries: 0 } });
    const accessToken = await credential.getToken(`${LOCAL_API_CLIENT_ID}/.default`);
    apimToken = accessToken.token;
    tokens.push(apimToken);
    const payload = jwt.decode(apimToken) as jwt.JwtPayload;
    expect(payload.oid).toBe(APIM_IDENTITY.objectId);
    expect(payload.aud).toBe(LOCAL_API_CLIENT_ID);
    // expires_on was understood: MSAL turns it into a lifetime and back, which can lose a second or
    // so of its own processing time, never more than a few.
    expect(accessToken.expiresOnTimestamp).toBeLessThanOrEqual(payload.exp! * 1000);
    expect(accessToken.expiresOnTimestamp).toBeGreaterThan((payload.exp! - 10) * 1000);
    expect(identityLog).toContain('GET /msi/apim/token 200');
  });

  it('GET /api/hello with that token -> 200', async () => {
    const response = await call('/api/hello?name=x', apimToken);
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ message: 'Hello, x!' });
  });

  it('GET /api/whoami -> 200 with the caller from the token', async () => {
    const response = await call('/api/whoami', apimToken);
    expect(response.status).toBe(200);
    const exp = (jwt.decode(apimToken) as jwt.JwtPayload).exp!;
    expect(response.json).toEqual({
      objectId: APIM_IDENTITY.objectId,
      clientId: APIM_IDENTITY.clientId,
      tenantId: LOCAL_TENANT_ID,
      issuer: identity.urls.issuerV2,
      tokenVersion: '2.0',
      roles: [APP_ROLE],
      expiresAt: new Date(exp * 1000).toISOString(),
    });
  });

  it("another managed identity's token from the same tenant -> 403", async () => {
    const token = await managedIdentityToken('intruder');
    expect((jwt.decode(token) as jwt.JwtPayload).oid).toBe(INTRUDER_IDENTITY.objectId);
    for (const path of ['/api/hello?name=x', '/api/whoami']) {
      const response = await call(path, token);
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect((response.json as unknown as Problem).status).toBe(403);
      expect(typeof (response.json as unknown as Problem).code).toBe('string');
    }
  });

  it('no token -> 401 with a Bearer challenge', async () => {
    const response = await call('/api/hello?name=x');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(typeof (response.json as unknown as Problem).code).toBe('string');
  });

  it('two Authorization headers, a valid token first -> 401, not the first one taken', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      // node:http sends each value of the array as its own header line (fetch would join them).
      const request = http.request(`${functionsUrl}/api/whoami`, {
        headers: { Authorization: [`Bearer ${apimToken}`, 'Bearer second-token'] },
      });
      request.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      });
      request.on('error', reject);
      request.end();
    });
    expect(status).toBe(401);
  });

  it('a v1 token (API registration on version 1) with either audience form -> 200', async () => {
    for (const audience of [LOCAL_API_CLIENT_ID, LOCAL_API_APP_ID_URI]) {
      const response = await call('/api/whoami', mint('apim', { version: 1, audience }));
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject({
        tokenVersion: '1.0',
        issuer: identity.urls.issuerV1,
        clientId: APIM_IDENTITY.clientId,
      });
    }
  });

  it('the host logged the requests but no token text, and stayed up', () => {
    expect(host.alive).toBe(true);
    expect(host.stdout).toMatch(/GET \/api\/whoami 200 whoami /);
    expect(host.stdout).toMatch(/GET \/api\/hello 403 hello /);
    expect(tokens.length).toBeGreaterThanOrEqual(4);
    for (const token of tokens) {
      const [header, payload, signature] = token.split('.');
      expect(host.output).not.toContain(token);
      expect(host.output).not.toContain(payload);
      expect(host.output).not.toContain(signature);
      expect(host.output).not.toContain(header + '.');
    }
    expect(host.output).not.toContain(IDENTITY_HEADER);
    const identityOutput = identityLog.join('\n');
    for (const token of tokens) expect(identityOutput).not.toContain(token);
    expect(identityOutput).not.toContain(IDENTITY_HEADER);
  });
});
