import { jwt, type VerifyOptions } from './libraries';
import { GUID } from '../lib/guid';
import type { Caller } from './caller';
import type { AuthConfig } from './config';
import { AuthError } from './errors';
import { readCompactJws } from './jws';
import type { SigningKeyProvider } from './signing-keys';
import { attachTokenFacts } from '../telemetry/token-facts';

export { MAX_KID_LENGTH } from './jws';

/** Largest accepted token. Entra access tokens are a few kilobytes; this leaves ample room. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
/** The largest time a JavaScript Date can hold, in seconds. */
const MAX_EPOCH_SECONDS = 8.64e12;

type Claims = Readonly<Record<string, unknown>>;

/**
 * Validates Entra ID access tokens issued to an allowed caller (API Management's managed identity).
 * Both v1 and v2 token shapes are understood. Who checks what, in the order the checks run (the
 * same table is in docs/token-validation.md):
 *
 * | check                                                                 | by           |
 * | --------------------------------------------------------------------- | ------------ |
 * | `Authorization: Bearer`, one token, at most 8 KiB                     | this app     |
 * | three segments, canonical base64url, UTF-8, JSON objects (jws.ts)     | this app     |
 * | `alg` RS256, no `crit`, `kid` present and at most 256 characters      | this app     |
 * | `nbf`/`exp`/`iat` numbers, `exp` present, `nbf` not after `exp`       | this app     |
 * | fetch and cache the JWKS, key by `kid`, rate limit, stale fallback    | jwks-rsa     |
 * | unknown `kid`s spaced by a cooldown, every lookup bounded in time     | this app     |
 * | key is RSA, at least 2048 bits, published for RS256 (signing-keys.ts) | this app     |
 * | RS256 signature (`algorithms: ['RS256']`)                             | jsonwebtoken |
 * | `nbf` and `exp` against the clock, with the configured skew           | jsonwebtoken |
 * | `aud` one of the audiences, `iss` one of the issuers                  | jsonwebtoken |
 * | `ver`, `tid`, no delegated token, `oid`, `azp`/`appid`, `roles`       | this app     |
 *
 * jsonwebtoken's errors name the expected audience and issuer: they are replaced by this app's own
 * `AuthError` and not kept, so that neither a response nor a log line can carry them.
 */
export class TokenValidator {
  /** jsonwebtoken's options; `clockTimestamp` is set on each call. */
  private readonly verifyOptions: VerifyOptions;

  constructor(
    private readonly config: AuthConfig,
    private readonly keys: SigningKeyProvider,
    private readonly now: () => number = Date.now,
  ) {
    // Both lists hold at least one entry (config.ts refuses an empty setting).
    this.verifyOptions = {
      algorithms: ['RS256'],
      audience: config.audiences as [string, ...string[]],
      issuer: config.issuers as [string, ...string[]],
      clockTolerance: config.clockSkewSeconds,
    };
  }

  /** Returns the verified caller, or throws an `AuthError` saying why not. */
  async validate(authorization: string | null | undefined): Promise<Caller> {
    const token = bearerToken(authorization);
    const { kid, payload } = readCompactJws(token);
    const expires = checkTimeClaims(payload);
    const key = await this.keys.getKey(kid);
    try {
      jwt.verify(token, key, {
        ...this.verifyOptions,
        clockTimestamp: Math.floor(this.now() / 1000),
      });
    } catch (error) {
      const refusal = fromLibrary(error);
      // jsonwebtoken checks the lifetime, audience and issuer only after the signature verified
      // (verify.js), so those refusals may name the token's version and caller in the refusal
      // record (functions/telemetry/token-facts.ts); a bad signature names nothing.
      throw refusal.code === 'invalid_signature' ? refusal : attachTokenFacts(refusal, payload);
    }
    try {
      return this.authorize(payload, expires);
    } catch (error) {
      // The signature verified: the refusal record may name the token's version and caller.
      throw attachTokenFacts(error, payload);
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
    const { oid } = claims;
    // The allowed ids are GUIDs in lower case (config.ts), and no character but those of a GUID
    // lower-cases into them: an allowed oid is a GUID, so the pattern only tells refusals apart.
    if (typeof oid !== 'string' || !config.allowedCallerObjectIds.has(oid.toLowerCase())) {
      if (typeof oid !== 'string' || !GUID.test(oid)) {
        throw new AuthError('missing_claim', 'The token has no caller object id (oid).', {
          claim: 'oid',
        });
      }
      throw new AuthError('caller_not_allowed', 'The caller is not allowed to call this API.', {
        claim: 'oid',
      });
    }
    const objectId = oid.toLowerCase();
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
    return {
      objectId,
      clientId,
      tenantId: config.tenantId,
      issuer: claims.iss as string,
      tokenVersion: version,
      roles,
      expiresAt: new Date(expires * 1000),
    };
  }
}

/**
 * `nbf`, `exp` and `iat` are NumericDates (RFC 7519 section 2) when present; `exp` is required and
 * must fit a date (jsonwebtoken checks `exp` only when present); `nbf` may not be after `exp`
 * (Microsoft.IdentityModel refuses that too, IDX12401). Returns `exp`.
 */
function checkTimeClaims(claims: Claims): number {
  for (const claim of ['nbf', 'exp', 'iat'] as const) {
    const value = claims[claim];
    // Number.isFinite is false for anything that is not a number (it does not convert).
    if (value !== undefined && !Number.isFinite(value)) {
      throw new AuthError('malformed_token', `The token claim ${claim} is not a number.`, {
        claim,
      });
    }
  }
  const expires = claims.exp as number | undefined;
  if (expires === undefined || Math.abs(expires) > MAX_EPOCH_SECONDS) {
    throw new AuthError('missing_claim', 'The token has no usable expiry (exp).', { claim: 'exp' });
  }
  if ((claims.nbf as number | undefined)! > expires) {
    throw new AuthError('malformed_token', 'The token is not valid before it expires.', {
      claim: 'nbf',
    });
  }
  return expires;
}

/**
 * jsonwebtoken's refusal as this app's own. By the time jsonwebtoken runs, the form, the header
 * and the time claims' types were checked here, so what is left for it to refuse is the lifetime
 * against the clock, the audience, the issuer (jsonwebtoken 9.0.3 verify.js), and the signature:
 * a wrong one, or a key that cannot verify RS256 (jsonwebtoken refuses an RS256 token with a key
 * that is not RSA before it verifies).
 */
function fromLibrary(error: unknown): AuthError {
  if (error instanceof jwt.TokenExpiredError) {
    return new AuthError('token_expired', 'The token has expired.', { claim: 'exp' });
  }
  if (error instanceof jwt.NotBeforeError) {
    return new AuthError('token_not_yet_valid', 'The token is not valid yet.', { claim: 'nbf' });
  }
  const message = (error as Error).message;
  if (message.startsWith('jwt audience invalid')) {
    return new AuthError('invalid_audience', 'The token audience is not accepted.', {
      claim: 'aud',
    });
  }
  if (message.startsWith('jwt issuer invalid')) {
    return new AuthError('invalid_issuer', 'The token issuer is not accepted.', { claim: 'iss' });
  }
  return new AuthError('invalid_signature', 'The token signature is invalid.');
}

/**
 * Extracts the credential of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1): the
 * scheme in any case, one or more spaces, then one token. What follows the spaces is the token as
 * sent; anything in it that is not base64url (white space, a comma, a second token) fails the
 * strict reading in jws.ts.
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
