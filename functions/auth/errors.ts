/** Why a request was refused. Each code maps to exactly one HTTP status (see `statusFor`). */
export type AuthErrorCode =
  // 401: no usable token
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
  // 403: a valid token, but not for this caller
  | 'delegated_token'
  | 'caller_not_allowed'
  | 'client_not_allowed'
  | 'missing_role'
  // 503: the signing keys could not be fetched
  | 'signing_keys_unavailable';

const FORBIDDEN: ReadonlySet<AuthErrorCode> = new Set([
  'delegated_token',
  'caller_not_allowed',
  'client_not_allowed',
  'missing_role',
]);

/** The HTTP status for a refusal: 401 bad or missing token, 403 caller not allowed, 503 keys unavailable. */
export function statusFor(code: AuthErrorCode): 401 | 403 | 503 {
  if (code === 'signing_keys_unavailable') return 503;
  return FORBIDDEN.has(code) ? 403 : 401;
}

/**
 * A refused request. `message` is safe to show to the client: it never contains the token or the
 * expected issuer, audience or caller values. Library errors are kept as `cause`, for debugging only.
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly status: 401 | 403 | 503;

  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = statusFor(code);
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  /** With 503: seconds after which a retry may succeed. */
  readonly retryAfterSeconds: number | undefined;
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

/** Normalises anything thrown into an `Error`. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : `Non-error thrown: ${typeof value}`, {
    cause: value,
  });
}
