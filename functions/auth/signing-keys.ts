import { createPublicKey, JsonWebKey, KeyObject } from 'node:crypto';
import { ensureError } from '../lib/errors';
import { AuthError } from './errors';
import { fetchJwks, JwksFetchError } from './jwks-fetch';

export interface SigningKeyStoreOptions {
  /** Where the signing keys are published (JWKS). */
  jwksUri: string;
  /** Upper bound for one JWKS fetch, body included. */
  fetchTimeoutMs?: number;
  /** Upper bound for the JWKS body. */
  maxResponseBytes?: number;
  /** Keys older than this are refetched in the background (Microsoft rotates keys; refetch at least daily). */
  refreshIntervalMs?: number;
  /** After a successful fetch, an unknown `kid` triggers no new fetch for this long. */
  unknownKeyCooldownMs?: number;
  /** After a failed fetch, no new fetch for this long; requests get 503 with Retry-After meanwhile. */
  failureCooldownMs?: number;
  now?: () => number;
}

/** Anything that resolves a `kid` to a public key; the validator depends on this only. */
export interface SigningKeyProvider {
  /** The key published under `kid`, fetching the key set when `kid` is not known yet. */
  getKey(kid: string): Promise<KeyObject>;
  /**
   * The key published under `kid` now, without waiting (undefined when there is none): what a
   * cache hit checks. The same `KeyObject` is returned as long as the published key is unchanged.
   */
  currentKey(kid: string): KeyObject | undefined;
  /** Registers a listener called with the new key set after each refresh that changed it. */
  onKeysChanged?(listener: (keys: ReadonlyMap<string, KeyObject>) => void): void;
}

const DEFAULTS = {
  fetchTimeoutMs: 5_000,
  maxResponseBytes: 256 * 1024,
  refreshIntervalMs: 6 * 60 * 60 * 1000,
  unknownKeyCooldownMs: 10_000,
  failureCooldownMs: 5_000,
};

const MIN_RSA_MODULUS_BITS = 2048;

/**
 * The signing keys of one issuer, fetched from its JWKS and kept as parsed `KeyObject`s.
 *
 * - Keys are cached by `kid` and parsed once (parsing a PEM per request costs most of a verify).
 * - All concurrent lookups share one fetch; each fetch is bounded by `fetchTimeoutMs`.
 * - An unknown `kid` triggers at most one fetch, and fetches for unknown `kid`s are spaced by
 *   `unknownKeyCooldownMs`: a flood of tokens with random `kid`s costs one fetch, not one each.
 * - Stale keys are refreshed in the background; while a refresh fails, known keys keep working.
 * - A key that is published unchanged keeps its `KeyObject` across refreshes; listeners hear of
 *   every refresh that drops, adds or replaces a key (the cache of verified tokens evicts then).
 * - Keys are imported with Node's own JWK support; the first fetch can start when the app starts
 *   (`prefetch`), so that the first request does not wait for it.
 */
export class SigningKeyStore implements SigningKeyProvider {
  private readonly options: Required<Omit<SigningKeyStoreOptions, 'jwksUri' | 'now'>>;
  private readonly now: () => number;
  private readonly jwksUri: string;
  private readonly listeners: ((keys: ReadonlyMap<string, KeyObject>) => void)[] = [];
  private keys = new Map<string, KeyObject>();
  private inFlight: Promise<void> | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastSuccessAt = Number.NEGATIVE_INFINITY;
  /**
   * Why the last attempt failed, undefined when it succeeded (or none was made): it is the `cause`
   * of the 503, which the refusal note logs.
   */
  private lastFailure: Error | undefined;

  constructor(options: SigningKeyStoreOptions) {
    const { jwksUri: _uri, now, ...limits } = options;
    this.options = { ...DEFAULTS, ...withoutUndefined(limits) };
    this.now = now ?? Date.now;
    this.jwksUri = options.jwksUri;
  }

  /**
   * Starts the first fetch in the background, within the same rules as any other fetch: right
   * after the current task (the app's loading) ends, so that loading does not wait for it.
   */
  prefetch(): void {
    setImmediate(() => {
      if (this.keys.size === 0 && this.mayFetch()) void this.refresh().catch(() => undefined);
    });
  }

  onKeysChanged(listener: (keys: ReadonlyMap<string, KeyObject>) => void): void {
    this.listeners.push(listener);
  }

