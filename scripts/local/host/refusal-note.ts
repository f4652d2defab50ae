/**
 * Reads back the auth layer's refusal note (functions/auth/refusal-note.ts writes it), so that the
 * built-in host can fold it into its one line per request:
 *
 *     Request refused: <code> (invocation <id>)
 *     Request refused: signing_keys_unavailable (invocation <id>): <why>
 */
export interface RefusalNote {
  /** The reason code (functions/auth/errors.ts), as written. */
  readonly code: string;
  readonly invocationId: string;
  readonly why?: string;
}

const NOTE = /^Request refused: ([a-z][a-z0-9_]{0,63}) \(invocation ([^()\s]{1,128})\)(?:: (.+))?$/;

/** The note in `line`, when `line` is one, else undefined. */
export function parseRefusalNote(line: string): RefusalNote | undefined {
  const match = NOTE.exec(line);
  if (!match) return undefined;
  const [, code, invocationId, why] = match;
  return { code: code!, invocationId: invocationId!, why };
}
