/**
 * Why a request was refused. The HTTP status and headers of each code are set in one place,
 * functions/auth/http-edge.ts; nothing here knows about HTTP.
 */
export type AuthErrorCode =
  // no usable token
  | 'missing_token'
  | 'token_too_large'
  | 'malformed_token'
  | 'unsupported_algorithm'
  | 'missing_key_id'
  | 'unknown_signing_key'
  | 'invalid_signature'
  | 'invalid_issuer'
  | 'invalid_audience'
  | 'invalid_tenant'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'missing_claim'
  // a valid token, but not for this caller
  | 'delegated_token'
  | 'caller_not_allowed'
  | 'client_not_allowed'
  | 'missing_role'
  // the signing keys could not be fetched
  | 'signing_keys_unavailable';

export interface AuthErrorOptions {
  /**
   * The failure behind the refusal, never sent to the client. The refusal note logs it for
   * `signing_keys_unavailable` only (functions/auth/refusal-note.ts).
   */
  cause?: unknown;
  /** Seconds after which a retry may succeed (the signing keys are unavailable). */
  retryAfterSeconds?: number;
  /** The token claim or header parameter at fault, for example `exp` or `kid`. */
  claim?: string;
}

/**
 * A refused request. `message` is safe to show to the client: it never contains the token or the
 * expected issuer, audience or caller values. Library errors are not passed on: jsonwebtoken's are
 * dropped, and jwks-rsa's become the app's own `JwksFetchError`, the `cause` of a 503.
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly retryAfterSeconds: number | undefined;
  readonly claim: string | undefined;

  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options: AuthErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.claim = options.claim;
  }
}

/** A setting of the `AUTH_*` configuration is missing or malformed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    /** The name of the setting at fault, for example `AUTH_TENANT_ID`. */
    readonly setting: string,
    /** Why it is wrong; never contains the value itself. */
    readonly reason: string,
  ) {
    super(`Setting ${setting} ${reason}`);
  }
}
