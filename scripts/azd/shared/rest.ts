import type { AccessToken, TokenCredential } from '@azure/identity';
import { ensureError, HookError, type HookErrorCode } from './errors';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RestClientOptions {
  /** Base URL of the service, already validated (see `parseServiceEndpoint`). */
  readonly endpoint: URL;
  /** Token scope, for example `https://graph.microsoft.com/.default`. */
  readonly scope: string;
  readonly credential: TokenCredential;
  /** Name used in messages, for example `Microsoft Graph`. */
  readonly serviceName: string;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** Attempts per request when the service throttles (429) or fails (5xx, network). Default 5. */
  readonly maxAttempts?: number;
  /** Upper bound of one wait between attempts, whatever `Retry-After` says. Default 60 s. */
  readonly maxRetryDelayMs?: number;
  /** Timeout of one HTTP exchange. Default 30 s. */
  readonly requestTimeoutMs?: number;
}

export interface RestRequest {
  readonly method: HttpMethod;
  /** A path below the endpoint (`/v1.0/applications`), or an absolute URL on the same origin. */
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Status codes that are a normal answer; any other status is an error. */
  readonly expect: readonly number[];
}

export interface RestResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

/** A service answered with a status the caller did not expect, or could not be reached. */
export class RestError extends HookError {
  constructor(
    code: HookErrorCode,
    message: string,
    readonly status: number | undefined,
    /** The service's own error code, for example `Authorization_RequestDenied`. */
    readonly serviceCode: string | undefined,
    options?: { cause?: unknown; serviceMessage?: string },
  ) {
    super(code, message, options);
    this.serviceMessage = options?.serviceMessage;
  }

  /** The service's own error message (at most 300 characters); never holds a token. */
  readonly serviceMessage: string | undefined;
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const MAX_PAGES = 1000;
const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Milliseconds to wait from a `Retry-After` header (delta-seconds or HTTP date), if present. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') {
    return undefined;
  }
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) {
    return Number(trimmed) * 1000;
  }
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function serviceError(body: unknown): { code?: string; message?: string } {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const error = body.error;
    if (typeof error === 'object' && error !== null) {
      const { code, message } = error as { code?: unknown; message?: unknown };
      return {
        code: typeof code === 'string' ? code : undefined,
        message: typeof message === 'string' ? message.slice(0, 300) : undefined,
      };
    }
  }
  return {};
}

/**
 * A small client for a token-protected Azure REST API (Microsoft Graph, Azure Resource Manager):
 * one token per scope, cached until shortly before it expires; bounded retries with `Retry-After`
 * on throttling and server errors; never follows a link to another origin; never logs or returns
 * the token.
 */
export class RestClient {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly maxAttempts: number;
  private readonly maxRetryDelayMs: number;
  private readonly requestTimeoutMs: number;
  private token: AccessToken | undefined;

