import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryKeyStore, jwkThumbprint } from '../../../scripts/local/identity/keys';
import { IdentityServer, startIdentityServer } from '../../../scripts/local/identity/server';
import { LOCAL_TENANT_ID, identityUrls } from '../../../scripts/local/shared/environment';
import { fetchJson, fetchJwks, verifyAgainstJwks } from './support';

let server: IdentityServer;
const lines: string[] = [];

beforeAll(async () => {
  server = await startIdentityServer({
    keys: createMemoryKeyStore(),
    log: (line) => lines.push(line),
  });
});
afterAll(async () => {
  await server.close();
});

describe('JWKS', () => {
  it('publishes the signing key as an RS256 signature key whose kid is its RFC 7638 thumbprint', async () => {
    const keys = await fetchJwks(server.urls.jwksUri);
    expect(keys).toHaveLength(1);
    const [key] = keys;
    expect(Object.keys(key!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use', 'x5t']);
    expect(key).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', e: 'AQAB' });
    expect(key!.kid).toBe(jwkThumbprint(key!));
    expect(key!.x5t).toBe(key!.kid);
    const publicKey = crypto.createPublicKey({
      key: { kty: 'RSA', n: key!.n, e: key!.e },
      format: 'jwk',
    });
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('serves the same keys at the v1 path', async () => {
    const v2 = await fetchJson(server.urls.jwksUri);
    const v1 = await fetchJson(`${server.url}/${LOCAL_TENANT_ID}/discovery/keys`);
    expect(v1.status).toBe(200);
    expect(v1.body).toEqual(v2.body);
    expect(v2.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('computes RFC 7638 thumbprints (the RFC example key)', () => {
    // RFC 7638 section 3.1.
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    expect(jwkThumbprint({ kty: 'RSA', n, e: 'AQAB' })).toBe(
      'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
    );
  });
});

describe('OpenID discovery', () => {
  it('v2 document names the v2 issuer and this stand-in as the JWKS and token endpoint', async () => {
    const { status, body } = await fetchJson(
      `${server.url}/${LOCAL_TENANT_ID}/v2.0/.well-known/openid-configuration`,
    );
    expect(status).toBe(200);
    const urls = identityUrls(server.url);
    expect(body.issuer).toBe(urls.issuerV2);
    expect(body.jwks_uri).toBe(urls.jwksUri);
    expect(body.token_endpoint).toBe(`${server.url}/${LOCAL_TENANT_ID}/oauth2/v2.0/token`);
    expect(body.id_token_signing_alg_values_supported).toEqual(['RS256']);
    const jwks = await fetchJson(body.jwks_uri);
    expect(jwks.status).toBe(200);
  });

  it('v1 document names the v1 issuer and the v1 keys path', async () => {
    const { status, body } = await fetchJson(
      `${server.url}/${LOCAL_TENANT_ID}/.well-known/openid-configuration`,
    );
    expect(status).toBe(200);
    expect(body.issuer).toBe(identityUrls(server.url).issuerV1);
    expect(body.jwks_uri).toBe(`${server.url}/${LOCAL_TENANT_ID}/discovery/keys`);
    expect(body.token_endpoint).toBe(`${server.url}/${LOCAL_TENANT_ID}/oauth2/token`);
  });

  it('the token endpoint it advertises explains that tokens come from the managed identity endpoint', async () => {
    const { status, body } = await fetchJson(`${server.url}/${LOCAL_TENANT_ID}/oauth2/v2.0/token`, {
      method: 'POST',
      body: 'grant_type=client_credentials',
    });
    expect(status).toBe(400);
    expect(body.error).toBe('unsupported_grant_type');
    expect(body.error_description).toContain('/msi/');
  });
});

describe('anything else', () => {
  it.each([
    ['unknown path', '/nothing/here', 404],
    ['unknown path below the tenant', `/${LOCAL_TENANT_ID}/discovery/v3/keys`, 404],
    ['another tenant', '/00000000-0000-0000-0000-000000000000/discovery/v2.0/keys', 404],
    ['root', '/', 404],
    ['malformed escape', `/${LOCAL_TENANT_ID}/%E0%A4%A/keys`, 400],
    // Names of Object.prototype members once reached the route table and crashed the process.
    ['constructor below the tenant', `/${LOCAL_TENANT_ID}/constructor`, 404],
    ['toString below the tenant', `/${LOCAL_TENANT_ID}/toString`, 404],
    ['valueOf below the tenant', `/${LOCAL_TENANT_ID}/valueOf`, 404],
    ['hasOwnProperty below the tenant', `/${LOCAL_TENANT_ID}/hasOwnProperty`, 404],
    ['__proto__ below the tenant', `/${LOCAL_TENANT_ID}/__proto__`, 404],
  ])('%s -> %i with a JSON error', async (_name, path, status) => {
    const response = await fetchJson(`${server.url}${path}`);
    expect(response.status).toBe(status);
    expect(typeof response.body.error).toBe('string');
  });

  it('answers other methods with 405 and Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const response = await fetch(server.urls.jwksUri, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET');
      await response.arrayBuffer();
    }
  });

  it('logs one line per request: method, path without query, status', async () => {
    lines.length = 0;
    await fetchJson(`${server.urls.jwksUri}?secret=abc`);
    expect(lines).toEqual([`GET /${LOCAL_TENANT_ID}/discovery/v2.0/keys 200`]);
  });
});

describe('key rotation', () => {
  it('signs with the new key and keeps publishing the old one, so tokens issued before still verify', async () => {
    const rotating = await startIdentityServer({
      keys: createMemoryKeyStore(),
      log: () => undefined,
    });
    try {
      const before = rotating.mint('apim');
      const [oldKey] = await fetchJwks(rotating.urls.jwksUri);
      rotating.rotateKeys();
      const after = rotating.mint('apim');
      const keys = await fetchJwks(rotating.urls.jwksUri);
      expect(keys.map((key) => key.kid)).toHaveLength(2);
      expect(keys[1]!.kid).toBe(oldKey!.kid);
      const expected = {
        issuer: rotating.urls.issuerV2,
        audience: '3f9c2e71-5a4b-4c8d-9e10-2b3c4d5e6f70',
      };
      const verifiedBefore = await verifyAgainstJwks(before, rotating.urls.jwksUri, expected);
      const verifiedAfter = await verifyAgainstJwks(after, rotating.urls.jwksUri, expected);
      expect(verifiedBefore.header.kid).toBe(oldKey!.kid);
      expect(verifiedAfter.header.kid).toBe(keys[0]!.kid);
      expect(verifiedAfter.header.kid).not.toBe(oldKey!.kid);
    } finally {
      await rotating.close();
    }
  });

  it('publishes at most three keys', async () => {
    const rotating = await startIdentityServer({
      keys: createMemoryKeyStore(),
      log: () => undefined,
    });
    try {
      const first = (await fetchJwks(rotating.urls.jwksUri))[0]!.kid;
      for (let i = 0; i < 3; i++) rotating.rotateKeys();
      const kids = (await fetchJwks(rotating.urls.jwksUri)).map((key) => key.kid);
      expect(kids).toHaveLength(3);
      expect(kids).not.toContain(first);
    } finally {
      await rotating.close();
    }
  });
});
