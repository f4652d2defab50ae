import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { TokenCredential } from '@azure/identity';
import {
  closeServer,
  printablePath,
  readCappedBody,
  refuseUnparsableRequests,
  writeResponse,
} from '../shared/http';
import { LOOPBACK, listen } from '../shared/ports';
import {
  API_PATH,
  FUNCTION_APP_BACKEND_ID,
  STATUS_PATH,
  SUBSCRIPTION_KEY_PARAMETER_NAMES,
} from './api';
import {
  APIM_FILES,
  loadGatewayDefinition,
  managedIdentityCredentialFromEnv,
  readNamedValues,
} from './definition';
import { ensureError, formatLocation } from './errors';
import { PolicyFailure } from './failure';
import {
  APIM_MESSAGES,
  apimResponse,
  HeaderMap,
  removeConnectionHeaders,
  type GatewayRequest,
  type GatewayResponse,
} from './messages';
import { describeSkipped } from './not-run';
import { isPreflight } from './policies/cors';
import { matchOperation, type ApiDefinition } from './openapi';
import { Pipeline } from './pipeline';
import authenticationManagedIdentity from './policies/authentication-managed-identity';
import forwardRequest, { CONSUMPTION_REQUEST_CAP_SECONDS } from './policies/forward-request';
import setHeader from './policies/set-header';
import setQueryParameter from './policies/set-query-parameter';
import { effectiveSection } from './policy';
import { checkSubscriptionKey, type KnownSubscription } from './subscription';
import { parseRequestTarget } from './target';

export { API_PATH, FUNCTION_APP_BACKEND_ID, STATUS_PATH } from './api';
export {
  APIM_FILES,
  loadGatewayDefinition,
  managedIdentityCredentialFromEnv,
  readNamedValues,
  type GatewayDefinition,
} from './definition';

/** The most the gateway reads from a client request body. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * The subscription key of the local gateway when LOCAL_SUBSCRIPTION_KEY is not set. Local only:
 * it guards nothing but a loopback port, and Azure issues its own keys per subscription.
 */
export const DEFAULT_LOCAL_SUBSCRIPTION_KEY = 'local-only-subscription-key';

/** Default `forward-request` timeout when the policies set none (the Consumption tier's cap). */
export const DEFAULT_BACKEND_TIMEOUT_MS = 30_000;

/** The subscription ids, as infra/ names the product's subscription and API Management its built-in one. */
export const PRODUCT_SUBSCRIPTION_ID = 'functions-client';
export const ALL_ACCESS_SUBSCRIPTION_ID = 'master';

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
  /** The key of the product-scoped subscription (as infra/ creates): product policies apply. */
  subscriptionKey: string;
  /**
   * The key of API Management's built-in all-access subscription, which skips product policies.
   * Unset by default: locally, as in the deployment, clients hold the product's key.
   */
  allAccessKey?: string;
  /** Named values; default `apimDir/named-values.local.json`. */
  namedValues?: Readonly<Record<string, string>>;
  /**
   * What `authentication-managed-identity` gets its tokens from. Default: @azure/identity's
   * ManagedIdentityCredential, which reads IDENTITY_ENDPOINT and IDENTITY_HEADER of this process.
   */
  credential?: TokenCredential;
  /**
   * What `authentication-managed-identity client-id="..."` gets its tokens from. Default: a
   * ManagedIdentityCredential for that client id, from IDENTITY_ENDPOINT and IDENTITY_HEADER.
   */
  credentialFor?: (clientId: string) => TokenCredential;
  /** `forward-request` timeout when a policy sets none; default DEFAULT_BACKEND_TIMEOUT_MS. */
  backendTimeoutMs?: number;
  /** One line per request and start-up notes; never given tokens, keys or header values. */
  log?: (line: string) => void;
  /** Milliseconds since the epoch, for rate limits and quotas. */
  now?: () => number;
}

export interface RunningGateway {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Start-up warnings, also logged. */
  readonly warnings: readonly string[];
  /**
   * The policy elements it does not run, one line each (file, line, element, "not run locally",
   * why, and whether in Azure it refuses or changes requests), also logged once at start.
   */
  readonly notRunLocally: readonly string[];
  close(): Promise<void>;
}

