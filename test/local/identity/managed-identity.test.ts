import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryKeyStore } from '../../../scripts/local/identity/keys';
import { IdentityServer, startIdentityServer } from '../../../scripts/local/identity/server';
import {
  APIM_IDENTITY,
  INTRUDER_IDENTITY,
  LOCAL_API_APP_ID_URI,
  LOCAL_API_CLIENT_ID,
} from '../../../scripts/local/shared/environment';
import { FROZEN_MS, FROZEN_S, fetchJson, tokenUrl } from './support';

const HEADER = 'local-identity-header-for-tests';
let server: IdentityServer;
const lines: string[] = [];
const issued: string[] = [];

const ok = { 'api-version': '2019-08-01', resource: LOCAL_API_CLIENT_ID };

async function ask(
  identity: string,
  query: Record<string, string>,
  headers: Record<string, string> = { 'X-IDENTITY-HEADER': HEADER },
) {
  const response = await fetchJson(tokenUrl(server.url, identity, query), { headers });
  if (typeof response.body?.access_token === 'string') issued.push(response.body.access_token);
  return response;
}

beforeAll(async () => {
  server = await startIdentityServer({
    identityHeader: HEADER,
    keys: createMemoryKeyStore(),
    now: () => FROZEN_MS,
    tokenLifetimeSeconds: 3600,
    log: (line) => lines.push(line),
  });
});
afterAll(async () => {
  await server.close();
  // Neither the tokens it issued nor the identity header ever reach the log.
  const log = lines.join('\n');
  expect(issued.length).toBeGreaterThan(0);
  for (const token of issued) {
    expect(log).not.toContain(token);
    expect(log).not.toContain(token.split('.')[2]);
  }
  expect(log).not.toContain(HEADER);
});

