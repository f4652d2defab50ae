import { createHash, generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { AuthConfig } from '../../functions/auth/config';
import type { SigningKeyProvider } from '../../functions/auth/signing-keys';
import { AuthError } from '../../functions/auth/errors';

/** Fixed test identities (made up; they exist only in tests). */
export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const OTHER_TENANT = '11111111-2222-4333-8444-555555555555';
export const API_CLIENT_ID = '6e8f3a1c-0d2b-4c5e-8f7a-9b0c1d2e3f40';
export const APIM_OID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
export const APIM_CLIENT_ID = '5d6e7f80-9a0b-4c1d-8e2f-3a4b5c6d7e8f';
export const OTHER_OID = '99999999-8888-4777-8666-555555555555';
export const ROLE = 'Api.Invoke';
export const ISSUER_V1 = `https://sts.windows.net/${TENANT}/`;
export const ISSUER_V2 = `https://login.microsoftonline.com/${TENANT}/v2.0`;

/** 2026-11-30T12:00:00Z: the frozen "now" of claim tests. */
export const NOW_SECONDS = 1_796_040_000;

export const testConfig = (overrides: Partial<AuthConfig> = {}): AuthConfig => ({
  tenantId: TENANT,
  audiences: [API_CLIENT_ID, `api://${API_CLIENT_ID}`],
  allowedCallerObjectIds: new Set([APIM_OID]),
  allowedClientIds: new Set([APIM_CLIENT_ID]),
  requiredRoles: [ROLE],
  issuers: [ISSUER_V1, ISSUER_V2],
  jwksUri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
  clockSkewSeconds: 300,
  ...overrides,
});

/**
 * The app's `AUTH_*` settings that accept the v2 tokens of `v2Claims` (API Management's identity
 * with the role), with the signing keys at `jwksUri`: what a test gives the built app.
 */
export const v2AppSettings = (jwksUri: string): Record<string, string> => ({
  AUTH_TENANT_ID: TENANT,
  AUTH_AUDIENCES: API_CLIENT_ID,
  AUTH_ALLOWED_CALLER_OBJECT_IDS: APIM_OID,
  AUTH_ALLOWED_CLIENT_IDS: APIM_CLIENT_ID,
  AUTH_REQUIRED_ROLES: ROLE,
  AUTH_ISSUERS: ISSUER_V2,
  AUTH_JWKS_URI: jwksUri,
});

export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as a JWK, as Entra publishes it. */
  jwk: Record<string, unknown>;
}

export function createTestKey(modulusLength = 2048): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  const exported = publicKey.export({ format: 'jwk' });
  const kid = createHash('sha256')
    .update(JSON.stringify({ e: exported.e, kty: 'RSA', n: exported.n }))
    .digest('base64url');
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { kty: 'RSA', use: 'sig', kid, n: exported.n, e: exported.e },
  };
}

/** Claims of a v2 app-only token for API Management's identity, valid at NOW_SECONDS. */
export function v2Claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aud: API_CLIENT_ID,
    iss: ISSUER_V2,
    iat: NOW_SECONDS - 60,
    nbf: NOW_SECONDS - 60,
    exp: NOW_SECONDS + 3600,
    azp: APIM_CLIENT_ID,
    azpacr: '2',
    oid: APIM_OID,
    sub: APIM_OID,
    tid: TENANT,
    roles: [ROLE],
    uti: 'AbCdEfGhIjKlMnOpQrStUv',
    ver: '2.0',
    ...overrides,
  };
}

/** Claims of a v1 app-only token for API Management's identity, valid at NOW_SECONDS. */
export function v1Claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aud: `api://${API_CLIENT_ID}`,
    iss: ISSUER_V1,
    iat: NOW_SECONDS - 60,
    nbf: NOW_SECONDS - 60,
    exp: NOW_SECONDS + 3600,
    appid: APIM_CLIENT_ID,
    appidacr: '2',
    idp: ISSUER_V1,
    oid: APIM_OID,
    sub: APIM_OID,
    tid: TENANT,
    roles: [ROLE],
    ver: '1.0',
    ...overrides,
  };
}

/** Signs claims (undefined ones left out) with RS256 and the key's kid, or the given header fields. */
export function sign(
  claims: Record<string, unknown>,
  key: TestKey,
  header: Record<string, unknown> = {},
): string {
  const defined = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  return jwt.sign(defined, key.privateKey, {
    algorithm: 'RS256',
    header: { alg: 'RS256', typ: 'JWT', kid: key.kid, ...header },
  });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Builds a compact JWS from raw parts, for tokens no library would sign. */
export function rawToken(header: unknown, claims: unknown, signature = ''): string {
  return `${b64(header)}.${b64(claims)}.${signature}`;
}

/** A key provider over a set of keys the test controls: unknown kids are refused like the real store does. */
export class StaticKeys implements SigningKeyProvider {
  lookups = 0;
  private readonly current: Map<string, KeyObject>;

  constructor(keys: TestKey[]) {
    this.current = new Map(keys.map((k) => [k.kid, k.publicKey]));
  }

  getKey(kid: string): Promise<KeyObject> {
    this.lookups += 1;
    const key = this.current.get(kid);
    if (!key) return Promise.reject(new AuthError('unknown_signing_key', 'unknown'));
    return Promise.resolve(key);
  }
}

export const randomGuid = (): string => randomUUID();