  constructor(private readonly options: RestClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 60_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new TypeError('maxAttempts must be a positive integer.');
    }
  }

  get serviceName(): string {
    return this.options.serviceName;
  }

  async request(request: RestRequest): Promise<RestResponse> {
    const url = this.resolve(request.path);
    const label = `${request.method} ${url.pathname}`;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.send(request, url);
      } catch (error: unknown) {
        const cause = ensureError(error);
        if (cause instanceof HookError) {
          throw cause;
        }
        if (attempt >= this.maxAttempts || request.method === 'POST') {
          throw new RestError(
            'network_error',
            `${this.serviceName} could not be reached (${label}): ${cause.message}`,
            undefined,
            undefined,
            { cause },
          );
        }
        await this.sleep(this.backoff(attempt));
        continue;
      }
      const body = await this.readBody(response, label);
      if (request.expect.includes(response.status)) {
        return { status: response.status, headers: response.headers, body };
      }
      // A POST is retried only when the service says it did not process it (429).
      const retryable =
        RETRYABLE_STATUS.has(response.status) &&
        (request.method !== 'POST' || response.status === 429);
      if (retryable && attempt < this.maxAttempts) {
        const hinted = retryAfterMs(response.headers.get('retry-after'), this.now());
        await this.sleep(Math.min(hinted ?? this.backoff(attempt), this.maxRetryDelayMs));
        continue;
      }
      const { code, message } = serviceError(body);
      throw new RestError(
        'service_error',
        `${this.serviceName} answered ${response.status}${code ? ` ${code}` : ''} to ${label}` +
          `${message ? `: ${message}` : '.'}` +
          (retryable ? ` (gave up after ${attempt} attempts)` : ''),
        response.status,
        code,
        { serviceMessage: message },
      );
    }
  }

  /** GETs a collection and follows `@odata.nextLink` (same origin only) to the end. */
  async getAll<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = path;
    for (let page = 0; next !== undefined; page++) {
      if (page >= MAX_PAGES) {
        throw new RestError(
          'invalid_response',
          `${this.serviceName} returned more than ${MAX_PAGES} pages for ${path}.`,
          undefined,
          undefined,
        );
      }
      const { body } = await this.request({ method: 'GET', path: next, expect: [200] });
      const value = (body as { value?: unknown } | undefined)?.value;
      if (!Array.isArray(value)) {
        throw new RestError(
          'invalid_response',
          `${this.serviceName} returned a collection without a value array for ${path}.`,
          200,
          undefined,
        );
      }
      items.push(...(value as T[]));
      const link = (body as { '@odata.nextLink'?: unknown })['@odata.nextLink'];
      next = typeof link === 'string' ? link : undefined;
    }
    return items;
  }

  private resolve(path: string): URL {
    const { endpoint } = this.options;
    if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
      const url = new URL(path);
      const basePath = endpoint.pathname.replace(/\/$/, '');
      if (url.origin !== endpoint.origin || !url.pathname.startsWith(`${basePath}/`)) {
        throw new RestError(
          'invalid_response',
          `${this.serviceName} returned a link outside ${endpoint.origin}${basePath}; it was not followed.`,
          undefined,
          undefined,
        );
      }
      return url;
    }
    if (!path.startsWith('/')) {
      throw new TypeError(`Request paths must start with '/': ${path}`);
    }
    return new URL(`${endpoint.pathname.replace(/\/$/, '')}${path}`, endpoint.origin);
  }

  private async send(request: RestRequest, url: URL): Promise<Response> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...request.headers,
      authorization: `Bearer ${await this.getToken()}`,
    };
    let body: string | undefined;
    if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.body);
    }
    return this.fetch(url, {
      method: request.method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.requestTimeoutMs),
    });
  }

  private async getToken(): Promise<string> {
    if (this.token && this.token.expiresOnTimestamp - TOKEN_REFRESH_MARGIN_MS > this.now()) {
      return this.token.token;
    }
    let token: AccessToken | null;
    try {
      token = await this.options.credential.getToken(this.options.scope);
    } catch (error: unknown) {
      throw new HookError(
        'credential_unavailable',
        `Could not get a token for ${this.serviceName} from the Azure Developer CLI: ` +
          `${ensureError(error).message} Run \`azd auth login\` and try again.`,
        { cause: error },
      );
    }
    if (!token?.token) {
      throw new HookError(
        'credential_unavailable',
        `The Azure Developer CLI returned no token for ${this.serviceName}. Run \`azd auth login\` and try again.`,
      );
    }
    this.token = token;
    return token.token;
  }

  private async readBody(response: Response, label: string): Promise<unknown> {
    const text = await response.text();
    if (text.trim() === '') {
      return undefined;
    }
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('json')) {
      return text;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error: unknown) {
      throw new RestError(
        'invalid_response',
        `${this.serviceName} returned malformed JSON to ${label}.`,
        response.status,
        undefined,
        { cause: ensureError(error) },
      );
    }
  }

  private backoff(attempt: number): number {
    return Math.min(1000 * 2 ** (attempt - 1), this.maxRetryDelayMs);
  }
}

export interface ReplicationRetryOptions {
  readonly sleep?: (ms: number) => Promise<void>;
  /** Attempts in all. Default 8 (about two and a half minutes of waiting). */
  readonly attempts?: number;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly onRetry?: (attempt: number, error: Error) => void;
}

/**
 * Retries an operation while `isTransient` says the error is a replication delay (Microsoft Entra
 * ID is eventually consistent: an object created a moment ago may be unknown to the next call).
 */
export async function retryWhile<T>(
  operation: () => Promise<T>,
  isTransient: (error: Error) => boolean,
  options: ReplicationRetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 8;
  const sleep = options.sleep ?? defaultSleep;
  let delay = options.initialDelayMs ?? 2000;
  const maxDelay = options.maxDelayMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error: unknown) {
      const normalised = ensureError(error);
      if (attempt >= attempts || !isTransient(normalised)) {
        throw normalised;
      }
      options.onRetry?.(attempt, normalised);
      await sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}
