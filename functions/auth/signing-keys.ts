import { createPublicKey, KeyObject } from 'node:crypto';
import { JwksClient } from 'jwks-rsa';
import { ensureError } from '../lib/errors';
import { AuthError } from './errors';

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
  getKey(kid: string): Promise<KeyObject>;
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
 * The signing keys of one issuer, fetched with jwks-rsa and kept as parsed `KeyObject`s.
 *
 * - Keys are cached by `kid` and parsed once (parsing a PEM per request costs most of a verify).
 * - All concurrent lookups share one fetch; each fetch is bounded by `fetchTimeoutMs`.
 * - An unknown `kid` triggers at most one fetch, and fetches for unknown `kid`s are spaced by
 *   `unknownKeyCooldownMs`: a flood of tokens with random `kid`s costs one fetch, not one each.
 *   (jwks-rsa's own rate limiter queues lookups instead of refusing them, so it is not used.)
 * - Stale keys are refreshed in the background; while a refresh fails, known keys keep working.
 */
export class SigningKeyStore implements SigningKeyProvider {
  private readonly options: Required<Omit<SigningKeyStoreOptions, 'jwksUri' | 'now'>>;
  private readonly now: () => number;
  private readonly client: JwksClient;
  private keys = new Map<string, KeyObject>();
  private inFlight: Promise<void> | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastSuccessAt = Number.NEGATIVE_INFINITY;
  private lastAttemptFailed = false;

  constructor(options: SigningKeyStoreOptions) {
    const { jwksUri: _uri, now, ...limits } = options;
    this.options = { ...DEFAULTS, ...withoutUndefined(limits) };
    this.now = now ?? Date.now;
    this.client = new JwksClient({
      jwksUri: options.jwksUri,
      // Caching, rate limiting and timeouts are done here, around the client, see above.
      cache: false,
      rateLimit: false,
      fetcher: (uri) => fetchJwks(uri, this.options.fetchTimeoutMs, this.options.maxResponseBytes),
    });
  }

  async getKey(kid: string): Promise<KeyObject> {
    const known = this.keys.get(kid);
    if (known) {
      if (this.now() - this.lastSuccessAt > this.options.refreshIntervalMs && this.mayFetch()) {
        void this.refresh().catch(() => undefined);
      }
      return known;
    }

    if (this.inFlight) {
      await this.inFlight.catch(() => undefined);
    } else if (this.mayFetch()) {
      await this.refresh().catch(() => undefined);
    }

    const key = this.keys.get(kid);
    if (key) return key;
    if (this.lastAttemptFailed) {
      throw new AuthError('signing_keys_unavailable', 'The signing keys could not be fetched.', {
        retryAfterSeconds: this.retryAfterSeconds(),
      });
    }
    throw new AuthError('unknown_signing_key', 'The token is signed with an unknown key.');
  }

  private mayFetch(): boolean {
    if (this.inFlight) return false;
    const cooldown = this.lastAttemptFailed
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
      const signingKeys = await this.client.getSigningKeys();
      const keys = new Map<string, KeyObject>();
      for (const signingKey of signingKeys) {
        const key = toRsaKey(signingKey);
        if (key && signingKey.kid) keys.set(signingKey.kid, key);
      }
      if (keys.size === 0) throw new Error('The JWKS holds no usable RSA signing keys.');
      this.keys = keys;
      this.lastSuccessAt = this.now();
      this.lastAttemptFailed = false;
    } catch (error) {
      this.lastAttemptFailed = true;
      throw ensureError(error);
    }
  }
}

function toRsaKey(signingKey: { alg?: string; getPublicKey(): string }): KeyObject | undefined {
  if (signingKey.alg !== undefined && signingKey.alg !== 'RS256') return undefined;
  const key = createPublicKey(signingKey.getPublicKey());
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return key.asymmetricKeyType === 'rsa' && bits >= MIN_RSA_MODULUS_BITS ? key : undefined;
}

/** GET the JWKS with a deadline that covers the whole body, a size cap, and no redirects. */
async function fetchJwks(
  uri: string,
  timeoutMs: number,
  maxBytes: number,
): Promise<{ keys: unknown }> {
  const response = await fetch(uri, {
    headers: { accept: 'application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`The JWKS endpoint answered HTTP ${response.status}.`);
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error('The JWKS response is too large.');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    const bytes = Buffer.from(chunk as Uint8Array);
    size += bytes.length;
    if (size > maxBytes) throw new Error('The JWKS response is too large.');
    chunks.push(bytes);
  }
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !Array.isArray((parsed as { keys?: unknown }).keys)
  ) {
    throw new Error('The JWKS response has no "keys" array.');
  }
  return parsed as { keys: unknown };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
