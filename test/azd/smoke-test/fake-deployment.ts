import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { API_ON_ERROR_BODY } from '../../../scripts/azd/smoke-test/builtin-errors';

/**
 * A deployment of the secured path on 127.0.0.1, in two loopback servers: a "function app" that
 * accepts only the bearer token the "gateway" holds, and a "gateway" that checks the subscription
 * key, swaps it for that token and strips backend headers. Each property the smoke test checks
 * can be switched off to prove the check fails.
 */
export interface DeploymentBehaviour {
  /** The function answers 200 to a call without a token. */
  functionOpen?: boolean;
  /** Unauthenticated direct calls get the platform's 401 (text/html) before the function runs. */
  platformBlocks?: boolean;
  /**
   * App Service Authentication refuses every token, API Management's included, with its 403
   * page (an `allowedApplications` stored as an empty list, pnp/Microsoft365-Analytics-Insights
   * PR #264); unauthenticated callers get its 401, as with `platformBlocks`.
   */
  easyAuthRefusesEveryApplication?: boolean;
  /** The object id /whoami reports; default API Management's. */
  whoamiObjectId?: string;
  /** The roles /whoami reports (a function: asked on every call); default `Api.Invoke`. */
  whoamiRoles?: string[] | (() => string[]);
  tokenVersion?: string;
  /** The gateway passes the function's X-Powered-By and Request-Context through. */
  gatewayLeaksHeaders?: boolean;
  /** The gateway echoes the subscription key in a response header. */
  echoKey?: boolean;
  /** The gateway lets any key (or none) through. */
  gatewayAcceptsAnyKey?: boolean;
  /** Built-in errors (key, operation) get API Management's own body, not the on-error problem. */
  builtInErrorsSkipOnError?: boolean;
  /**
   * The Function App's front end adds an `ARRAffinity` cookie for its own host name to every
   * response (Microsoft.Web/sites `clientAffinityEnabled`, on unless set to false), and the
   * gateway passes Set-Cookie through, as API Management does.
   */
  arrAffinity?: boolean;
  /**
   * NETWORK_ISOLATION=true: the front end admits only calls from API Management's integration
   * subnet (App Service access restrictions; here: the gateway's own calls) and answers any
   * other with 403 and the platform's page, before authentication or the function run.
   */
  accessRestricted?: boolean;
  /** Keyed calls that fail with 500 first, as while the role assignment propagates. */
  failuresBeforeReady?: number;
}

export interface FakeDeployment {
  readonly gatewayUrl: string;
  readonly functionUrl: string;
  readonly subscriptionKey: string;
  readonly apimObjectId: string;
  /** Paths the gateway received, in order. */
  readonly gatewayCalls: string[];
  close(): Promise<void>;
}

async function listen(
  handler: http.RequestListener,
): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function send(
  res: http.ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string,
) {
  res.writeHead(status, headers);
  res.end(body);
}

