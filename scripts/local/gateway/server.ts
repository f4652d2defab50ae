import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { LOOPBACK, listen } from '../shared/ports';
import { ensureError } from './errors';
import {
  APIM_MESSAGES,
  apimResponse,
  HeaderMap,
  removeConnectionHeaders,
  type GatewayRequest,
  type GatewayResponse,
} from './messages';
import { matchOperation, parseOpenApi, type ApiDefinition } from './openapi';
import { Pipeline } from './pipeline';
import { GLOBAL_POLICY_XML, parsePolicy, type PolicyDocument } from './policy';

/**
 * API Management's health endpoint on every gateway (no subscription key, empty 200); `npm start`
 * waits on it.
 */
export const STATUS_PATH = '/status-0123456789abcdef';

/** The API's path in API Management (`service/apis` `path` in infra/): operations live under /api/. */
export const API_PATH = 'api';

/** The backend ids the local gateway knows, as `service/backends` in infra/ defines them. */
export const FUNCTION_APP_BACKEND_ID = 'function-app';

/** The files under `apim/` that the gateway runs, relative to it. */
export const APIM_FILES = {
  openApi: 'openapi.yaml',
  productPolicy: path.join('policies', 'product.xml'),
  apiPolicy: path.join('policies', 'api.xml'),
  localNamedValues: 'named-values.local.json',
} as const;

/** The most the gateway reads from a client request body. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * The subscription key of the local gateway when LOCAL_SUBSCRIPTION_KEY is not set. Local only:
 * it guards nothing but a loopback port, and Azure issues its own keys per subscription.
 */
export const DEFAULT_LOCAL_SUBSCRIPTION_KEY = 'local-only-subscription-key';

/** Default `forward-request` timeout when the policies set none. */
export const DEFAULT_BACKEND_TIMEOUT_MS = 30_000;

export interface GatewayOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** The environment variable that sets the port, named when the port is taken. */
  portVariable?: string;
  /** The folder with openapi.yaml, policies/ and named-values.local.json. */
  apimDir: string;
  /**
   * Where the function app listens, an origin such as `http://127.0.0.1:7071`. The `function-app`
   * backend is this plus `/api`, as the Bicep backend is the app's URL plus `/api`.
   */
  functionsBaseUrl: string;
  /** The one valid subscription key. */
  subscriptionKey: string;
  /** Named values; default `apimDir/named-values.local.json`. */
  namedValues?: Readonly<Record<string, string>>;
  /**
   * What `authentication-managed-identity` gets its tokens from. Default: @azure/identity's
   * ManagedIdentityCredential, which reads IDENTITY_ENDPOINT and IDENTITY_HEADER of this process.
   */
  credential?: TokenCredential;
  /** Default DEFAULT_BACKEND_TIMEOUT_MS. */
  backendTimeoutMs?: number;
  /** One line per request and start-up notes; never given tokens, keys or header values. */
  log?: (line: string) => void;
}

export interface RunningGateway {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Start-up warnings, also logged. */
  readonly warnings: readonly string[];
  close(): Promise<void>;
}

/** What the gateway runs: loaded and checked once, before it listens. */
export interface GatewayDefinition {
  readonly api: ApiDefinition;
  /** Outermost first: global (API Management's default), product, API. */
  readonly scopes: readonly PolicyDocument[];
}

function relative(file: string): string {
  const shown = path.relative(process.cwd(), file);
  return shown.startsWith('..') ? file : shown;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error: unknown) {
    throw new Error(`Cannot read ${file}: ${ensureError(error).message}`, { cause: error });
  }
}

