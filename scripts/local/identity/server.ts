import crypto from 'node:crypto';
import http from 'node:http';
import {
  LOCAL_API_APP_ID_URI,
  LOCAL_API_CLIENT_ID,
  LOCAL_IDENTITIES,
  LOCAL_TENANT_ID,
  findLocalIdentity,
  identityUrls,
} from '../shared/environment';
import { LOOPBACK, listen } from '../shared/ports';
import { KeyStore, createMemoryKeyStore } from './keys';
import { MintOptions, TokenIssuer, TokenVersion, createTokenIssuer } from './tokens';

export interface IdentityServerOptions {
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Environment variable that sets the port, named in the error when the port is taken. */
  portVariable?: string;
  /** The version of the tokens the managed identity endpoint issues (the API registration's choice). Default 2. */
  tokenVersion?: TokenVersion;
  /** The `X-IDENTITY-HEADER` value callers must send (`IDENTITY_HEADER`); default a random one. */
  identityHeader?: string;
  /** Default: keys in memory, generated now. */
  keys?: KeyStore;
  tokenLifetimeSeconds?: number;
  /** Milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
  /** One line per request (method, path without query, status); default `console.log`. */
  log?: (line: string) => void;
}

export interface IdentityServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly identityHeader: string;
  /** Issuers, JWKS and managed identity endpoints of this stand-in. */
  readonly urls: ReturnType<typeof identityUrls>;
  mint(identityName: string, options?: MintOptions): string;
  /** A new key signs from now on; the previous one stays in the JWKS. */
  rotateKeys(): void;
  close(): Promise<void>;
}

/** The App Service managed identity protocol version that @azure/identity speaks. */
export const MANAGED_IDENTITY_API_VERSION = '2019-08-01';

const ACCEPTED_RESOURCES = new Set(
  [
    LOCAL_API_CLIENT_ID,
    `${LOCAL_API_CLIENT_ID}/`,
    LOCAL_API_APP_ID_URI,
    `${LOCAL_API_APP_ID_URI}/`,
  ].map((value) => value.toLowerCase()),
);

type Json = Record<string, unknown>;

interface Reply {
  status: number;
  body: Json;
  headers?: Record<string, string>;
}

function secretsEqual(expected: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  const a = crypto.createHash('sha256').update(expected).digest();
  const b = crypto.createHash('sha256').update(actual).digest();
  return crypto.timingSafeEqual(a, b);
}

