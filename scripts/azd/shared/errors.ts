/**
 * Why a hook stopped. Every failure a user can act on is a `HookError` with a stable `code` and a
 * message that says what to do; the message never contains a token or a key.
 */
export type HookErrorCode =
  | 'missing_setting'
  | 'invalid_setting'
  | 'credential_unavailable'
  | 'permission_denied'
  | 'service_error'
  | 'network_error'
  | 'invalid_response'
  | 'not_ours'
  | 'azd_failed'
  | 'usage';

export class HookError extends Error {
  override readonly name = 'HookError';

  constructor(
    readonly code: HookErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Normalises whatever was thrown into an `Error`. */
export { ensureError } from '../../../functions/lib/errors';