  currentKey(kid: string): KeyObject | undefined {
    this.keepFresh();
    return this.keys.get(kid);
  }

  async getKey(kid: string): Promise<KeyObject> {
    const known = this.currentKey(kid);
    if (known) return known;

    // Wait for the fetch in flight, or start one when the cooldown allows.
    if (this.inFlight || this.mayFetch()) await this.refresh().catch(() => undefined);

    const key = this.keys.get(kid);
    if (key) return key;
    if (this.lastFailure) {
      throw new AuthError('signing_keys_unavailable', 'The signing keys could not be fetched.', {
        retryAfterSeconds: this.retryAfterSeconds(),
        cause: this.lastFailure,
      });
    }
    throw new AuthError('unknown_signing_key', 'The token is signed with an unknown key.');
  }

  /** Keys older than the refresh interval are refetched in the background; lookups do not wait. */
  private keepFresh(): void {
    if (this.now() - this.lastSuccessAt > this.options.refreshIntervalMs && this.mayFetch()) {
      void this.refresh().catch(() => undefined);
    }
  }

  /**
   * Whether the cooldown since the last attempt has passed. A fetch in flight needs no check of its
   * own: `refresh` hands it to every caller rather than starting another.
   */
  private mayFetch(): boolean {
    const cooldown = this.lastFailure
      ? this.options.failureCooldownMs
      : this.options.unknownKeyCooldownMs;
    return this.now() - this.lastAttemptAt >= cooldown;
  }

  private retryAfterSeconds(): number {
    const wait = this.lastAttemptAt + this.options.failureCooldownMs - this.now();
    return Math.max(1, Math.ceil(wait / 1000));
  }

  private refresh(): Promise<void> {
    this.inFlight ??= this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttemptAt = this.now();
    try {
      const jwks = await fetchJwks(
        this.jwksUri,
        this.options.fetchTimeoutMs,
        this.options.maxResponseBytes,
      );
      const keys = new Map<string, KeyObject>();
      for (const jwk of jwks.keys) {
        const found = toRsaKey(jwk);
        if (!found) continue;
        const previous = this.keys.get(found.kid);
        keys.set(found.kid, previous?.equals(found.key) ? previous : found.key);
      }
      if (keys.size === 0) {
        throw new JwksFetchError(
          `the JWKS holds no usable signing key (of ${jwks.keys.length}: RSA, RS256, ${MIN_RSA_MODULUS_BITS} bits or more)`,
        );
      }
      const changed =
        keys.size !== this.keys.size || [...keys].some(([kid, key]) => this.keys.get(kid) !== key);
      this.keys = keys;
      this.lastSuccessAt = this.now();
      this.lastFailure = undefined;
      if (changed) for (const listener of this.listeners) listener(keys);
    } catch (error) {
      this.lastFailure = ensureError(error);
      throw this.lastFailure;
    }
  }
}

/**
 * A JWKS entry as an RS256 verification key, or undefined when it is not one. The entries kept
 * are those jwks-rsa and WebCrypto would import as public RSA signature keys (RFC 7517 section 4:
 * `use` absent or `sig`, `key_ops` absent or with `verify`, no private member `d`), and of those,
 * keys with a `kid`, no `alg` other than RS256 and a modulus of at least 2048 bits (Microsoft.
 * IdentityModel's minimum for RSA).
 */
function toRsaKey(jwk: unknown): { kid: string; key: KeyObject } | undefined {
  // Of the values JSON has, null is the one that cannot be destructured; a number, a string or an
  // array gives `kty` undefined, refused on the next line.
  if (jwk === null) return undefined;
  const { kty, use, alg, kid, d, key_ops: ops } = jwk as Record<string, unknown>;
  // Stryker disable next-line ConditionalExpression: an EC or OKP key has no modulus, refused below.
  if (kty !== 'RSA') return undefined;
  if ((use !== undefined && use !== 'sig') || d !== undefined) return undefined;
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) return undefined;
  if ((alg !== undefined && alg !== 'RS256') || typeof kid !== 'string' || kid === '') {
    return undefined;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  // A JWK with `kty: "RSA"` always imports as an `rsa` key, which Node gives its details.
  // Stryker disable next-line OptionalChaining: Node sets asymmetricKeyDetails on every RSA key.
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return bits >= MIN_RSA_MODULUS_BITS ? { kid, key } : undefined;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