function printable(value: string, max = 200): string {
  const clean = value.replace(/\p{Cc}/gu, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

function oauthError(status: number, error: string, description: string): Reply {
  return { status, body: { error, error_description: description } };
}

/**
 * Starts the local stand-in for Entra ID on 127.0.0.1: signing keys (JWKS), OpenID discovery
 * documents, and the App Service managed identity endpoint for the local identities.
 */
export async function startIdentityServer(
  options: IdentityServerOptions = {},
): Promise<IdentityServer> {
  const identityHeader = options.identityHeader ?? crypto.randomBytes(24).toString('base64url');
  if (
    typeof identityHeader !== 'string' ||
    identityHeader.trim() === '' ||
    /[\p{Cc}\s]/u.test(identityHeader)
  ) {
    throw new TypeError(
      'identityHeader must be a non-empty string without spaces or control characters.',
    );
  }
  const keys = options.keys ?? createMemoryKeyStore();
  const log = options.log ?? ((line: string) => console.log(line));
  const tokenVersion = options.tokenVersion ?? 2;

  // The issuer needs the port, which is known only after listening.
  let baseUrl = '';
  const state: { issuer?: TokenIssuer } = {};
  const issuerOrThrow = (): TokenIssuer => {
    if (!state.issuer) throw new Error('The identity stand-in is not listening.');
    return state.issuer;
  };

  const jwks = (): Json => ({
    keys: keys.published().map((key) => ({
      kty: key.jwk.kty,
      use: 'sig',
      kid: key.kid,
      x5t: key.kid,
      n: key.jwk.n,
      e: key.jwk.e,
      alg: 'RS256',
    })),
  });

  const discovery = (version: 1 | 2): Json => {
    const urls = identityUrls(baseUrl);
    const tenantBase = `${baseUrl}/${LOCAL_TENANT_ID}`;
    const oauth = version === 2 ? `${tenantBase}/oauth2/v2.0` : `${tenantBase}/oauth2`;
    return {
      issuer: version === 2 ? urls.issuerV2 : urls.issuerV1,
      jwks_uri: version === 2 ? urls.jwksUri : `${tenantBase}/discovery/keys`,
      token_endpoint: `${oauth}/token`,
      authorization_endpoint: `${oauth}/authorize`,
      token_endpoint_auth_methods_supported: [
        'client_secret_post',
        'private_key_jwt',
        'client_secret_basic',
      ],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      tenant_region_scope: null,
      cloud_instance_name: 'local',
    };
  };

  const managedIdentityToken = (
    identityName: string,
    query: URLSearchParams,
    headers: http.IncomingHttpHeaders,
  ): Reply => {
    const sent = headers['x-identity-header'];
    if (!secretsEqual(identityHeader, typeof sent === 'string' ? sent : undefined)) {
      return oauthError(
        401,
        'unauthorized',
        'The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.',
      );
    }
    const identity = findLocalIdentity(identityName);
    if (!identity) {
      const known = LOCAL_IDENTITIES.map((candidate) => candidate.name).join(', ');
      return oauthError(
        404,
        'identity_not_found',
        `No local managed identity named "${printable(identityName, 60)}". Known identities: ${known}.`,
      );
    }
    const apiVersion = query.get('api-version');
    if (apiVersion !== MANAGED_IDENTITY_API_VERSION) {
      return oauthError(
        400,
        'invalid_request',
        apiVersion === null
          ? `The api-version query parameter is required (${MANAGED_IDENTITY_API_VERSION}).`
          : `Unsupported api-version; this endpoint speaks ${MANAGED_IDENTITY_API_VERSION}.`,
      );
    }
    const clientId = query.get('client_id');
    const principalId = query.get('principal_id') ?? query.get('object_id');
    if (
      query.has('mi_res_id') ||
      (clientId !== null && clientId.toLowerCase() !== identity.clientId) ||
      (principalId !== null && principalId.toLowerCase() !== identity.objectId)
    ) {
      return oauthError(
        400,
        'invalid_request',
        `The requested identity is not the one served at /msi/${identity.name}/token.`,
      );
    }
    const resource = query.get('resource');
    if (resource === null || resource === '') {
      return oauthError(400, 'invalid_request', 'The resource query parameter is required.');
    }
    if (!ACCEPTED_RESOURCES.has(resource.toLowerCase())) {
      return oauthError(
        400,
        'invalid_resource',
        `AADSTS500011: The resource principal named ${printable(resource)} was not found in the tenant named ${LOCAL_TENANT_ID}. ` +
          'This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. ' +
          'You might have sent your authentication request to the wrong tenant.',
      );
    }
    // v1 tokens carry the resource as requested; v2 tokens always carry the client id.
    const issued = issuerOrThrow().issue(identity, {
      audience: tokenVersion === 1 ? resource : LOCAL_API_CLIENT_ID,
    });
    return {
      status: 200,
      headers: { 'Cache-Control': 'no-store' },
      body: {
        access_token: issued.token,
        expires_on: String(issued.expiresOn),
        resource,
        token_type: 'Bearer',
        client_id: identity.clientId,
      },
    };
  };

  const route = (req: http.IncomingMessage, segments: string[], query: URLSearchParams): Reply => {
    const method = req.method ?? 'GET';
    const onlyGet = (make: () => Reply): Reply =>
      method === 'GET'
        ? make()
        : { ...oauthError(405, 'method_not_allowed', 'Use GET.'), headers: { Allow: 'GET' } };

    if (segments.length === 3 && segments[0] === 'msi' && segments[2] === 'token') {
      return onlyGet(() => managedIdentityToken(segments[1]!, query, req.headers));
    }
    const [tenant, ...rest] = segments;
    const path = rest.join('/');
    // A Map, not an object literal: a path such as `constructor` must not find Object.prototype.
    const known = new Map<string, () => Reply>([
      ['discovery/v2.0/keys', () => ({ status: 200, body: jwks() })],
      ['discovery/keys', () => ({ status: 200, body: jwks() })],
      ['v2.0/.well-known/openid-configuration', () => ({ status: 200, body: discovery(2) })],
      ['.well-known/openid-configuration', () => ({ status: 200, body: discovery(1) })],
    ]);
    const isTokenEndpoint = path === 'oauth2/v2.0/token' || path === 'oauth2/token';
    const make = known.get(path);
    if (tenant === undefined || (!make && !isTokenEndpoint)) {
      return oauthError(404, 'not_found', 'Not found.');
    }
    if (tenant.toLowerCase() !== LOCAL_TENANT_ID) {
      return oauthError(
        404,
        'invalid_tenant',
        `Only the local tenant ${LOCAL_TENANT_ID} exists here.`,
      );
    }
    if (isTokenEndpoint) {
      return method === 'POST'
        ? oauthError(
            400,
            'unsupported_grant_type',
            'The local identity stand-in issues tokens only through the managed identity endpoint (/msi/{identity}/token) and `npm run identity -- mint`.',
          )
        : { ...oauthError(405, 'method_not_allowed', 'Use POST.'), headers: { Allow: 'POST' } };
    }
    return onlyGet(make!);
  };

  const server = http.createServer((req, res) => {
    const raw = req.url ?? '/';
    const queryAt = raw.indexOf('?');
    const pathname = queryAt === -1 ? raw : raw.slice(0, queryAt);
    let reply: Reply;
    try {
      if (!pathname.startsWith('/')) {
        reply = oauthError(400, 'invalid_request', 'Malformed request target.');
      } else {
        let segments: string[] | undefined;
        try {
          segments = pathname
            .slice(1)
            .split('/')
            .map((segment) => decodeURIComponent(segment));
        } catch {
          segments = undefined;
        }
        reply = segments
          ? route(req, segments, new URLSearchParams(queryAt === -1 ? '' : raw.slice(queryAt + 1)))
          : oauthError(400, 'invalid_request', 'Malformed path.');
      }
    } catch (error) {
      log(
        `error while answering ${req.method ?? '?'} ${printable(pathname)}: ${error instanceof Error ? error.message : String(error)}`,
      );
      reply = oauthError(500, 'server_error', 'The identity stand-in failed; see its log.');
    }
    const body = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      ...reply.headers,
    });
    res.end(body);
    // Drain any request body so the connection stays usable; the stand-in never reads one.
    req.resume();
    log(`${req.method ?? '?'} ${printable(pathname)} ${reply.status}`);
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const port = await listen(server, options.port ?? 0, options.portVariable);
  baseUrl = `http://${LOOPBACK}:${port}`;
  state.issuer = createTokenIssuer({
    baseUrl,
    keys,
    tokenVersion,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds,
    now: options.now,
  });

  return {
    url: baseUrl,
    port,
    identityHeader,
    urls: identityUrls(baseUrl),
    mint: (identityName, mintOptions) => issuerOrThrow().mint(identityName, mintOptions),
    rotateKeys: () => keys.rotate(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