function send(res: http.ServerResponse, response: GatewayResponse): void {
  writeResponse(res, response.status, response.headers.toObject(), response.body);
}

function startupWarnings(pipeline: Pipeline): string[] {
  const inbound = pipeline.statements('inbound');
  const names = SUBSCRIPTION_KEY_PARAMETER_NAMES;
  const warnings: string[] = [];
  const deletes = (element: typeof setHeader, name: string): boolean =>
    inbound.some((statement) => {
      const config = element.configOf(statement);
      return config?.action === 'delete' && config.name.toLowerCase() === name.toLowerCase();
    });
  if (!deletes(setHeader, names.header)) {
    warnings.push(
      `the policies do not delete the ${names.header} header: in Azure the subscription key would reach the backend ` +
        '(the local gateway strips it regardless).',
    );
  }
  if (!deletes(setQueryParameter, names.query)) {
    warnings.push(
      `the policies do not delete the ${names.query} query parameter: in Azure the subscription key would reach ` +
        'the backend (the local gateway strips it regardless).',
    );
  }
  for (const statement of pipeline.statements('backend')) {
    const forward = forwardRequest.configOf(statement);
    if (forward && (forward.timeoutSeconds ?? 300) >= CONSUMPTION_REQUEST_CAP_SECONDS) {
      warnings.push(
        `forward-request at ${formatLocation(statement.at)} waits ${forward.timeoutSeconds ?? '300 (the default)'} s for the backend, ` +
          `but the Consumption tier ends a request at ${CONSUMPTION_REQUEST_CAP_SECONDS} s: set a timeout below it.`,
      );
    }
  }
  if (!inbound.some((statement) => authenticationManagedIdentity.configOf(statement))) {
    warnings.push(
      'the policies have no authentication-managed-identity: requests reach the function app without a token.',
    );
  }
  return warnings;
}

function requestFrom(
  req: http.IncomingMessage,
  operationPath: string,
  query: URLSearchParams,
  body: Buffer,
): GatewayRequest {
  // Hop-by-hop headers (and those the client names in Connection) belong to the client's
  // connection: drop them on receipt, so they can never remove a header the policies set later,
  // such as the managed identity's Authorization.
  const headers = HeaderMap.from(req.headersDistinct);
  removeConnectionHeaders(headers);
  const method = (req.method ?? 'GET').toUpperCase();
  const clientAddress = req.socket.remoteAddress ?? '';
  return { method, clientAddress, operationPath, query, headers, body };
}

function builtIn(source: string, reason: string, response: GatewayResponse): PolicyFailure {
  return new PolicyFailure(source, reason, response);
}

