import { createPublicKey, KeyObject } from 'node:crypto';
import { JwksClient, type JSONWebKey, type SigningKey } from './libraries';
import { AuthError } from './errors';

export interface SigningKeyStoreOptions {
  /** Where the signing keys are published (JWKS). */
  jwksUri: string;
  /** Upper bound for one lookup that fetches the JWKS; jwks-rsa's socket timeout is the same. */
  fetchTimeoutMs?: number;
  /** A key jwks-rsa fetched is served from its cache for this long, then fetched again. */
  cacheMaxAgeMs?: number;
  /** After `cacheMaxAgeMs`, while the JWKS endpoint fails, the last key fetched is served this much longer. */
  cacheMaxAgeFallbackMs?: number;
  /** After a lookup of a `kid` not seen yet, no lookup of another unseen `kid` for this long. */
  unknownKeyCooldownMs?: number;
  now?: () => number;
}

/** Anything that resolves a `kid` to a public key; the validator depends on this only. */
export interface SigningKeyProvider {
  /** The RS256 key published under `kid`; throws an `AuthError` when there is none or it cannot be fetched. */
  getKey(kid: string): Promise<KeyObject>;
}

/**
 * Why the JWKS could not be used. Its message is written by this app for the log (the refusal note
 * of a 503, functions/auth/refusal-note.ts): it names the cause (a timeout, an HTTP error, a body
 * that is not JSON or holds no signing key, a socket error code) and never holds the body itself.
 */
export class JwksFetchError extends Error {
  override readonly name = 'JwksFetchError';
}

/**
 * How long a key jwks-rsa returned is used without asking jwks-rsa again (at most its cache age).
 * jwks-rsa answers even a cache hit on the next turn of the event loop (lru-memoizer 3.0.0 calls
 * back with `setImmediate`), which costs a request more than the rest of its validation.
 */
const RECENT_KEY_MS = 60_000;
/** Published keys are a handful; kept `kid`s beyond this are forgotten all at once. */
const MAX_RECENT_KEYS = 16;

/** How long the keys of the first fetch (`prefetch`) are handed to jwks-rsa instead of fetching. */
const PREFETCH_SERVES_MS = 60_000;

const DEFAULTS = {
  fetchTimeoutMs: 5_000,
  cacheMaxAgeMs: 6 * 60 * 60 * 1000,
  cacheMaxAgeFallbackMs: 18 * 60 * 60 * 1000,
  unknownKeyCooldownMs: 10_000,
};

/** Microsoft.IdentityModel's minimum for RSA keys; jsonwebtoken checks key sizes only when signing. */
const MIN_RSA_MODULUS_BITS = 2048;

/**
 * The signing keys of one issuer: jwks-rsa fetches the JWKS and caches each key by `kid`; this
 * class adds what jwks-rsa leaves to its user (REFERENCE: jwks-rsa 4.1.0 src/wrappers/*.js):
 *
 * - jwks-rsa's options: `cache` (a key is fetched again after `cacheMaxAgeMs`, 6 hours),
 *   `cacheMaxAgeFallback` (while the endpoint fails, a known key is served until 24 hours after it
 *   was last fetched: an outage of at least 18 hours is bridged; a key so served is cached again,
 *   so it may be served up to 6 hours longer), `rateLimit` (10 fetches a minute) and `timeout`.
 * - Every lookup is bounded by `fetchTimeoutMs`: jwks-rsa's timeout is a socket idle timeout (a
 *   body that trickles never ends it) and its rate limiter can queue a lookup rather than refuse it.
 * - A `kid` not seen yet costs a fetch (jwks-rsa's cache misses), so such lookups are spaced by
 *   `unknownKeyCooldownMs`: a flood of tokens with random `kid`s costs one fetch, not one each.
 *   Concurrent lookups of the same `kid` share one.
 * - The key must be RSA of at least 2048 bits, published for RS256 (`alg` absent or RS256).
 *   jwks-rsa keeps JWKs with `use` absent or `sig` whose import as a public key succeeds (a JWK
 *   with `d` or without `verify` in `key_ops` does not).
 * - The `KeyObject` is made once per key jwks-rsa returns (jwks-rsa hands out PEM text; parsing it
 *   costs as much as a verification), and used for a minute before jwks-rsa is asked again
 *   (RECENT_KEY_MS): a key dropped from the JWKS is refused at most a minute after jwks-rsa would.
 * - The first fetch starts when the app starts (`prefetch`): it tells which `kid`s are published,
 *   so their first lookups are not held to the cooldown, and it warms what a fetch loads.
 */
