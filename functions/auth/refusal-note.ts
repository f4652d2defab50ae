import type { AuthError } from './errors';
import { JwksFetchError } from './signing-keys';

/**
 * The log line of a refused request: written once per refusal at warning level by the auth layer
 * (functions/auth/middleware.ts), and read back by the local host (scripts/local/host/refusal-note.ts),
 * which folds it into its one line per request. In Azure it is the function's own log line
 * (Application Insights traces), next to the host's line for the invocation.
 *
 *     Request refused: <code> (invocation <id>)
 *     Request refused: signing_keys_unavailable (invocation <id>): <why>
 *
 * `<why>` says why the signing keys were unavailable: a timeout, an HTTP error, a body that is
 * not JSON or holds no usable key, or a socket error code. It is written by this app's own code
 * (`JwksFetchError`), never copied from the token or the JWKS body. Other refusals carry no detail:
 * their code says it all, and anything more could echo the token.
 */
const PREFIX = 'Request refused: ';
const MAX_WHY_LENGTH = 200;

export function formatRefusalNote(error: AuthError, invocationId: string): string {
  const note = `${PREFIX}${error.code} (invocation ${invocationId})`;
  const why = whyUnavailable(error);
  return why === undefined ? note : `${note}: ${why}`;
}

function whyUnavailable(error: AuthError): string | undefined {
  if (error.code !== 'signing_keys_unavailable') return undefined;
  const cause = error.cause;
  if (cause instanceof JwksFetchError) return printable(cause.message);
  // A failure of another kind (a key provider of the caller's own, a listener that threw): its
  // name only, since its message was not written for the log.
  if (cause instanceof Error)
    return `the signing keys could not be read (${printable(cause.name)})`;
  return undefined;
}

/** One line of printable characters, at most MAX_WHY_LENGTH long. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return line.length > MAX_WHY_LENGTH ? `${line.slice(0, MAX_WHY_LENGTH - 1)}…` : line;
}
