import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import {
  LOCAL_API_CLIENT_ID,
  LOCAL_IDENTITIES,
  LOCAL_TENANT_ID,
  LocalIdentity,
  findLocalIdentity,
  identityUrls,
} from '../shared/environment';
import type { KeyStore } from './keys';

/** Entra's access token versions: set by the API's app registration (`requestedAccessTokenVersion`). */
export type TokenVersion = 1 | 2;

export interface MintOptions {
  /** Default: the issuer's `tokenVersion`. */
  version?: TokenVersion;
  /** `aud`; default the local app registration's client id. */
  audience?: string;
  /** Default: the issuer's `tokenLifetimeSeconds`. */
  lifetimeSeconds?: number;
  /** Claims to add or replace; a claim set to `undefined` is removed. For tests of bad tokens. */
  claims?: Record<string, unknown>;
}

export interface TokenIssuerOptions {
  /** Where the stand-in listens, for example `http://127.0.0.1:7072` (no trailing slash). */
  baseUrl: string;
  keys: KeyStore;
  /** Default 2. */
  tokenVersion?: TokenVersion;
  /** Default DEFAULT_TOKEN_LIFETIME_SECONDS. */
  tokenLifetimeSeconds?: number;
  /** Milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
}

export interface IssuedToken {
  readonly token: string;
  /** `exp`, epoch seconds. */
  readonly expiresOn: number;
}

export interface TokenIssuer {
  /** A token for the named local identity, signed with the current signing key. */
  mint(identityName: string, options?: MintOptions): string;
  issue(identity: LocalIdentity, options?: MintOptions): IssuedToken;
}

/** One hour, within the 60-90 minutes Entra typically gives. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;
const MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

export function parseTokenVersion(value: unknown): TokenVersion | undefined {
  return value === 1 || value === '1' ? 1 : value === 2 || value === '2' ? 2 : undefined;
}

function checkVersion(value: unknown, what: string): TokenVersion {
  const version = parseTokenVersion(value);
  if (version === undefined) throw new TypeError(`${what} must be 1 or 2.`);
  return version;
}

function checkLifetime(value: unknown, what: string): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_TOKEN_LIFETIME_SECONDS
  ) {
    throw new TypeError(
      `${what} must be a whole number of seconds from 1 to ${MAX_TOKEN_LIFETIME_SECONDS}.`,
    );
  }
  return value;
}

/** Looks up a local identity by name; throws a TypeError listing the known ones. */
export function requireLocalIdentity(name: string): LocalIdentity {
  const identity = findLocalIdentity(name);
  if (!identity) {
    const known = LOCAL_IDENTITIES.map((candidate) => candidate.name).join(', ');
    throw new TypeError(`Unknown local identity "${name}". Known identities: ${known}.`);
  }
  return identity;
}

/**
 * Issues access tokens shaped like the ones Entra ID issues to a managed identity for the local app
 * registration (see the Microsoft identity platform's access token claims reference): RS256 with
 * `kid` (v1 also `x5t`), app-only claims, no `scp`, no `idtyp` (an optional claim in Entra),
 * `roles` only when the identity holds one.
 */
export function createTokenIssuer(options: TokenIssuerOptions): TokenIssuer {
  const urls = identityUrls(options.baseUrl);
  const defaultVersion = checkVersion(options.tokenVersion ?? 2, 'tokenVersion');
  const defaultLifetime = checkLifetime(
    options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
    'tokenLifetimeSeconds',
  );
  const now = options.now ?? Date.now;

  const issue = (identity: LocalIdentity, mint: MintOptions = {}): IssuedToken => {
    const version = checkVersion(mint.version ?? defaultVersion, 'version');
    const lifetime = checkLifetime(mint.lifetimeSeconds ?? defaultLifetime, 'lifetimeSeconds');
    const audience = mint.audience ?? LOCAL_API_CLIENT_ID;
    if (typeof audience !== 'string' || audience === '')
      throw new TypeError('audience must be a non-empty string.');
    const issuedAt = Math.floor(now() / 1000);
    const expiresOn = issuedAt + lifetime;
    const roles = identity.roles.length > 0 ? [...identity.roles] : undefined;
    const uti = crypto.randomBytes(16).toString('base64url');
    const payload: Record<string, unknown> =
      version === 2
        ? {
            aud: audience,
            iss: urls.issuerV2,
            iat: issuedAt,
            nbf: issuedAt,
            exp: expiresOn,
            azp: identity.clientId,
            azpacr: '2',
            oid: identity.objectId,
            roles,
            sub: identity.objectId,
            tid: LOCAL_TENANT_ID,
            uti,
            ver: '2.0',
          }
        : {
            aud: audience,
            iss: urls.issuerV1,
            iat: issuedAt,
            nbf: issuedAt,
            exp: expiresOn,
            appid: identity.clientId,
            appidacr: '2',
            idp: urls.issuerV1,
            oid: identity.objectId,
            roles,
            sub: identity.objectId,
            tid: LOCAL_TENANT_ID,
            uti,
            ver: '1.0',
          };
    Object.assign(payload, mint.claims ?? {});
    for (const [name, value] of Object.entries(payload)) {
      if (value === undefined) delete payload[name];
    }
    const key = options.keys.signer();
    const header =
      version === 1
        ? { alg: 'RS256', typ: 'JWT', kid: key.kid, x5t: key.kid }
        : { alg: 'RS256', typ: 'JWT', kid: key.kid };
    const token = jwt.sign(payload, key.privateKey, {
      algorithm: 'RS256',
      header,
    });
    const exp = payload.exp;
    return { token, expiresOn: typeof exp === 'number' ? exp : expiresOn };
  };

  return {
    issue,
    mint: (identityName, mint) => issue(requireLocalIdentity(identityName), mint).token,
  };
}
