import type { KeyObject } from 'node:crypto';
import type { Caller } from './caller';

/**
 * How many verified tokens are kept. API Management holds one managed identity token per identity
 * and reuses it for up to about a day, so a few entries serve nearly every request; 256 leaves
 * room for several gateways and token renewals. Each entry holds the token text (at most
 * MAX_TOKEN_LENGTH, 8 KiB) and a small caller record, so the cache stays under about 2.5 MiB.
 */
export const MAX_VERIFIED_TOKENS = 256;

/** What a full validation established about one token. */
export interface VerifiedToken {
  /** The caller the validation returned; frozen, so no handler can change what later hits get. */
  readonly caller: Caller;
  /** The signing key that verified the signature, and the `kid` it was published under. */
  readonly kid: string;
  readonly key: KeyObject;
  /** `nbf` and `exp`, in seconds; `notBefore` is -Infinity for a token without `nbf`. */
  readonly notBefore: number;
  readonly expires: number;
}

/**
 * The part of a token the map is indexed by: its last characters, which are signature (an RSA
 * signature is 342 characters). Hashing a whole token for every lookup would cost more than the
 * rest of a hit; the index only finds the candidate, and a hit needs the whole text to be equal.
 */
const INDEX_LENGTH = 32;

interface Stored extends VerifiedToken {
  readonly token: string;
}

/**
 * Tokens that passed every check, keyed by their exact text, least recently used first out. The
 * security argument (docs/token-validation.md):
 *
 * - A hit needs the whole token to equal, as a string, one that was verified: these exact bytes,
 *   signature included. A different spelling of the same token cannot hit, and cannot validate
 *   either (the parser accepts one spelling only). Two tokens that share the indexed suffix only
 *   displace each other; neither is ever answered with the other's entry.
 * - Only fully successful validations are stored (the validator adds an entry after its last
 *   check), so a refusal is never remembered and a bad token is always checked in full.
 * - What a hit re-checks is exactly what can change while the token text cannot: the clock (`exp`
 *   and `nbf`, with the configured skew) and the signing keys (the key must still be the one
 *   published under the token's `kid`). Everything else the validation checked depends on the
 *   token and the configuration only, and both are fixed for the life of the cache.
 * - A JWKS refresh that drops or replaces a key evicts the entries that key verified.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Stored>();

  constructor(private readonly maxEntries = MAX_VERIFIED_TOKENS) {}

  get size(): number {
    return this.entries.size;
  }

  get(token: string): VerifiedToken | undefined {
    const index = token.slice(-INDEX_LENGTH);
    const entry = this.entries.get(index);
    if (entry?.token !== token) return undefined;
    // Most recently used last.
    this.entries.delete(index);
    this.entries.set(index, entry);
    return entry;
  }

  set(token: string, entry: VerifiedToken): void {
    const index = token.slice(-INDEX_LENGTH);
    this.entries.delete(index);
    // A copy of its own: the token may be a slice of a longer string (the header, or more), which
    // would otherwise stay in memory with it and break the bound stated above. A UTF-8 round trip
    // gives back every string that is well-formed UTF-16, and tokens are ASCII.
    this.entries.set(index, { ...entry, token: Buffer.from(token).toString() });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  delete(token: string): void {
    const index = token.slice(-INDEX_LENGTH);
    if (this.entries.get(index)?.token === token) this.entries.delete(index);
  }

  /** Drops every entry whose key is no longer the one published under its `kid`. */
  retainSignedBy(current: ReadonlyMap<string, KeyObject>): void {
    for (const [index, entry] of this.entries) {
      if (current.get(entry.kid) !== entry.key) this.entries.delete(index);
    }
  }
}
