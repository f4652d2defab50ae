import { KeyObject, verify } from 'node:crypto';
import { GUID } from '../lib/guid';
import type { Caller } from './caller';
import type { AuthConfig } from './config';
import { AuthError } from './errors';
import { readCompactJws } from './jws';
import type { SigningKeyProvider } from './signing-keys';
import { attachTokenFacts } from '../telemetry/token-facts';
import { VerifiedToken, VerifiedTokenCache } from './verified-tokens';

export { MAX_KID_LENGTH } from './jws';

/** Largest accepted token. Entra access tokens are a few kilobytes; this leaves ample room. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
/** The largest time a JavaScript Date can hold, in seconds. */
const MAX_EPOCH_SECONDS = 8.64e12;

type Claims = Readonly<Record<string, unknown>>;

/**
 * Validates Entra ID access tokens issued to an allowed caller (API Management's managed identity):
 * the compact form (jws.ts), the RS256 signature by `kid`, lifetime, issuer, audience, tenant,
 * object id, client id and app role. Both v1 and v2 token shapes are understood. A token that
 * passed every check is kept in a bounded cache (verified-tokens.ts), so that the token API
 * Management reuses for hours costs a lookup and a clock check instead of an RSA verification.
 */
export class TokenValidator {
  private readonly cache = new VerifiedTokenCache();

  constructor(
    private readonly config: AuthConfig,
    private readonly keys: SigningKeyProvider,
    private readonly now: () => number = Date.now,
  ) {
    keys.onKeysChanged?.((current) => this.cache.retainSignedBy(current));
  }

