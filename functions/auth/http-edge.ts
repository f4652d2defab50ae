import type { HttpResponseInit } from '@azure/functions';
import { problem } from '../lib/problem';
import type { AuthError, AuthErrorCode, ConfigError } from './errors';

/** Every answer the auth layer gives instead of the handler's: the refusals and its own failures. */
export type EdgeCode = AuthErrorCode | 'configuration_error' | 'internal_error';

interface Answer {
  readonly status: 401 | 403 | 500 | 503;
  /** Response headers for this code; `detail` is the client-safe message. */
  readonly headers: (
    detail: string,
    retryAfterSeconds: number | undefined,
  ) => Record<string, string>;
}

/** RFC 6750 section 3: a challenge without an error when no credential was sent at all. */
const challenge = (): Record<string, string> => ({ 'WWW-Authenticate': 'Bearer' });
/** RFC 6750 section 3.1: `invalid_token` for a token that is expired, revoked, malformed or invalid. */
const invalidToken = (detail: string): Record<string, string> => ({
  'WWW-Authenticate': `Bearer error="invalid_token", error_description="${detail}"`,
});
/** RFC 6750 section 3.1: `insufficient_scope` for a valid token that lacks the privileges. */
const insufficientScope = (): Record<string, string> => ({
  'WWW-Authenticate': 'Bearer error="insufficient_scope"',
});
// Stryker disable next-line ArrowFunction: problem() adds no header for an undefined set either.
const none = (): Record<string, string> => ({});

const UNAUTHORIZED: Answer = { status: 401, headers: invalidToken };
const FORBIDDEN: Answer = { status: 403, headers: insufficientScope };

/** The one table from code to HTTP status and headers. */
export const ANSWERS: Readonly<Record<EdgeCode, Answer>> = {
  missing_token: { status: 401, headers: challenge },
  token_too_large: UNAUTHORIZED,
  malformed_token: UNAUTHORIZED,
  unsupported_algorithm: UNAUTHORIZED,
  missing_key_id: UNAUTHORIZED,
  unknown_signing_key: UNAUTHORIZED,
  invalid_signature: UNAUTHORIZED,
  invalid_issuer: UNAUTHORIZED,
  invalid_audience: UNAUTHORIZED,
  invalid_tenant: UNAUTHORIZED,
  token_expired: UNAUTHORIZED,
  token_not_yet_valid: UNAUTHORIZED,
  missing_claim: UNAUTHORIZED,
  delegated_token: FORBIDDEN,
  caller_not_allowed: FORBIDDEN,
  client_not_allowed: FORBIDDEN,
  missing_role: FORBIDDEN,
  signing_keys_unavailable: {
    status: 503,
    headers: (_detail, retryAfterSeconds) => ({ 'Retry-After': String(retryAfterSeconds ?? 5) }),
  },
  configuration_error: { status: 500, headers: none },
  internal_error: { status: 500, headers: none },
};

/** The HTTP status of a code. */
export function statusFor(code: EdgeCode): 401 | 403 | 500 | 503 {
  return ANSWERS[code].status;
}

function answer(code: EdgeCode, detail: string, retryAfterSeconds?: number): HttpResponseInit {
  const { status, headers } = ANSWERS[code];
  return problem(status, code, detail, headers(detail, retryAfterSeconds));
}

/** A refused request: 401 with an RFC 6750 challenge, 403 for a caller not allowed, 503 with Retry-After. */
export function refusal(error: AuthError): HttpResponseInit {
  return answer(error.code, error.message, error.retryAfterSeconds);
}

/** The `AUTH_*` settings are wrong: every request gets this, naming the setting (never its value). */
export function misconfigured(error: ConfigError): HttpResponseInit {
  return answer('configuration_error', `The app is misconfigured: ${error.message}`);
}

/** Validation or the handler failed unexpectedly: a generic body, the details stay in the log. */
export function internalError(): HttpResponseInit {
  return answer('internal_error', 'The request could not be processed.');
}