/**
 * Starts the local stand-in for API Management on 127.0.0.1: routes from `apim/openapi.yaml`,
 * requires the subscription key, runs `apim/policies/product.xml` and `apim/policies/api.xml`.
 * Names at start each policy element it does not run and goes on without it; refuses to start
 * (throws) only on a policy document whose structure the policy schema refuses.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const subscriptions: KnownSubscription[] = [];
  for (const [name, key, id, scope] of [
    ['subscriptionKey', options.subscriptionKey, PRODUCT_SUBSCRIPTION_ID, 'product'],
    ['allAccessKey', options.allAccessKey, ALL_ACCESS_SUBSCRIPTION_ID, 'all-apis'],
  ] as const) {
    if (key === undefined && name === 'allAccessKey') continue;
    if (typeof key !== 'string' || key.trim() === '') {
      throw new TypeError(`${name} must be a non-empty string.`);
    }
    if (subscriptions.some((known) => known.key === key)) {
      throw new TypeError('allAccessKey must differ from subscriptionKey.');
    }
    subscriptions.push({ key, id, scope });
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
    options.namedValues ?? readNamedValues(`${options.apimDir}/${APIM_FILES.localNamedValues}`);
  const { api, scopes } = loadGatewayDefinition(options.apimDir, namedValues);

  const usesManagedIdentity = [scopes.global, scopes.product, scopes.api].some((scope) =>
    effectiveSection([scope], 'inbound').some((statement) =>
      authenticationManagedIdentity.configOf(statement),
    ),
  );
  const credential =
    options.credential ?? (usesManagedIdentity ? managedIdentityCredentialFromEnv() : undefined);

  const pipeline = new Pipeline(scopes, {
    backends: { [FUNCTION_APP_BACKEND_ID]: `${functions.origin}/${API_PATH}` },
    credential,
    credentialFor:
      options.credentialFor ??
      (usesManagedIdentity
        ? (clientId: string) => managedIdentityCredentialFromEnv(process.env, clientId)
        : undefined),
    backendTimeoutMs,
    subscriptionKey: SUBSCRIPTION_KEY_PARAMETER_NAMES,
    log,
    now: options.now ?? Date.now,
  });
  const notRunLocally = [scopes.product, scopes.api].flatMap((scope) =>
    scope.skipped.map(describeSkipped),
  );
  for (const line of notRunLocally) log(line);
  const warnings = startupWarnings(pipeline);
  for (const warning of warnings) log(`warning: ${warning}`);

  const apiPrefix = `/${API_PATH}/`;
  let port = 0;

  const respond = async (
    req: http.IncomingMessage,
    api: ApiDefinition,
  ): Promise<GatewayResponse> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const target = parseRequestTarget(req.url ?? '/', [`${LOOPBACK}:${port}`, `localhost:${port}`]);
    if (!target.ok) return apimResponse(400, APIM_MESSAGES.badRequest);
    const { path, query } = target;
    if (path === STATUS_PATH && (method === 'GET' || method === 'HEAD')) {
      return { status: 200, headers: new HeaderMap(), body: Buffer.alloc(0) };
    }
    const notFound = builtIn(
      'configuration',
      'OperationNotFound',
      apimResponse(404, APIM_MESSAGES.notFound),
    );
    if (!path.startsWith(apiPrefix)) {
      return pipeline.builtInError(
        requestFrom(req, path, query, Buffer.alloc(0)),
        notFound,
        'global',
      );
    }
    const operationPath = path.slice(apiPrefix.length - 1);
    const request = requestFrom(req, operationPath, query, Buffer.alloc(0));
    const realm = `http://${LOOPBACK}:${port}/${API_PATH}`;
    const key = checkSubscriptionKey(
      req,
      query,
      SUBSCRIPTION_KEY_PARAMETER_NAMES,
      subscriptions,
      realm,
    );
    // A CORS preflight to an operation's path is answered by the cors policies alone, unless the
    // API defines an OPTIONS operation there (cors-policy.md, "cors policy scenarios").
    if (
      isPreflight(request) &&
      !matchOperation(api, 'OPTIONS', operationPath) &&
      api.operations.some((operation) => matchOperation(api, operation.method, operationPath))
    ) {
      const answer = pipeline.preflight(request, key.ok ? key.subscription : undefined);
      if (answer) return answer;
    }
    if (!matchOperation(api, method, operationPath)) {
      return pipeline.builtInError(request, notFound, 'api');
    }
    if (!key.ok) return pipeline.builtInError(request, key.failure, 'api');

    const body = await readCappedBody(req, MAX_REQUEST_BYTES);
    if (!body) return apimResponse(413, APIM_MESSAGES.tooLarge, { Connection: 'close' });
    request.body = body;
    return pipeline.run(request, key.subscription);
  };

  const server = http.createServer((req, res) => {
    const started = performance.now();
    let status = 500;
    let reason = '-';
    void (async () => {
      try {
        const response = await respond(req, api);
        status = response.status;
        reason = response.reason ?? '-';
        send(res, response);
      } catch (error: unknown) {
        reason = `gateway ${ensureError(error).name}`;
        status = 500;
        if (!res.headersSent) send(res, apimResponse(500, APIM_MESSAGES.internalError));
        else res.destroy();
      } finally {
        const pathname = (req.url ?? '?').split('?')[0]!;
        log(
          `${(req.method ?? '?').slice(0, 10)} ${printablePath(pathname)} ${status} ${reason} ${Math.round(performance.now() - started)}ms`,
        );
      }
    })();
  });
  refuseUnparsableRequests(server);

  port = await listen(server, options.port, options.portVariable);
  return {
    url: `http://${LOOPBACK}:${port}`,
    port,
    warnings,
    notRunLocally,
    close: () => closeServer(server),
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
