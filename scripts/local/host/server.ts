import {
  HttpHandler,
  HttpMethod,
  HttpRequest,
  HttpResponse,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import type { Cookie } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import { format } from 'node:util';
import { LOOPBACK, listen } from '../shared/ports';
import { collectRegistrations } from './core-api';
import { matchFiles } from './glob';
import {
  RouteTemplate,
  compareRoutes,
  matchRoute,
  normaliseMethods,
  parseRouteTemplate,
} from './routes';
import { HostConfigurationError, applyLocalSettings, readRoutePrefix } from './settings';

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

/** A trigger as @azure/functions registered it with the host (see core-api.ts). */
interface Registration {
  readonly name: string;
  readonly methods: readonly string[];
  readonly route: string;
  readonly handler: HttpHandler;
}

interface LoadedRoute {
  readonly registration: Registration;
  readonly methods: readonly HttpMethod[];
  readonly template: RouteTemplate;
}

export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

function problem(
  status: number,
  title: string,
  detail: string,
): { status: number; headers: Record<string, string>; body: string } {
  return {
    status,
    headers: { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' },
    body: JSON.stringify({ type: 'about:blank', title, status, detail }),
  };
}

function printablePath(value: string): string {
  const clean = value.replace(/\p{Cc}/gu, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}...` : clean;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Loads the built app the way the Functions host does (every file that package.json `main`
 * matches), and serves the triggers the files registered with @azure/functions: the one source of
 * truth for the routes served.
 */
function loadRegistrations(projectRoot: string): Registration[] {
  const packageFile = path.join(projectRoot, 'package.json');
  let main: unknown;
  try {
    main = (JSON.parse(fs.readFileSync(packageFile, 'utf8')) as { main?: unknown }).main;
  } catch (error) {
    throw new HostConfigurationError(`${packageFile} cannot be read: ${message(error)}`, {
      cause: error,
    });
  }
  if (typeof main !== 'string' || main.trim() === '') {
    throw new HostConfigurationError(
      `${packageFile} has no "main" naming the compiled function files (for example "dist/functions/*.js").`,
    );
  }
  let files: string[];
  try {
    files = matchFiles(projectRoot, main);
  } catch (error) {
    throw new HostConfigurationError(`${packageFile}: ${message(error)}`, { cause: error });
  }
  if (files.length === 0) {
    throw new HostConfigurationError(
      `No files match package.json "main" (${main}) in ${projectRoot}. Run \`npm run build\` first.`,
    );
  }
  // A project loaded before (another host in this process) is loaded afresh, so that its files
  // register their triggers again.
  const load = createRequire(packageFile);
  const dist = path.join(projectRoot, 'dist') + path.sep;
  for (const cached of Object.keys(load.cache)) {
    if (cached.startsWith(dist)) delete load.cache[cached];
  }
  const registrations = collectRegistrations(() => {
    for (const file of files) {
      try {
        load(file);
      } catch (error) {
        throw new HostConfigurationError(
          `Loading ${path.relative(projectRoot, file)} failed: ${message(error)}`,
          { cause: error },
        );
      }
    }
  });
  if (registrations.length === 0) {
    throw new HostConfigurationError(
      `No HTTP triggers were registered: none of the files matching "${main}" registered one (with secureHttp(), functions/auth/register.ts).`,
    );
  }
  return registrations as Registration[];
}

function serializeCookie(cookie: Cookie): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain) parts.push(`Domain=${cookie.domain}`);
  if (cookie.path) parts.push(`Path=${cookie.path}`);
  if (cookie.expires !== undefined) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

function isHttpResponse(value: unknown): value is HttpResponse {
  const candidate = value as Partial<HttpResponse> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.headers instanceof Headers &&
    typeof candidate.status === 'number' &&
    typeof candidate.arrayBuffer === 'function'
  );
}

type BodyResult = { kind: 'body'; bytes: Buffer } | { kind: 'too_large' };

