import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryKeyStore } from '../../../scripts/local/identity/keys';
import { IdentityServer, startIdentityServer } from '../../../scripts/local/identity/server';
import {
  APIM_IDENTITY,
  APP_ROLE,
  INTRUDER_IDENTITY,
  LOCAL_API_APP_ID_URI,
  LOCAL_API_CLIENT_ID,
  LOCAL_TENANT_ID,
} from '../../../scripts/local/shared/environment';
import { FROZEN_MS, FROZEN_S, fetchJson, tokenUrl, verifyAgainstJwks } from './support';

const HEADER = 'token-shapes-header';
let v2: IdentityServer;
let v1: IdentityServer;

async function fromEndpoint(
  server: IdentityServer,
  identity: string,
  resource: string,
): Promise<string> {
  const { status, body } = await fetchJson(
    tokenUrl(server.url, identity, { 'api-version': '2019-08-01', resource }),
    {
      headers: { 'X-IDENTITY-HEADER': HEADER },
    },
  );
  expect(status).toBe(200);
  return body.access_token as string;
}

beforeAll(async () => {
  const options = {
    identityHeader: HEADER,
    now: () => FROZEN_MS,
    tokenLifetimeSeconds: 5400,
    log: () => undefined,
  };
  v2 = await startIdentityServer({ ...options, keys: createMemoryKeyStore() });
  v1 = await startIdentityServer({ ...options, keys: createMemoryKeyStore(), tokenVersion: 1 });
});
afterAll(async () => {
  await Promise.all([v2.close(), v1.close()]);
});

describe('v2 tokens (the default)', () => {
  it('carry the Entra v2 app-only claims, verified against the served JWKS', async () => {
    const token = await fromEndpoint(v2, 'apim', LOCAL_API_CLIENT_ID);
    const { header, payload } = await verifyAgainstJwks(token, v2.urls.jwksUri, {
      issuer: v2.urls.issuerV2,
      audience: LOCAL_API_CLIENT_ID,
      clockTimestamp: FROZEN_S,
    });
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: header.kid });
    expect(Object.keys(payload).sort()).toEqual(
      [
        'aud',
        'azp',
        'azpacr',
        'exp',
        'iat',
        'iss',
        'nbf',
        'oid',
        'roles',
        'sub',
        'tid',
        'uti',
        'ver',
      ].sort(),
    );
    expect(payload).toMatchObject({
      aud: LOCAL_API_CLIENT_ID,
      iss: `${v2.url}/${LOCAL_TENANT_ID}/v2.0`,
      iat: FROZEN_S,
      nbf: FROZEN_S,
      exp: FROZEN_S + 5400,
      azp: APIM_IDENTITY.clientId,
      azpacr: '2',
      oid: APIM_IDENTITY.objectId,
      sub: APIM_IDENTITY.objectId,
      tid: LOCAL_TENANT_ID,
      roles: [APP_ROLE],
      ver: '2.0',
    });
    expect(payload.uti).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('always have the client id as aud, even when the App ID URI was requested', async () => {
    const token = await fromEndpoint(v2, 'apim', LOCAL_API_APP_ID_URI);
    expect((jwt.decode(token) as jwt.JwtPayload).aud).toBe(LOCAL_API_CLIENT_ID);
  });

  it('leave out roles when the identity has none, and never carry scp or idtyp', async () => {
    const token = await fromEndpoint(v2, 'intruder', LOCAL_API_CLIENT_ID);
    const payload = jwt.decode(token) as jwt.JwtPayload;
    expect(payload.oid).toBe(INTRUDER_IDENTITY.objectId);
    expect(payload.azp).toBe(INTRUDER_IDENTITY.clientId);
    expect(payload).not.toHaveProperty('roles');
    expect(payload).not.toHaveProperty('scp');
    expect(payload).not.toHaveProperty('idtyp');
  });

  it('each get their own uti', () => {
    const a = jwt.decode(v2.mint('apim')) as jwt.JwtPayload;
    const b = jwt.decode(v2.mint('apim')) as jwt.JwtPayload;
    expect(a.uti).not.toBe(b.uti);
  });
});

describe('v1 tokens', () => {
  it('carry the Entra v1 app-only claims and x5t, verified against the served JWKS', async () => {
    const token = await fromEndpoint(v1, 'apim', LOCAL_API_CLIENT_ID);
    const { header, payload } = await verifyAgainstJwks(token, v1.urls.jwksUri, {
      issuer: v1.urls.issuerV1,
      audience: LOCAL_API_CLIENT_ID,
      clockTimestamp: FROZEN_S,
    });
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: header.kid, x5t: header.kid });
    expect(Object.keys(payload).sort()).toEqual(
      [
        'aud',
        'appid',
        'appidacr',
        'exp',
        'iat',
        'idp',
        'iss',
        'nbf',
        'oid',
        'roles',
        'sub',
        'tid',
        'uti',
        'ver',
      ].sort(),
    );
    expect(payload).toMatchObject({
      iss: `${v1.url}/${LOCAL_TENANT_ID}/`,
      idp: `${v1.url}/${LOCAL_TENANT_ID}/`,
      appid: APIM_IDENTITY.clientId,
      appidacr: '2',
      oid: APIM_IDENTITY.objectId,
      sub: APIM_IDENTITY.objectId,
      tid: LOCAL_TENANT_ID,
      roles: [APP_ROLE],
      ver: '1.0',
      exp: FROZEN_S + 5400,
    });
    expect(payload).not.toHaveProperty('azp');
  });

  it.each([LOCAL_API_APP_ID_URI, `${LOCAL_API_APP_ID_URI}/`, LOCAL_API_CLIENT_ID])(
    'carry the resource as requested (%s) as aud',
    async (resource) => {
      const token = await fromEndpoint(v1, 'apim', resource);
      expect((jwt.decode(token) as jwt.JwtPayload).aud).toBe(resource);
    },
  );
});

describe('mint()', () => {
  it('takes version, audience, lifetime and extra claims; undefined removes a claim', async () => {
    const token = v2.mint('apim', {
      version: 1,
      audience: LOCAL_API_APP_ID_URI,
      lifetimeSeconds: 60,
      claims: { scp: 'user_impersonation', roles: undefined },
    });
    const { payload } = await verifyAgainstJwks(token, v2.urls.jwksUri, {
      issuer: v2.urls.issuerV1,
      audience: LOCAL_API_APP_ID_URI,
      clockTimestamp: FROZEN_S,
    });
    expect(payload.ver).toBe('1.0');
    expect(payload.exp).toBe(FROZEN_S + 60);
    expect(payload.scp).toBe('user_impersonation');
    expect(payload).not.toHaveProperty('roles');
  });

  it.each([
    ['an unknown identity', () => v2.mint('nobody')],
    ['version 3', () => v2.mint('apim', { version: 3 as never })],
    ['a zero lifetime', () => v2.mint('apim', { lifetimeSeconds: 0 })],
    ['a fractional lifetime', () => v2.mint('apim', { lifetimeSeconds: 1.5 })],
    ['an empty audience', () => v2.mint('apim', { audience: '' })],
  ])('refuses %s with a TypeError', (_name, call) => {
    expect(call).toThrow(TypeError);
  });
});
