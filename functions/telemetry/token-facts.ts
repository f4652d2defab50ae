import { GUID } from '../lib/guid';

/**
 * What a refusal record may say about the token (functions/telemetry/refusal-record.ts): its
 * version and its caller's object id, read from claims the validator had already parsed and whose
 * signature had verified. A token that failed before that (malformed, unknown key, bad signature)
 * has no facts: anyone can write any `oid` into an unsigned token, and a record must not name a
 * caller who never called.
 */
export interface TokenFacts {
  /** `ver`, when it is one of the versions Entra ID issues. */
  readonly tokenVersion: '1.0' | '2.0' | null;
  /** `oid` in lower case, when it is a GUID. */
  readonly callerObjectId: string | null;
}

const facts = new WeakMap<object, TokenFacts>();

/**
 * Notes, beside `error`, the version and caller of the verified token it refuses, and returns
 * `error` (for `throw attachTokenFacts(error, claims)`). Only `ver` and `oid` are read, and only
 * kept in the shape Entra ID writes them; nothing is parsed again.
 */
export function attachTokenFacts(
  error: unknown,
  claims: Readonly<{ ver?: unknown; oid?: unknown }>,
): unknown {
  if (typeof error === 'object' && error !== null) {
    const { ver, oid } = claims;
    facts.set(error, {
      tokenVersion: ver === '1.0' || ver === '2.0' ? ver : null,
      callerObjectId: typeof oid === 'string' && GUID.test(oid) ? oid.toLowerCase() : null,
    });
  }
  return error;
}

/** The facts noted beside `error`, or none. */
export function tokenFactsOf(error: unknown): TokenFacts {
  const noted = typeof error === 'object' && error !== null ? facts.get(error) : undefined;
  return noted ?? { tokenVersion: null, callerObjectId: null };
}
