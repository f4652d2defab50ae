import { randomUUID } from 'node:crypto';

/** HTTP messages as the gateway's policies see and change them. */

/** Header names compared case-insensitively; each keeps the spelling it was first set with. */
export class HeaderMap {
  private readonly entries = new Map<string, { name: string; values: string[] }>();

  static from(headers: Record<string, string | string[] | undefined>): HeaderMap {
    const map = new HeaderMap();
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      map.append(name, Array.isArray(value) ? value : [value]);
    }
    return map;
  }

  get(name: string): readonly string[] | undefined {
    return this.entries.get(name.toLowerCase())?.values;
  }

  has(name: string): boolean {
    return this.entries.has(name.toLowerCase());
  }

  set(name: string, values: readonly string[]): void {
    this.entries.set(name.toLowerCase(), { name, values: [...values] });
  }

  append(name: string, values: readonly string[]): void {
    const existing = this.entries.get(name.toLowerCase());
    if (existing) existing.values.push(...values);
    else this.set(name, values);
  }

  delete(name: string): void {
    this.entries.delete(name.toLowerCase());
  }

  names(): string[] {
    return [...this.entries.values()].map((entry) => entry.name);
  }

  /** For node:http: `{ name: value | values }`. */
  toObject(): Record<string, string | string[]> {
    const result: Record<string, string | string[]> = {};
    for (const { name, values } of this.entries.values()) {
      result[name] = values.length === 1 ? values[0]! : [...values];
    }
    return result;
  }
}

export interface GatewayRequest {
  /** Upper case; `set-method` may change it. */
  method: string;
  /** The caller's IP address, as `ip-filter` sees it (the connection's remote address). */
  readonly clientAddress: string;
  /**
   * The path below the API's path, for example `/hello` for `/api/hello`; the backend gets it
   * (after `rewrite-uri`, the template's path).
   */
  operationPath: string;
  readonly query: URLSearchParams;
  readonly headers: HeaderMap;
  body: Buffer;
}

export interface GatewayResponse {
  status: number;
  readonly headers: HeaderMap;
  body: Buffer;
  /** Why the pipeline failed (`source Reason`), for the request's one log line. */
  reason?: string;
}

/** A response in API Management's own error shape: `{ "statusCode": 401, "message": "..." }`. */
export function apimResponse(
  status: number,
  message: string,
  headers: Record<string, string> = {},
  extra: Record<string, string> = {},
): GatewayResponse {
  return {
    status,
    headers: HeaderMap.from({ 'Content-Type': 'application/json', ...headers }),
    body: Buffer.from(JSON.stringify({ statusCode: status, message, ...extra })),
  };
}

/**
 * API Management's generic 500, as it answers a backend timeout or an unreachable backend:
 * `{"statusCode":500,"message":"Internal server error","activityId":"<guid>"}`
 * (MicrosoftDocs/azure-docs#109013 and captured responses).
 */
export function internalErrorResponse(): GatewayResponse {
  return apimResponse(500, APIM_MESSAGES.internalError, {}, { activityId: randomUUID() });
}

export const APIM_MESSAGES = {
  badRequest: 'Bad request',
  notFound: 'Resource not found',
  missingKey:
    'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
  invalidKey:
    'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.',
  internalError: 'Internal server error',
  tooLarge: 'Request entity too large',
} as const;

/**
 * Headers that describe one connection, not the message (RFC 9110 section 7.6.1): never copied
 * between the client's connection and the backend's.
 */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/** Removes hop-by-hop headers, those named in `Connection` included, and `Host`/`Content-Length`. */
export function removeConnectionHeaders(headers: HeaderMap): void {
  const named = (headers.get('connection') ?? [])
    .flatMap((value) => value.split(','))
    .map((token) => token.trim())
    .filter((token) => token !== '');
  for (const name of [...HOP_BY_HOP, ...named, 'host', 'content-length']) headers.delete(name);
}