export async function startFakeDeployment(
  behaviour: DeploymentBehaviour = {},
): Promise<FakeDeployment> {
  const apimObjectId = 'b1e2c3d4-1111-4a2b-8c3d-4e5f60718293';
  const apimToken = `apim-token-${randomBytes(8).toString('hex')}`;
  const subscriptionKey = randomBytes(16).toString('hex');
  const gatewayCalls: string[] = [];
  let failures = behaviour.failuresBeforeReady ?? 0;

  // Stands for the source subnet the access restriction matches: only the gateway sends it.
  const fromIntegrationSubnet = randomBytes(8).toString('hex');
  const fn = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://function');
    if (behaviour.accessRestricted && req.headers['x-source-subnet'] !== fromIntegrationSubnet) {
      return send(res, 403, { 'content-type': 'text/html' }, '<h1>Ip Forbidden</h1>');
    }
    if (behaviour.arrAffinity) {
      res.setHeader('set-cookie', [
        `ARRAffinity=${randomBytes(32).toString('hex')};Path=/;HttpOnly;Secure;Domain=127.0.0.1`,
      ]);
    }
    const backendHeaders = {
      'X-Powered-By': 'ASP.NET',
      'Request-Context': 'appId=cid-v1:00000000-0000-0000-0000-000000000000',
    };
    const authorised = req.headers.authorization === `Bearer ${apimToken}`;
    if (authorised && behaviour.easyAuthRefusesEveryApplication) {
      return send(
        res,
        403,
        { 'content-type': 'text/html' },
        'You do not have permission to view this directory or page.',
      );
    }
    if (!authorised && !behaviour.functionOpen) {
      if (behaviour.platformBlocks || behaviour.easyAuthRefusesEveryApplication) {
        return send(
          res,
          401,
          { 'content-type': 'text/html' },
          'You do not have permission to view this directory or page.',
        );
      }
      return send(
        res,
        401,
        {
          'content-type': 'application/problem+json',
          'www-authenticate': 'Bearer',
          ...backendHeaders,
        },
        JSON.stringify({
          type: 'about:blank',
          title: 'Unauthorized',
          status: 401,
          code: 'missing_token',
        }),
      );
    }
    if (url.pathname === '/api/hello') {
      const name = url.searchParams.get('name') ?? 'world';
      return send(
        res,
        200,
        { 'content-type': 'application/json', ...backendHeaders },
        JSON.stringify({ message: `Hello, ${name}!` }),
      );
    }
    if (url.pathname === '/api/whoami') {
      return send(
        res,
        200,
        { 'content-type': 'application/json', ...backendHeaders },
        JSON.stringify({
          objectId: behaviour.whoamiObjectId ?? apimObjectId,
          clientId: 'c2f3d4e5-2222-4b3c-9d4e-5f6071829304',
          tenantId: '8d3a6f1e-2b4c-4d5e-9f60-7a8b9c0d1e2f',
          issuer: 'https://login.microsoftonline.com/8d3a6f1e-2b4c-4d5e-9f60-7a8b9c0d1e2f/v2.0',
          tokenVersion: behaviour.tokenVersion ?? '2.0',
          roles:
            typeof behaviour.whoamiRoles === 'function'
              ? behaviour.whoamiRoles()
              : (behaviour.whoamiRoles ?? ['Api.Invoke']),
          expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        }),
      );
    }
    return send(res, 404, { 'content-type': 'application/problem+json' }, '{"code":"not_found"}');
  });

  const gateway = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    gatewayCalls.push(url.pathname + url.search);
    const key = req.headers['ocp-apim-subscription-key'];
    // Built-in errors run the API's on-error section, which answers with its fixed problem.
    const builtInError = (status: number, message: string) =>
      behaviour.builtInErrorsSkipOnError
        ? send(
            res,
            status,
            { 'content-type': 'application/json' },
            JSON.stringify({ statusCode: status, message }),
          )
        : send(
            res,
            status,
            { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
            JSON.stringify(API_ON_ERROR_BODY),
          );
    if (url.pathname.startsWith('/api/') && !['/api/hello', '/api/whoami'].includes(url.pathname)) {
      return builtInError(404, 'Resource not found');
    }
    if (key !== subscriptionKey && !behaviour.gatewayAcceptsAnyKey) {
      return builtInError(401, 'Access denied due to invalid subscription key.');
    }
    if (!url.pathname.startsWith('/api/')) {
      return send(res, 404, { 'content-type': 'application/json' }, '{"statusCode":404}');
    }
    if (failures > 0) {
      failures--;
      return send(
        res,
        500,
        { 'content-type': 'application/problem+json' },
        '{"code":"gateway_error"}',
      );
    }
    const forward = http.request(
      `${fn.url}${url.pathname}${url.search}`,
      {
        headers: { authorization: `Bearer ${apimToken}`, 'x-source-subnet': fromIntegrationSubnet },
      },
      (backend) => {
        const headers: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(backend.headers)) {
          const hidden = ['x-powered-by', 'request-context'].includes(name);
          if (value !== undefined && (!hidden || behaviour.gatewayLeaksHeaders)) {
            headers[name] = value;
          }
        }
        if (behaviour.echoKey && typeof key === 'string') {
          headers['x-debug-subscription-key'] = key;
        }
        res.writeHead(backend.statusCode ?? 502, headers);
        backend.pipe(res);
      },
    );
    forward.on('error', () => send(res, 502, {}, ''));
    forward.end();
  });

  return {
    gatewayUrl: gateway.url,
    functionUrl: fn.url,
    subscriptionKey,
    apimObjectId,
    gatewayCalls,
    async close() {
      for (const { server } of [gateway, fn]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}
