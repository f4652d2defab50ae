import http from 'node:http';
import {
  HeaderMap,
  removeConnectionHeaders,
  type GatewayRequest,
  type GatewayResponse,
} from './messages';

/** The most the gateway reads from a backend response. */
export const MAX_BACKEND_RESPONSE_BYTES = 10 * 1024 * 1024;

export type ForwardErrorReason = 'BackendConnectionFailure' | 'Timeout' | 'ResponseTooLarge';

export class ForwardError extends Error {
  constructor(
    readonly reason: ForwardErrorReason,
    options?: { cause?: unknown },
  ) {
    super(`forward-request failed: ${reason}`, options);
    this.name = 'ForwardError';
  }
}

/** The URL the request goes to: the backend's base URL, the operation path, the query. */
export function backendUrl(baseUrl: string, request: GatewayRequest): URL {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${request.operationPath}`;
  const query = request.query.toString();
  url.search = query === '' ? '' : `?${query}`;
  return url;
}

/**
 * Sends the request to the backend and reads its response, all within `timeoutMs`. Only plain
 * HTTP on loopback is needed locally; the gateway refuses other backend URLs at start.
 */
export function forwardRequest(
  baseUrl: string,
  request: GatewayRequest,
  timeoutMs: number,
): Promise<GatewayResponse> {
  const url = backendUrl(baseUrl, request);
  const headers = HeaderMap.from(request.headers.toObject());
  removeConnectionHeaders(headers);
  if (request.body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(request.method)) {
    headers.set('Content-Length', [String(request.body.length)]);
  }

  return new Promise<GatewayResponse>((resolve, reject) => {
    let settled = false;
    const finish = (error: ForwardError | undefined, response?: GatewayResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        outgoing.destroy();
        reject(error);
      } else resolve(response!);
    };
    const outgoing = http.request(
      url,
      { method: request.method, headers: headers.toObject() },
      (incoming) => {
        const chunks: Buffer[] = [];
        let size = 0;
        incoming.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BACKEND_RESPONSE_BYTES) {
            incoming.destroy();
            finish(new ForwardError('ResponseTooLarge'));
            return;
          }
          chunks.push(chunk);
        });
        incoming.on('error', (error) =>
          finish(new ForwardError('BackendConnectionFailure', { cause: error })),
        );
        incoming.on('end', () => {
          const responseHeaders = HeaderMap.from(incoming.headersDistinct);
          removeConnectionHeaders(responseHeaders);
          finish(undefined, {
            status: incoming.statusCode ?? 502,
            headers: responseHeaders,
            body: Buffer.concat(chunks),
          });
        });
      },
    );
    const timer = setTimeout(() => finish(new ForwardError('Timeout')), timeoutMs);
    outgoing.on('error', (error) =>
      finish(new ForwardError('BackendConnectionFailure', { cause: error })),
    );
    outgoing.end(request.body);
  });
}