function readBody(req: http.IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: 'too_large' });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      total += chunk.length;
      if (total > limit) {
        done = true;
        chunks.length = 0;
        resolve({ kind: 'too_large' });
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => {
      if (!done) resolve({ kind: 'body', bytes: Buffer.concat(chunks) });
    });
    req.on('error', (error) => {
      if (!done) reject(error);
    });
  });
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
    let functionName = '-';
    let invocationId = '-';

    const send = (
      status: number,
      headers: Record<string, string | string[]>,
      body: Buffer | string,
    ): void => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      res.writeHead(status, { ...headers, 'Content-Length': String(bytes.length) });
      res.end(method === 'HEAD' ? undefined : bytes);
      log(`${method} ${printablePath(pathname)} ${status} ${functionName} ${invocationId}`);
    };
    const sendProblem = (
      reply: ReturnType<typeof problem>,
      extra: Record<string, string> = {},
    ): void => send(reply.status, { ...reply.headers, ...extra }, reply.body);

    let segments: string[];
    try {
      if (!pathname.startsWith('/')) throw new URIError('not origin-form');
      segments = pathname
        .slice(1)
        .split('/')
        .map((segment) => decodeURIComponent(segment));
    } catch {
      sendProblem(problem(400, 'Bad Request', 'The request path is malformed.'));
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
      sendProblem(problem(404, 'Not Found', 'No function is served at this path.'));
      return;
    }
    const chosen = matches.find((match) => match.route.methods.includes(method as HttpMethod));
    if (!chosen) {
      const allow = [...new Set(matches.flatMap((match) => match.route.methods))].join(', ');
      sendProblem(problem(405, 'Method Not Allowed', `This path answers ${allow}.`), {
        Allow: allow,
      });
      return;
    }

    const body = await readBody(req, limit);
    if (body.kind === 'too_large') {
      sendProblem(
        problem(413, 'Content Too Large', `The request body is larger than ${limit} bytes.`),
        { Connection: 'close' },
      );
      return;
    }

    const { registration } = chosen.route;
    functionName = registration.name;
    invocationId = randomUUID();
    // Every value of a repeated header, joined as the Functions host joins them: req.headers would
    // keep only the first of two Authorization headers, accepting what Azure refuses.
    const headers: Record<string, string> = {};
    for (const [name, values] of Object.entries(req.headersDistinct)) {
      if (values !== undefined) headers[name] = values.join(name === 'cookie' ? '; ' : ', ');
    }
    const query: Record<string, string> = {};
    const search = new URLSearchParams(queryAt === -1 ? '' : raw.slice(queryAt + 1));
    for (const name of new Set(search.keys())) query[name] = search.getAll(name).join(',');
    const host = req.headers.host;
    const authority =
      host && /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)
        ? host
        : `${LOOPBACK}:${port}`;

    let request: HttpRequest;
    try {
      request = new HttpRequest({
        method,
        url: `http://${authority}${raw}`,
        headers,
        query,
        params: chosen.params,
        body: body.bytes.length > 0 ? { bytes: body.bytes } : undefined,
      });
    } catch {
      sendProblem(
        problem(
          400,
          'Bad Request',
          'The request cannot be represented as an HTTP trigger request.',
        ),
      );
      return;
    }
    const name = functionName;
    const id = invocationId;
    const context = new InvocationContext({
      invocationId: id,
      functionName: name,
      logHandler: (level, ...args: unknown[]) => log(`[${level}] ${name} ${id} ${format(...args)}`),
    });

    let response: HttpResponse;
    let bytes: Buffer;
    try {
      const result: unknown = await registration.handler(request, context);
      if (result !== undefined && result !== null && typeof result !== 'object') {
        // What @azure/functions itself says of such a result under the Functions host.
        throw new TypeError(
          'The HTTP response must be an object with optional properties "body", "status", "headers", and "cookies".',
        );
      }
      response = isHttpResponse(result)
        ? result
        : new HttpResponse(result as HttpResponseInit | undefined);
      bytes = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      const detail =
        error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
      log(`[error] ${name} ${id} The function failed: ${detail}`);
      sendProblem(
        problem(500, 'Internal Server Error', 'The function failed; the host log has the details.'),
      );
      return;
    }
    const out: Record<string, string | string[]> = {};
    response.headers.forEach((value, header) => {
      if (header !== 'set-cookie' && header !== 'content-length' && header !== 'transfer-encoding')
        out[header] = value;
    });
    const cookies = [...response.headers.getSetCookie(), ...response.cookies.map(serializeCookie)];
    if (cookies.length > 0) out['set-cookie'] = cookies;
    send(response.status, out, bytes);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(
        `[error] host failed to answer ${req.method ?? '?'} ${printablePath((req.url ?? '').split('?')[0]!)}: ${message(error)}`,
      );
      if (!res.headersSent) {
        const reply = problem(500, 'Internal Server Error', 'The host failed to answer.');
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body);
      } else {
        res.destroy();
      }
    });
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  port = await listen(server, options.port ?? 0, options.portVariable);
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