describe('managed identity endpoint (App Service protocol 2019-08-01)', () => {
  it('issues a token with the response shape @azure/identity expects', async () => {
    const { status, headers, body } = await ask('apim', ok);
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'client_id',
      'expires_on',
      'resource',
      'token_type',
    ]);
    expect(body).toMatchObject({
      token_type: 'Bearer',
      resource: LOCAL_API_CLIENT_ID,
      client_id: APIM_IDENTITY.clientId,
    });
    // expires_on is epoch seconds as a string, and equals the token's exp.
    expect(body.expires_on).toBe(String(FROZEN_S + 3600));
    const payload = jwt.decode(body.access_token) as jwt.JwtPayload;
    expect(payload.exp).toBe(FROZEN_S + 3600);
    expect(payload.oid).toBe(APIM_IDENTITY.objectId);
  });

  it('issues tokens to an identity that the app will refuse, too (Entra does)', async () => {
    const { status, body } = await ask('intruder', ok);
    expect(status).toBe(200);
    expect(body.client_id).toBe(INTRUDER_IDENTITY.clientId);
    expect((jwt.decode(body.access_token) as jwt.JwtPayload).oid).toBe(INTRUDER_IDENTITY.objectId);
  });

  it.each([
    ['the client id', LOCAL_API_CLIENT_ID],
    ['the client id in upper case', LOCAL_API_CLIENT_ID.toUpperCase()],
    ['the App ID URI', LOCAL_API_APP_ID_URI],
    ['the App ID URI with a trailing slash', `${LOCAL_API_APP_ID_URI}/`],
  ])('accepts %s as the resource and echoes it', async (_name, resource) => {
    const { status, body } = await ask('apim', { ...ok, resource });
    expect(status).toBe(200);
    expect(body.resource).toBe(resource);
  });

  it.each([
    ['no X-IDENTITY-HEADER', 'apim', ok, {}, 401, 'unauthorized'],
    [
      'a wrong X-IDENTITY-HEADER',
      'apim',
      ok,
      { 'X-IDENTITY-HEADER': 'wrong' },
      401,
      'unauthorized',
    ],
    [
      'a header that only shares a prefix',
      'apim',
      ok,
      { 'X-IDENTITY-HEADER': HEADER.slice(0, -1) },
      401,
      'unauthorized',
    ],
    ['the old protocol\'s "secret" header', 'apim', ok, { secret: HEADER }, 401, 'unauthorized'],
    ['an unknown identity', 'nobody', ok, undefined, 404, 'identity_not_found'],
    [
      'no api-version',
      'apim',
      { resource: LOCAL_API_CLIENT_ID },
      undefined,
      400,
      'invalid_request',
    ],
    [
      'the old api-version',
      'apim',
      { ...ok, 'api-version': '2017-09-01' },
      undefined,
      400,
      'invalid_request',
    ],
    ['no resource', 'apim', { 'api-version': '2019-08-01' }, undefined, 400, 'invalid_request'],
    [
      'a client_id of another identity',
      'apim',
      { ...ok, client_id: INTRUDER_IDENTITY.clientId },
      undefined,
      400,
      'invalid_request',
    ],
    [
      'a principal_id of another identity',
      'apim',
      { ...ok, principal_id: INTRUDER_IDENTITY.objectId },
      undefined,
      400,
      'invalid_request',
    ],
  ] as const)('refuses %s', async (_name, identity, query, headers, status, error) => {
    const response = await ask(
      identity,
      { ...query },
      headers === undefined ? undefined : { ...headers },
    );
    expect(response.status).toBe(status);
    expect(response.body.error).toBe(error);
    expect(typeof response.body.error_description).toBe('string');
    expect(response.body.access_token).toBeUndefined();
  });

  it('accepts the client_id of the identity itself', async () => {
    const { status } = await ask('apim', { ...ok, client_id: APIM_IDENTITY.clientId });
    expect(status).toBe(200);
  });

  it.each([
    ['Microsoft Graph', 'https://graph.microsoft.com'],
    ['Azure Resource Manager', 'https://management.azure.com/'],
    ['the scope instead of the resource', `${LOCAL_API_CLIENT_ID}/.default`],
    ['another GUID', '00000000-0000-0000-0000-000000000001'],
    ['the App ID URI of another app', 'api://00000000-0000-0000-0000-000000000001'],
  ])(
    'answers a wrong resource (%s) like Entra: 400 invalid_resource, AADSTS500011',
    async (_name, resource) => {
      const { status, body } = await ask('apim', { ...ok, resource });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_resource');
      expect(body.error_description).toMatch(
        /^AADSTS500011: The resource principal named .+ was not found in the tenant/,
      );
      expect(body.error_description).toContain(resource);
    },
  );

  it('answers other methods with 405', async () => {
    const response = await fetch(tokenUrl(server.url, 'apim', ok), {
      method: 'POST',
      headers: { 'X-IDENTITY-HEADER': HEADER },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    await response.arrayBuffer();
  });

  it('logs the path without the query, never the header', async () => {
    lines.length = 0;
    await ask('apim', ok);
    expect(lines).toEqual(['GET /msi/apim/token 200']);
  });
});

describe('identity header', () => {
  it('is random per stand-in when not given', async () => {
    const a = await startIdentityServer({ log: () => undefined });
    const b = await startIdentityServer({ log: () => undefined });
    try {
      expect(a.identityHeader).not.toBe(b.identityHeader);
      expect(a.identityHeader.length).toBeGreaterThanOrEqual(32);
      const refused = await fetchJson(tokenUrl(a.url, 'apim', ok), {
        headers: { 'X-IDENTITY-HEADER': b.identityHeader },
      });
      expect(refused.status).toBe(401);
      const accepted = await fetchJson(tokenUrl(a.url, 'apim', ok), {
        headers: { 'X-IDENTITY-HEADER': a.identityHeader },
      });
      expect(accepted.status).toBe(200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it.each([[''], ['  '], ['has space'], ['line\nbreak']])(
    'refuses %j as a header value',
    async (value) => {
      await expect(startIdentityServer({ identityHeader: value })).rejects.toThrow(TypeError);
    },
  );
});