/** Reads `named-values.local.json`: an object of string values, nothing else. */
export function readNamedValues(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(file));
  } catch (error: unknown) {
    throw new Error(`${relative(file)} is not valid JSON: ${ensureError(error).message}`, {
      cause: error,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${relative(file)} must be a JSON object of named values.`);
  }
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'string')
      throw new Error(`${relative(file)}: named value "${name}" must be a string.`);
    values[name] = value;
  }
  return values;
}

/**
 * Loads the OpenAPI document and the product and API policies from `apimDir`. Throws
 * (PolicyLoadError, OpenApiLoadError) on anything the gateway would not run faithfully.
 */
export function loadGatewayDefinition(
  apimDir: string,
  namedValues: Readonly<Record<string, string>>,
): GatewayDefinition {
  const options = { namedValues, backendIds: [FUNCTION_APP_BACKEND_ID] };
  const openApiFile = path.join(apimDir, APIM_FILES.openApi);
  const api = parseOpenApi(readText(openApiFile), relative(openApiFile));
  const scopes = [
    parsePolicy(GLOBAL_POLICY_XML, 'global policy (API Management default)', options),
    ...[APIM_FILES.productPolicy, APIM_FILES.apiPolicy].map((name) => {
      const file = path.join(apimDir, name);
      return parsePolicy(readText(file), relative(file), options);
    }),
  ];
  return { api, scopes };
}

/** The credential from IDENTITY_ENDPOINT and IDENTITY_HEADER; throws naming the one missing. */
export function managedIdentityCredentialFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): TokenCredential {
  for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER']) {
    if (!env[name]?.trim()) {
      throw new TypeError(
        `${name} is not set: authentication-managed-identity needs the managed identity endpoint ` +
          '(IDENTITY_ENDPOINT) and its header value (IDENTITY_HEADER), as on App Service.',
      );
    }
  }
  return new ManagedIdentityCredential({ retryOptions: { maxRetries: 0 } });
}

function keysEqual(expected: string, actual: string): boolean {
  const a = crypto.createHash('sha256').update(expected).digest();
  const b = crypto.createHash('sha256').update(actual).digest();
  return crypto.timingSafeEqual(a, b);
}

/** Reads the body up to `limit` bytes; undefined when it is larger. */
/**
 * The request body, or undefined as soon as it is known to exceed `limit` (from Content-Length, or
 * while streaming): the rest is not read, and the 413 closes the connection.
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.pause();
      resolve(undefined);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, response: GatewayResponse): void {
  const headers = response.headers.toObject();
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'content-length') delete headers[name];
  }
  headers['Content-Length'] = String(response.body.length);
  res.writeHead(response.status, headers);
  res.end(response.body);
}

function startupWarnings(pipeline: Pipeline, api: ApiDefinition): string[] {
  const inbound = pipeline.statements('inbound');
  const warnings: string[] = [];
  const deletes = (kind: 'set-header' | 'set-query-parameter', name: string): boolean =>
    inbound.some(
      (statement) =>
        statement.kind === kind &&
        statement.action === 'delete' &&
        statement.name.toLowerCase() === name.toLowerCase(),
    );
  if (!deletes('set-header', api.subscriptionKey.header)) {
    warnings.push(
      `the policies do not delete the ${api.subscriptionKey.header} header: in Azure the subscription key would reach the backend ` +
        '(the local gateway strips it regardless).',
    );
  }
  if (!deletes('set-query-parameter', api.subscriptionKey.query)) {
    warnings.push(
      `the policies do not delete the ${api.subscriptionKey.query} query parameter: in Azure the subscription key would reach ` +
        'the backend (the local gateway strips it regardless).',
    );
  }
  if (!inbound.some((statement) => statement.kind === 'authentication-managed-identity')) {
    warnings.push(
      'the policies have no authentication-managed-identity: requests reach the function app without a token.',
    );
  }
  return warnings;
}

/**
 * Starts the local stand-in for API Management on 127.0.0.1: routes from `apim/openapi.yaml`,
 * requires the subscription key, runs `apim/policies/product.xml` and `apim/policies/api.xml`.
 * Refuses to start (throws) when a policy uses anything it does not implement.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  if (typeof options.subscriptionKey !== 'string' || options.subscriptionKey.trim() === '') {
    throw new TypeError('subscriptionKey must be a non-empty string.');
  }
  const functions = new URL(options.functionsBaseUrl);
  if (functions.protocol !== 'http:' || functions.pathname !== '/' || functions.search !== '') {
    throw new TypeError(
      `functionsBaseUrl must be a plain http origin such as http://127.0.0.1:7071 (the gateway adds /api), got "${options.functionsBaseUrl}".`,
    );
  }
  const backendTimeoutMs = options.backendTimeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS;
  if (!Number.isInteger(backendTimeoutMs) || backendTimeoutMs < 1) {
    throw new TypeError('backendTimeoutMs must be a positive whole number of milliseconds.');
  }
  const log = options.log ?? ((line: string) => console.log(`[gateway] ${line}`));
  const namedValues =
    options.namedValues ?? readNamedValues(path.join(options.apimDir, APIM_FILES.localNamedValues));
  const { api, scopes } = loadGatewayDefinition(options.apimDir, namedValues);

  const usesManagedIdentity = scopes.some((scope) =>
    scope.sections.inbound.some(
      (statement) => statement.kind === 'authentication-managed-identity',
    ),
  );
  const credential =
    options.credential ?? (usesManagedIdentity ? managedIdentityCredentialFromEnv() : undefined);

  const pipeline = new Pipeline({
    scopes,
    backends: { [FUNCTION_APP_BACKEND_ID]: `${functions.origin}/${API_PATH}` },
    credential,
    backendTimeoutMs,
    subscriptionKey: api.subscriptionKey,
    log,
  });
  const warnings = startupWarnings(pipeline, api);
  for (const warning of warnings) log(`warning: ${warning}`);

  const apiPrefix = `/${API_PATH}/`;

  const respond = async (req: http.IncomingMessage, url: URL): Promise<GatewayResponse> => {
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname === STATUS_PATH && (method === 'GET' || method === 'HEAD')) {
      return { status: 200, headers: new HeaderMap(), body: Buffer.alloc(0) };
    }
    const operationPath = url.pathname.startsWith(apiPrefix)
      ? url.pathname.slice(apiPrefix.length - 1)
      : undefined;
    if (operationPath === undefined || !matchOperation(api, method, operationPath)) {
      return apimResponse(404, APIM_MESSAGES.notFound);
    }

    const fromHeader = req.headersDistinct[api.subscriptionKey.header.toLowerCase()];
    const fromQuery = url.searchParams.getAll(api.subscriptionKey.query);
    const presented = fromHeader ?? (fromQuery.length > 0 ? fromQuery : undefined);
    if (!presented) return apimResponse(401, APIM_MESSAGES.missingKey);
    if (presented.length !== 1 || !keysEqual(options.subscriptionKey, presented[0]!)) {
      return apimResponse(401, APIM_MESSAGES.invalidKey);
    }

    const body = await readBody(req, MAX_REQUEST_BYTES);
    if (!body) return apimResponse(413, APIM_MESSAGES.tooLarge, { Connection: 'close' });
    // Hop-by-hop headers (and those the client names in Connection) belong to the client's
    // connection: drop them on receipt, so they can never remove a header the policies set later,
    // such as the managed identity's Authorization.
    const headers = HeaderMap.from(req.headersDistinct);
    removeConnectionHeaders(headers);
    const request: GatewayRequest = {
      method,
      operationPath,
      query: new URLSearchParams(url.searchParams),
      headers,
      body,
    };
    return pipeline.run(request, 'local');
  };

  const server = http.createServer((req, res) => {
    const started = performance.now();
    let pathname = '?';
    let status = 500;
    void (async () => {
      try {
        let url: URL;
        try {
          url = new URL(req.url ?? '/', 'http://gateway.invalid');
        } catch {
          // An absolute-form target that is no URL (`http://[zz/api/hello`): the client's fault.
          status = 400;
          send(res, apimResponse(400, APIM_MESSAGES.badRequest));
          return;
        }
        pathname = url.pathname;
        const response = await respond(req, url);
        status = response.status;
        send(res, response);
      } catch (error: unknown) {
        log(`error: ${ensureError(error).name} while handling a request`);
        status = 500;
        if (!res.headersSent) send(res, apimResponse(500, APIM_MESSAGES.internalError));
        else res.destroy();
      } finally {
        const shown = pathname.replace(/\p{Cc}/gu, '?').slice(0, 200);
        log(
          `${(req.method ?? '?').slice(0, 10)} ${shown} ${status} ${Math.round(performance.now() - started)}ms`,
        );
      }
    })();
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const port = await listen(server, options.port, options.portVariable);
  return {
    url: `http://${LOOPBACK}:${port}`,
    port,
    warnings,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A ready-to-paste call through the gateway (POSIX shell). Give `{ variable }` to reference the key
 * through an environment variable instead of printing it.
 */
export function gatewayCurl(
  gatewayUrl: string,
  subscriptionKey: string | { readonly variable: string },
  operation = 'whoami',
): string {
  const header =
    typeof subscriptionKey === 'string'
      ? shellQuote(`Ocp-Apim-Subscription-Key: ${subscriptionKey}`)
      : `"Ocp-Apim-Subscription-Key: $${subscriptionKey.variable}"`;
  return `curl -i -H ${header} ${gatewayUrl}/${API_PATH}/${operation}`;
}
