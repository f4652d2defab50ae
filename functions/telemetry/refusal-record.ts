import type { InvocationContext } from '@azure/functions';
import { AuthError, ConfigError } from '../auth/errors';
import { EdgeCode, statusFor } from '../auth/http-edge';
import { formatRefusalNote } from '../auth/refusal-note';
import { tokenFactsOf } from './token-facts';

/** The value of `event` that marks a refusal record: queries filter on it (infra/queries/*.kql). */
export const REFUSAL_EVENT = 'auth_refusal';

/**
 * One answer the auth layer gave instead of the handler's: every refusal (401, 403, 503) and its
 * own failures (500). It is written as one log line holding only this JSON object, so that a query
 * can group it: the Node.js worker sends a log line to the Functions host as a message and nothing
 * else (no properties), and the host stores it as the `Message` of a trace (AppTraces), with the
 * invocation id in `Properties.InvocationId` and the request's operation id in `OperationId`
 * (azure-functions-host `GrpcWorkerChannel.Log`, azure-webjobs-sdk `ApplicationInsightsLogger`).
 * KQL reads it with `parse_json(Message)`.
 *
 * Every field is present, `null` when unknown. None can hold the token, a key or a header value:
 * codes, statuses, versions and setting names come from fixed sets, the object id must be a GUID,
 * and `why` is the refusal note's reason, written by the app's own code.
 */
export interface RefusalRecord {
  readonly event: typeof REFUSAL_EVENT;
  /** The reason code of the answer (docs/responses.md). */
  readonly code: EdgeCode;
  /** Its HTTP status. */
  readonly status: number;
  /** The Functions invocation id (the same as the refusal note's and the host's). */
  readonly invocationId: string;
  /** `ver` of a token whose signature verified, else null (functions/telemetry/token-facts.ts). */
  readonly tokenVersion: '1.0' | '2.0' | null;
  /** `oid` of a token whose signature verified, else null. */
  readonly callerObjectId: string | null;
  /** The claim or header parameter at fault, for example `exp` or `kid`, when the check names one. */
  readonly claim: string | null;
  /** The `AUTH_*` setting at fault of a `configuration_error`. */
  readonly setting: string | null;
  /** Why the signing keys were unavailable (a 503), as the refusal note says it. */
  readonly why: string | null;
}

/**
 * The record of the answer to `error`: an `AuthError` (a refusal), a `ConfigError` (the app is
 * misconfigured: `configuration_error`) or anything else token validation threw (`internal_error`).
 */
export function refusalRecord(error: unknown, invocationId: string): RefusalRecord {
  const code: EdgeCode =
    error instanceof AuthError
      ? error.code
      : error instanceof ConfigError
        ? 'configuration_error'
        : 'internal_error';
  const { tokenVersion, callerObjectId } = tokenFactsOf(error);
  return {
    event: REFUSAL_EVENT,
    code,
    status: statusFor(code),
    invocationId,
    tokenVersion,
    callerObjectId,
    claim: error instanceof AuthError ? (error.claim ?? null) : null,
    setting: error instanceof ConfigError ? error.setting : null,
    why: error instanceof AuthError ? whyOf(error, invocationId) : null,
  };
}

/**
 * Writes the record of the answer to `error` to the invocation's log: at warning level for a 4xx,
 * at error level for a 5xx.
 */
export function recordRefusal(context: InvocationContext, error: unknown): void {
  const record = refusalRecord(error, context.invocationId);
  const line = JSON.stringify(record);
  if (record.status >= 500) context.error(line);
  else context.warn(line);
}

/** The reason the refusal note gives after its invocation id, if any. */
function whyOf(error: AuthError, invocationId: string): string | null {
  const note = formatRefusalNote(error, invocationId);
  const head = `${formatRefusalNote(new AuthError(error.code, ''), invocationId)}: `;
  return note.startsWith(head) ? note.slice(head.length) : null;
}