export class SigningKeyStore implements SigningKeyProvider {
  private readonly options: typeof DEFAULTS;
  private readonly now: () => number;
  private readonly client: JwksClient;
  private readonly keyObjects = new WeakMap<SigningKey, KeyObject | AuthError>();
  /**
   * `kid`s jwks-rsa returned a key for, or the first fetch saw published (taken as published:
   * lookups are by string, so a `kid` that is none matches no lookup).
   */
  private readonly seen = new Set<unknown>();
  private readonly pending = new Map<string, Promise<KeyObject>>();
  /** The key jwks-rsa last returned for each `kid`, asked for again after `recentMs`. */
  private readonly recent = new Map<string, { key: KeyObject; until: number }>();
  private readonly recentMs: number;
  private lastUnseenLookupAt = Number.NEGATIVE_INFINITY;
  private prefetchStarted = false;
  /** The key list of the first fetch, unchecked, as jwks-rsa's own fetch hands it on. */
  private prefetched: { at: number; keys: JSONWebKey[] } | undefined;
  private prefetching: Promise<void> | undefined;
  /** Why the last lookup failed for want of keys, undefined when it did not: the 503's cause. */
  private lastFailure: JwksFetchError | undefined;

  constructor(options: SigningKeyStoreOptions) {
    const { jwksUri, now, ...limits } = options;
    this.options = { ...DEFAULTS, ...withoutUndefined(limits) };
    this.now = now ?? Date.now;
    this.recentMs = Math.min(RECENT_KEY_MS, this.options.cacheMaxAgeMs);
    this.client = new JwksClient({
      jwksUri,
      cache: true,
      cacheMaxEntries: 16,
      cacheMaxAge: this.options.cacheMaxAgeMs,
      cacheMaxAgeFallback: this.options.cacheMaxAgeFallbackMs,
      rateLimit: true,
      jwksRequestsPerMinute: 10,
      timeout: this.options.fetchTimeoutMs,
      requestHeaders: { accept: 'application/json' },
      getKeysInterceptor: () => Promise.resolve(this.fromPrefetch()),
    });
  }

  /**
   * Starts the first fetch in the background, right after the current task (the app's loading)
   * ends, so that loading does not wait for it.
   */
  prefetch(): void {
    setImmediate(() => {
      // A lookup that came first fetched already.
      if (this.prefetchStarted || this.lastUnseenLookupAt !== Number.NEGATIVE_INFINITY) return;
      this.prefetchStarted = true;
      // Lookups meanwhile wait for it (getKey), bounded as any lookup is: without that wait, a
      // lookup would find no keys yet and fetch the JWKS a second time.
      this.prefetching = this.bounded(this.client.getKeys())
        .then(
          (keys: unknown) => {
            // A `keys` that is no list holds no key for jwks-rsa either: its lookups fetch.
            if (!Array.isArray(keys)) return;
            this.prefetched = { at: this.now(), keys: keys as JSONWebKey[] };
            // An entry may be anything, null included: the key set is read as published.
            for (const key of keys as unknown[])
              this.seen.add((key as { kid?: unknown } | null)?.kid);
          },
          () => undefined,
        )
        .finally(() => {
          this.prefetching = undefined;
        });
    });
  }

  /**
   * What jwks-rsa is given instead of fetching, when its cache misses: the keys of the first fetch,
   * for PREFETCH_SERVES_MS after it, so that the first lookups do not fetch them again.
   */
  private fromPrefetch(): JSONWebKey[] {
    const { prefetched } = this;
    // jwks-rsa takes from what this returns only JWKs of kty RSA, EC or OKP (retrieveSigningKeys in
    // its utils.js): a list holding anything else serves no key, as the empty list does.
    // Stryker disable next-line ArrayDeclaration: ["Stryker was here"] serves no key either.
    return prefetched && this.now() - prefetched.at < PREFETCH_SERVES_MS ? prefetched.keys : [];
  }

  getKey(kid: string): Promise<KeyObject> {
    const recent = this.recent.get(kid);
    // On the real clock, as jwks-rsa's cache is.
    if (recent && Date.now() < recent.until) return Promise.resolve(recent.key);
    // A lookup during the first fetch waits for it (bounded), and may then need no fetch of its own.
    if (this.prefetching) return this.prefetching.then(() => this.getKey(kid));
    const shared = this.pending.get(kid);
    if (shared) return shared;
    const unseen = !this.seen.has(kid);
    if (unseen) {
      const wait = this.lastUnseenLookupAt + this.options.unknownKeyCooldownMs - this.now();
      if (wait > 0) return Promise.reject(this.refusal(wait));
      this.lastUnseenLookupAt = this.now();
    }
    const lookup = this.lookUp(kid, unseen).finally(() => this.pending.delete(kid));
    this.pending.set(kid, lookup);
    return lookup;
  }