  /** Returns the verified caller, or throws an `AuthError` saying why not. */
  async validate(authorization: string | null | undefined): Promise<Caller> {
    const token = bearerToken(authorization);
    const cached = this.cache.get(token);
    if (cached) {
      if (this.keys.currentKey(cached.kid) === cached.key) {
        try {
          checkLifetime(cached.notBefore, cached.expires, this.nowSeconds(), this.config);
        } catch (error) {
          this.cache.delete(token);
          // Refusal telemetry (functions/telemetry/token-facts.ts): the verified token's caller.
          throw attachTokenFacts(error, {
            ver: cached.caller.tokenVersion,
            oid: cached.caller.objectId,
          });
        }
        return copyOf(cached.caller);
      }
      // Its key was replaced without an announcement: forget it, as the announcement would have.
      this.cache.delete(token);
    }

    const jws = readCompactJws(token);
    const key = await this.keys.getKey(jws.kid);
    if (!verifies(jws.signingInput, key, jws.signature)) {
      throw new AuthError('invalid_signature', 'The token signature is invalid.');
    }
    const claims = jws.payload;
    let caller: Caller;
    let notBefore: number, expires: number;
    try {
      ({ notBefore, expires } = timeClaims(claims));
      checkLifetime(notBefore, expires, this.nowSeconds(), this.config);
      this.checkAudienceAndIssuer(claims);
      caller = this.authorize(claims, expires);
    } catch (error) {
      // Refusal telemetry (functions/telemetry/token-facts.ts): the signature verified, so the
      // record may name the token's version and caller.
      throw attachTokenFacts(error, claims);
    }
    const entry: VerifiedToken = { caller, kid: jws.kid, key, notBefore, expires };
    this.cache.set(token, entry);
    return copyOf(caller);
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private checkAudienceAndIssuer(claims: Claims): void {
    // `includes` compares with ===, so a claim value that is not a string matches nothing.
    const audiences: readonly unknown[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const accepted: readonly unknown[] = this.config.audiences;
    if (!audiences.some((aud) => accepted.includes(aud))) {
      throw new AuthError('invalid_audience', 'The token audience is not accepted.', {
        claim: 'aud',
      });
    }
    const issuers: readonly unknown[] = this.config.issuers;
    if (!issuers.includes(claims.iss)) {
      throw new AuthError('invalid_issuer', 'The token issuer is not accepted.', { claim: 'iss' });
    }
  }

  private authorize(claims: Claims, expires: number): Caller {
    const { config } = this;
    const version = claims.ver;
    if (version !== '1.0' && version !== '2.0') {
      throw new AuthError('missing_claim', 'The token has no known version (ver).', {
        claim: 'ver',
      });
    }
    if (typeof claims.tid !== 'string' || claims.tid.toLowerCase() !== config.tenantId) {
      throw new AuthError('invalid_tenant', 'The token was issued by another tenant.', {
        claim: 'tid',
      });
    }
    if (claims.scp !== undefined || (claims.idtyp !== undefined && claims.idtyp !== 'app')) {
      throw new AuthError(
        'delegated_token',
        'Tokens issued on behalf of a user are not accepted.',
        {
          claim: claims.scp !== undefined ? 'scp' : 'idtyp',
        },
      );
    }
    if (typeof claims.oid !== 'string' || !GUID.test(claims.oid)) {
      throw new AuthError('missing_claim', 'The token has no caller object id (oid).', {
        claim: 'oid',
      });
    }
    const objectId = claims.oid.toLowerCase();
    if (!config.allowedCallerObjectIds.has(objectId)) {
      throw new AuthError('caller_not_allowed', 'The caller is not allowed to call this API.', {
        claim: 'oid',
      });
    }
    const clientClaim = version === '2.0' ? 'azp' : 'appid';
    const rawClientId = claims[clientClaim];
    const clientId = typeof rawClientId === 'string' ? rawClientId.toLowerCase() : undefined;
    if (config.allowedClientIds && (!clientId || !config.allowedClientIds.has(clientId))) {
      throw new AuthError('client_not_allowed', 'The calling application is not allowed.', {
        claim: clientClaim,
      });
    }
    const roles = Array.isArray(claims.roles)
      ? (claims.roles as unknown[]).filter((role): role is string => typeof role === 'string')
      : [];
    if (config.requiredRoles.length > 0 && !config.requiredRoles.some((r) => roles.includes(r))) {
      throw new AuthError('missing_role', 'The caller lacks the required app role.', {
        claim: 'roles',
      });
    }
    return Object.freeze({
      objectId,
      clientId,
      tenantId: config.tenantId,
      issuer: claims.iss as string,
      tokenVersion: version,
      roles: Object.freeze(roles),
      expiresAt: new Date(expires * 1000),
    });
  }
}

/** A caller of its own for each request: a handler that changes it changes nothing else. */
function copyOf(caller: Caller): Caller {
  return { ...caller, expiresAt: new Date(caller.expiresAt.getTime()) };
}

function verifies(signingInput: Buffer, key: KeyObject, signature: Buffer): boolean {
  let valid = false;
  try {
    // RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 section 3.3), Node's default RSA padding.
    valid = verify('sha256', signingInput, key, signature);
  } catch {
    // A key that cannot verify RS256 (one that is not RSA): the signature stays invalid.
  }
  return valid;
}

/**
 * `nbf`, `exp` and `iat` are NumericDates (RFC 7519 section 2) when present; `exp` is required and
 * must fit a date; `nbf` may not be after `exp` (Microsoft.IdentityModel refuses that too, IDX12401).
 */
function timeClaims(claims: Claims): { notBefore: number; expires: number } {
  for (const claim of ['nbf', 'exp', 'iat'] as const) {
    const value = claims[claim];
    // Number.isFinite is false for anything that is not a number (it does not convert).
    if (value !== undefined && !Number.isFinite(value)) {
      throw new AuthError('malformed_token', `The token claim ${claim} is not a number.`, {
        claim,
      });
    }
  }
  // Finite numbers when present (checked above); a token without nbf is valid from any time.
  const expires = claims.exp as number | undefined;
  if (expires === undefined || Math.abs(expires) > MAX_EPOCH_SECONDS) {
    throw new AuthError('missing_claim', 'The token has no usable expiry (exp).', { claim: 'exp' });
  }
  const notBefore = (claims.nbf as number | undefined) ?? -Infinity;
  if (notBefore > expires) {
    throw new AuthError('malformed_token', 'The token is not valid before it expires.', {
      claim: 'nbf',
    });
  }
  return { notBefore, expires };
}

/** `nbf` and `exp` against the clock, with the configured skew either way. */
function checkLifetime(
  notBefore: number,
  expires: number,
  nowSeconds: number,
  config: AuthConfig,
): void {
  const skew = config.clockSkewSeconds;
  if (notBefore > nowSeconds + skew) {
    throw new AuthError('token_not_yet_valid', 'The token is not valid yet.', { claim: 'nbf' });
  }
  if (nowSeconds >= expires + skew) {
    throw new AuthError('token_expired', 'The token has expired.', { claim: 'exp' });
  }
}

/**
 * Extracts the credential of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1): the
 * scheme in any case, one or more spaces, then one token. What follows the spaces is the token as
 * sent; anything in it that is not base64url (white space, a comma, a second token) fails the
 * strict reading in jws.ts, and a cache lookup on it finds nothing.
 */
export function bearerToken(authorization: string | null | undefined): string {
  if (!authorization) {
    throw new AuthError('missing_token', 'A bearer token is required.');
  }
  if (authorization.length > MAX_TOKEN_LENGTH + 16) {
    throw new AuthError('token_too_large', 'The token is too large.');
  }
  const space = authorization.indexOf(' ');
  const scheme = space === -1 ? authorization : authorization.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') {
    throw new AuthError('missing_token', 'A bearer token is required.');
  }
  let start = space + 1;
  while (authorization.charCodeAt(start) === 0x20) start += 1;
  if (space === -1 || start >= authorization.length) {
    throw new AuthError(
      'malformed_token',
      'The Authorization header must hold exactly one bearer token.',
    );
  }
  const token = authorization.slice(start);
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new AuthError('token_too_large', 'The token is too large.');
  }
  return token;
}
