import { HttpMethod, HttpRequest, InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { format } from 'node:util';
import { parseRefusalNote } from './refusal-note';
import {
  ProblemReply,
  closeServer,
  printablePath,
  problem,
  readCappedBody,
  refuseUnparsableRequests,
  writeResponse,
} from '../shared/http';
import { LOOPBACK, listen } from '../shared/ports';
import { InvocationResult, invokeHandler, triggerRequest } from './invoke';
import { Registration, loadRegistrations } from './registrations';
import {
  RouteTemplate,
  compareRoutes,
  matchRoute,
  normaliseMethods,
  parseRouteTemplate,
} from './routes';
import { HostConfigurationError, applyLocalSettings, readRoutePrefix } from './settings';
import {
  TelemetryRow,
  hostStartedRow,
  operationOf,
  parseRefusalRecord,
  requestRow,
  traceRow,
} from './telemetry';

export { HostConfigurationError } from './settings';

export interface FunctionHostOptions {
  /** The project whose built app is served: package.json `main` and `dist/` are read from here. */
  projectRoot: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Environment variable that sets the port, named in the error when the port is taken. */
  portVariable?: string;
  /** The environment that local.settings.json `Values` complete; default `process.env` (what the app reads). */
  env?: NodeJS.ProcessEnv;
  /** Request lines and function logs; default `console.log`. */
  log?: (line: string) => void;
  /** Default MAX_REQUEST_BODY_BYTES. */
  maxRequestBodyBytes?: number;
  /** Called as each request arrives (main.ts collects garbage once the host is idle). */
  onRequest?: () => void;
  /** Receives the rows Application Insights would hold for the host's start, each invocation and each function log line (telemetry.ts). */
  telemetry?: (row: TelemetryRow) => void;
}

export interface ServedRoute {
  readonly name: string;
  readonly methods: readonly HttpMethod[];
  readonly route: string;
  /** Absolute URL of the route template, for example `http://127.0.0.1:7071/api/hello`. */
  readonly url: string;
}

export interface FunctionHost {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly routes: readonly ServedRoute[];
  /** Names of the settings taken from local.settings.json (the environment had no value for them). */
  readonly settingsFromFile: readonly string[];
  close(): Promise<void>;
}

interface LoadedRoute {
  readonly registration: Registration;
  readonly methods: readonly HttpMethod[];
  readonly template: RouteTemplate;
}

export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

/** The reason `code` of an `application/problem+json` answer (docs/responses.md), else `-`. */
function reasonCode(result: InvocationResult): string {
  const type = result.headers['content-type'];
  if (typeof type !== 'string' || !type.startsWith('application/problem+json')) return '-';
  try {
    const code = (JSON.parse(result.body.toString('utf8')) as { code?: unknown }).code;
    return typeof code === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(code) ? code : '-';
  } catch {
    return '-';
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Serves every HTTP trigger of the built app on 127.0.0.1 under `/<routePrefix>/<route>` (host.json,
 * default `api`), without Core Tools: real `HttpRequest`/`InvocationContext` objects in, the
 * handler's `HttpResponseInit`/`HttpResponse` out. A failing handler gets a 500; the host lives on.
 */
export async function startFunctionHost(options: FunctionHostOptions): Promise<FunctionHost> {
  const projectRoot = path.resolve(options.projectRoot);
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const limit = options.maxRequestBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  const emit = options.telemetry ?? (() => undefined);
  const starting = performance.now();

  const settingsFromFile = applyLocalSettings(projectRoot, env);
  const prefix = readRoutePrefix(projectRoot);
  const prefixSegments = prefix === '' ? [] : prefix.toLowerCase().split('/');
  const routes: LoadedRoute[] = loadRegistrations(projectRoot)
    .map((registration) => {
      try {
        return {
          registration,
          methods: normaliseMethods(registration.methods),
          template: parseRouteTemplate(registration.route),
        };
      } catch (error) {
        throw new HostConfigurationError(`Function "${registration.name}": ${message(error)}`, {
          cause: error,
        });
      }
    })
    .sort((a, b) => compareRoutes(a.template, b.template));

  let port = 0;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = req.url ?? '/';
    const queryAt = raw.indexOf('?');
    const pathname = queryAt === -1 ? raw : raw.slice(0, queryAt);
    const started = performance.now();
    const startedAt = new Date();
    let functionName = '-';
    let invocationId = '-';
    // Why the auth layer refused the request, when its refusal note says (a 503's key fetch).
    let refusalWhy = '';
    // The token version and caller its refusal record names (functions/telemetry/refusal-record.ts).
    let refusalFacts = '';

    // The one line of each request: method, path, status, reason code, duration, function, id,
    // and for a 503 of the auth layer why the signing keys were unavailable.
    const send = (
      status: number,
      headers: Record<string, string | string[]>,
      body: Buffer | string,
      reason = '-',
    ): void => {
      writeResponse(res, status, headers, body, { head: method === 'HEAD' });
      const ms = Math.round(performance.now() - started);
      log(
        `${method} ${printablePath(pathname)} ${status} ${reason} ${ms}ms ${functionName} ${invocationId}${refusalFacts}${refusalWhy}`,
      );
    };
    const sendProblem = (
      reply: ProblemReply,
      reason: string,
      extra: Record<string, string> = {},
    ): void => send(reply.status, { ...reply.headers, ...extra }, reply.body, reason);

    let segments: string[];
    try {
      if (!pathname.startsWith('/')) throw new URIError('not origin-form');
      segments = pathname
        .slice(1)
        .split('/')
        .map((segment) => decodeURIComponent(segment));
    } catch {
      sendProblem(problem(400, 'Bad Request', 'The request path is malformed.'), 'bad_path');
      return;
    }
    if (segments.at(-1) === '') segments.pop();
    if (segments.length === 0 && (method === 'GET' || method === 'HEAD')) {
      // Like the Functions host's home page: a cheap answer that the host is up (npm start waits on it).
      send(200, { 'Content-Type': 'text/plain; charset=utf-8' }, 'The function app is running.\n');
      return;
    }
    const underPrefix = prefixSegments.every(
      (segment, i) => segments[i]?.toLowerCase() === segment,
    );
    const below = segments.slice(prefixSegments.length);
    const matches = underPrefix
      ? routes.flatMap((route) => {
          const params = matchRoute(route.template, below);
          return params ? [{ route, params }] : [];
        })
      : [];
    if (matches.length === 0) {
      sendProblem(problem(404, 'Not Found', 'No function is served at this path.'), 'no_function');
      return;
    }
    const chosen = matches.find((match) => match.route.methods.includes(method as HttpMethod));
    if (!chosen) {
      const allow = [...new Set(matches.flatMap((match) => match.route.methods))].join(', ');
      sendProblem(
        problem(405, 'Method Not Allowed', `This path answers ${allow}.`),
        'method_not_allowed',
        { Allow: allow },
      );
      return;
    }

    const body = await readCappedBody(req, limit);
    if (!body) {
      sendProblem(
        problem(413, 'Content Too Large', `The request body is larger than ${limit} bytes.`),
        'body_too_large',
        { Connection: 'close' },
      );
      return;
    }

    const { registration } = chosen.route;
    const name = (functionName = registration.name);
    const id = (invocationId = randomUUID());
    let request: HttpRequest;
    try {
      request = triggerRequest(req, chosen.params, body, `${LOOPBACK}:${port}`);
    } catch {
      sendProblem(
        problem(
          400,
          'Bad Request',
          'The request cannot be represented as an HTTP trigger request.',
        ),
        'bad_request',
      );
      return;
    }
    const traceparent = req.headers.traceparent;
    const operation = operationOf(typeof traceparent === 'string' ? traceparent : null);
    const invocation = { functionName: name, invocationId: id, operationId: operation.operationId };
    const context = new InvocationContext({
      invocationId: id,
      functionName: name,
      traceContext: {
        traceParent: `00-${operation.operationId}-${operation.parentId.slice(0, 16)}-01`,
      },
      logHandler: (level, ...args: unknown[]) => {
        const message = format(...args);
        emit(traceRow(level, message, invocation));
        // The refusal record: its facts join the request line, which has its code already.
        const record = parseRefusalRecord(message);
        if (record?.invocationId === id) {
          if (record.tokenVersion !== null) refusalFacts += ` token=${record.tokenVersion}`;
          if (record.callerObjectId !== null) refusalFacts += ` caller=${record.callerObjectId}`;
          return;
        }
        // The auth layer notes each refusal (functions/auth/refusal-note.ts); its code is in the
        // request line already, and so is its reason, so the host does not write it twice.
        const note = level === 'warning' ? parseRefusalNote(message) : undefined;
        if (note?.invocationId === id) {
          if (note.why !== undefined) refusalWhy = ` (${note.why})`;
          return;
        }
        log(`[${level}] ${name} ${id} ${message}`);
      },
    });

    const recordRequest = (status: number): void =>
      emit(
        requestRow({
          ...invocation,
          startedAt,
          parentId: operation.parentId,
          url: request.url,
          status,
          durationMs: Math.round(performance.now() - started),
        }),
      );
    let result: InvocationResult;
    try {
      result = await invokeHandler(registration.handler, request, context);
    } catch (error) {
      const detail =
        error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
      log(`[error] ${name} ${id} The function failed: ${detail}`);
      recordRequest(500);
      sendProblem(
        problem(500, 'Internal Server Error', 'The function failed; the host log has the details.'),
        'function_failed',
      );
      return;
    }
    recordRequest(result.status);
    send(result.status, result.headers, result.body, reasonCode(result));
  };

  const server = http.createServer((req, res) => {
    options.onRequest?.();
    handle(req, res).catch((error: unknown) => {
      log(
        `[error] host failed to answer ${req.method ?? '?'} ${printablePath((req.url ?? '').split('?')[0]!)}: ${message(error)}`,
      );
      if (!res.headersSent) {
        const reply = problem(500, 'Internal Server Error', 'The host failed to answer.');
        writeResponse(res, reply.status, reply.headers, reply.body);
      } else {
        res.destroy();
      }
    });
  });
  refuseUnparsableRequests(server);

  port = await listen(server, options.port ?? 0, options.portVariable);
  emit(hostStartedRow(Math.round(performance.now() - starting)));
  const url = `http://${LOOPBACK}:${port}`;
  const base = prefix === '' ? url : `${url}/${prefix}`;
  return {
    url,
    port,
    settingsFromFile,
    routes: routes.map(({ registration, methods }) => ({
      name: registration.name,
      methods,
      route: registration.route,
      url: `${base}/${registration.route.replace(/^\/+/, '')}`,
    })),
    close: () => closeServer(server),
  };
}