  /**
   * The failure of the last lookup is forgotten only when a lookup shows that the endpoint answered:
   * a key not found, or a key found for an unseen `kid` (a seen one may come from jwks-rsa's cache,
   * or from its stale fallback while the endpoint is still down).
   */
  private async lookUp(kid: string, unseen: boolean): Promise<KeyObject> {
    let signingKey: SigningKey;
    try {
      signingKey = await this.bounded(this.client.getSigningKey(kid));
    } catch (error) {
      if (error instanceof Error && error.name === 'SigningKeyNotFoundError') {
        this.lastFailure = undefined;
        throw unknownKey();
      }
      this.lastFailure = describe(error, this.options.fetchTimeoutMs);
      throw this.refusal(this.options.unknownKeyCooldownMs);
    }
    if (unseen) this.lastFailure = undefined;
    this.seen.add(kid);
    const key = this.keyObjects.get(signingKey) ?? toRs256Key(signingKey);
    this.keyObjects.set(signingKey, key);
    if (key instanceof AuthError) throw key;
    if (this.recent.size >= MAX_RECENT_KEYS) this.recent.clear();
    this.recent.set(kid, { key, until: Date.now() + this.recentMs });
    return key;
  }

  /** Resolves or rejects as `lookup` does, but within `fetchTimeoutMs`. */
  private bounded<T>(lookup: Promise<T>): Promise<T> {
    const ms = this.options.fetchTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new JwksFetchError(`the JWKS endpoint did not answer within ${ms} ms`));
      }, ms);
    });
    return Promise.race([lookup, deadline]).finally(() => clearTimeout(timer));
  }

  /** A lookup not made or failed: 503 while the keys cannot be fetched, else an unknown key. */
  private refusal(waitMs: number): AuthError {
    if (!this.lastFailure) return unknownKey();
    return new AuthError('signing_keys_unavailable', 'The signing keys could not be fetched.', {
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
      cause: this.lastFailure,
    });
  }
}

const unknownKey = (): AuthError =>
  new AuthError('unknown_signing_key', 'The token is signed with an unknown key.');

/** The key as an RS256 verification key, or the refusal of a token that names it. */
function toRs256Key(signingKey: SigningKey): KeyObject | AuthError {
  const key = createPublicKey(signingKey.getPublicKey());
  const rsa = key.asymmetricKeyType === 'rsa';
  // Stryker disable next-line OptionalChaining: Node sets asymmetricKeyDetails on every RSA key.
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const forRs256 = signingKey.alg === undefined || signingKey.alg === 'RS256';
  return rsa && bits >= MIN_RSA_MODULUS_BITS && forRs256 ? key : unknownKey();
}

/**
 * jwks-rsa's failure in words of this app's own: its errors carry the HTTP status text, the
 * parser's or the socket's message, which are not written for this log.
 */
function describe(error: unknown, timeoutMs: number): JwksFetchError {
  if (error instanceof JwksFetchError) return error;
  const failure = error as Partial<NodeJS.ErrnoException> & { isEndpointUnavailable?: boolean };
  switch (failure.name) {
    case 'JwksRateLimitError':
      return new JwksFetchError('too many JWKS requests (jwks-rsa rate limit)');
    case 'SyntaxError':
      return new JwksFetchError('the JWKS response is not JSON');
    case 'JwksError':
      // An HTTP error's JwksError holds the status text, or `Http Error <status>` without one.
      return new JwksFetchError(
        failure.isEndpointUnavailable
          ? `the JWKS endpoint answered an HTTP error (${(error as Error).message})`
          : 'the JWKS holds no usable signing key',
      );
  }
  if (failure.code === 'ECONNRESET') {
    // jwks-rsa ends a request whose socket is idle for its timeout this way, as a reset would.
    return new JwksFetchError(
      `the JWKS endpoint closed the connection or was silent for ${timeoutMs} ms (ECONNRESET)`,
    );
  }
  if (failure.code) {
    return new JwksFetchError(`the JWKS endpoint could not be reached (${failure.code})`);
  }
  return new JwksFetchError('the JWKS response could not be read');
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
