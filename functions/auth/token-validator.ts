import jwt from 'jsonwebtoken';
import type { Caller } from './caller';
import { GUID } from '../lib/guid';
import type { AuthConfig } from './config';
import { AuthError } from './errors';
import type { SigningKeyProvider } from './signing-keys';

/** Largest accepted token. Entra access tokens are a few kilobytes; this leaves ample room. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
const MAX_KID_LENGTH = 256;
/** The largest time a JavaScript Date can hold, in seconds. */
const MAX_EPOCH_SECONDS = 8.64e12;
const BEARER = /^Bearer[ ]+(\S+)$/i;
const SCHEME = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:[ ]|$)/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

interface EntraClaims {
  tid?: unknown;
  oid?: unknown;
  azp?: unknown;
  appid?: unknown;
  roles?: unknown;
  scp?: unknown;
  idtyp?: unknown;
  ver?: unknown;
  iss?: unknown;
  exp?: unknown;
}

/**
 * Validates Entra ID access tokens issued to an allowed caller (API Management's managed identity):
 * header shape, RS256 signature by `kid`, issuer, audience, lifetime, tenant, object id, client id
 * and app role. Both v1 and v2 token shapes are understood.
 */
export class TokenValidator {
  constructor(
    private readonly config: AuthConfig,
    private readonly keys: SigningKeyProvider,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns the verified caller, or throws an `AuthError` saying why not. */
  async validate(authorization: string | null | undefined): Promise<Caller> {
    const token = bearerToken(authorization);
    const kid = signingKeyId(token);
    const key = await this.keys.getKey(kid);
    const claims = this.verify(token, key);
    return this.authorize(claims);
  }

  private verify(token: string, key: Parameters<typeof jwt.verify>[1]): EntraClaims {
    try {
      const payload = jwt.verify(token, key, {
        algorithms: ['RS256'],
        issuer: this.config.issuers as [string, ...string[]],
        audience: this.config.audiences as [string, ...string[]],
        clockTolerance: this.config.clockSkewSeconds,
        clockTimestamp: Math.floor(this.now() / 1000),
      });
      if (typeof payload !== 'object' || payload === null) {
        throw new AuthError('malformed_token', 'The token payload is not a JSON object.');
      }
      return payload;
    } catch (error) {
      throw toAuthError(error);
    }
  }

  private authorize(claims: EntraClaims): Caller {
    const { config } = this;
    if (typeof claims.exp !== 'number' || !(Math.abs(claims.exp) <= MAX_EPOCH_SECONDS)) {
      throw new AuthError('missing_claim', 'The token has no usable expiry (exp).');
    }
    const version = claims.ver;
    if (version !== '1.0' && version !== '2.0') {
      throw new AuthError('missing_claim', 'The token has no known version (ver).');
    }
    if (typeof claims.tid !== 'string' || claims.tid.toLowerCase() !== config.tenantId) {
      throw new AuthError('invalid_tenant', 'The token was issued by another tenant.');
    }
    if (claims.scp !== undefined || (claims.idtyp !== undefined && claims.idtyp !== 'app')) {
      throw new AuthError('delegated_token', 'Tokens issued on behalf of a user are not accepted.');
    }
    if (typeof claims.oid !== 'string' || !GUID.test(claims.oid)) {
      throw new AuthError('missing_claim', 'The token has no caller object id (oid).');
    }
    const objectId = claims.oid.toLowerCase();
    if (!config.allowedCallerObjectIds.has(objectId)) {
      throw new AuthError('caller_not_allowed', 'The caller is not allowed to call this API.');
    }
    const rawClientId = version === '2.0' ? claims.azp : claims.appid;
    const clientId = typeof rawClientId === 'string' ? rawClientId.toLowerCase() : undefined;
    if (config.allowedClientIds && (!clientId || !config.allowedClientIds.has(clientId))) {
      throw new AuthError('client_not_allowed', 'The calling application is not allowed.');
    }
    const roles = Array.isArray(claims.roles)
      ? claims.roles.filter((role): role is string => typeof role === 'string')
      : [];
    if (config.requiredRoles.length > 0 && !config.requiredRoles.some((r) => roles.includes(r))) {
      throw new AuthError('missing_role', 'The caller lacks the required app role.');
    }
    return {
      objectId,
      clientId,
      tenantId: config.tenantId,
      issuer: claims.iss as string,
      tokenVersion: version,
      roles,
      expiresAt: new Date(claims.exp * 1000),
    };
  }
}

/** Extracts the credential of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1). */
export function bearerToken(authorization: string | null | undefined): string {
  if (!authorization) {
    throw new AuthError('missing_token', 'A bearer token is required.');
  }
  if (authorization.length > MAX_TOKEN_LENGTH + 16) {
    throw new AuthError('token_too_large', 'The token is too large.');
  }
  const scheme = SCHEME.exec(authorization)?.[1];
  if (!scheme || scheme.toLowerCase() !== 'bearer') {
    throw new AuthError('missing_token', 'A bearer token is required.');
  }
  const token = BEARER.exec(authorization)?.[1];
  if (!token || token.includes(',')) {
    throw new AuthError(
      'malformed_token',
      'The Authorization header must hold exactly one bearer token.',
    );
  }
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new AuthError('token_too_large', 'The token is too large.');
  }
  return token;
}

/**
 * Checks the compact JWS form and the header before any key lookup: `alg` must be RS256 and `kid`
 * present, so that a token that could never verify costs no JWKS fetch.
 */
export function signingKeyId(token: string): string {
  const parts = token.split('.');
  const [encodedHeader] = parts;
  // The payload and signature are checked for form by jwt.verify (jws), which reads the whole
  // token anyway; here only what decides the key lookup is read.
  if (
    parts.length !== 3 ||
    !encodedHeader ||
    !BASE64URL.test(encodedHeader) ||
    !parts[1] ||
    !parts[2]
  ) {
    throw new AuthError('malformed_token', 'The token is not a signed JWT in compact form.');
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
  } catch {
    throw new AuthError('malformed_token', 'The token header is not valid JSON.');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new AuthError('malformed_token', 'The token header is not a JSON object.');
  }
  const { alg, kid, crit } = header as { alg?: unknown; kid?: unknown; crit?: unknown };
  if (alg !== 'RS256') {
    throw new AuthError('unsupported_algorithm', 'The token must be signed with RS256.');
  }
  if (crit !== undefined) {
    throw new AuthError('malformed_token', 'The token header has critical extensions.');
  }
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH) {
    throw new AuthError('missing_key_id', 'The token header has no key id (kid).');
  }
  return kid;
}

/** Maps jsonwebtoken's errors to codes; their messages (which name the expected values) stay in `cause`. */
function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof jwt.TokenExpiredError) {
    return new AuthError('token_expired', 'The token has expired.', { cause: error });
  }
  if (error instanceof jwt.NotBeforeError) {
    return new AuthError('token_not_yet_valid', 'The token is not valid yet.', { cause: error });
  }
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('jwt issuer invalid')) {
    return new AuthError('invalid_issuer', 'The token issuer is not accepted.', { cause: error });
  }
  if (message.startsWith('jwt audience invalid')) {
    return new AuthError('invalid_audience', 'The token audience is not accepted.', {
      cause: error,
    });
  }
  if (message === 'invalid signature') {
    return new AuthError('invalid_signature', 'The token signature is invalid.', { cause: error });
  }
  return new AuthError('malformed_token', 'The token could not be verified.', { cause: error });
}
