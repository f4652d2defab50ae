/**
 * The local stand-in for the Azure side of the secured path: one tenant, one app registration
 * for the function app, and the managed identities that may ask for tokens. Every local tool
 * (identity stand-in, built-in host, gateway, `npm start`, tests) takes its values from here.
 *
 * These ids are fixed, made-up GUIDs: they exist only on this machine.
 */

/** The local tenant (`tid`). */
export const LOCAL_TENANT_ID = '8d3a6f1e-2b4c-4d5e-9f60-7a8b9c0d1e2f';

/** The client id (appId) of the function app's local app registration: the token audience. */
export const LOCAL_API_CLIENT_ID = '3f9c2e71-5a4b-4c8d-9e10-2b3c4d5e6f70';

/** The App ID URI of the local app registration (v1 tokens may carry it as `aud`). */
export const LOCAL_API_APP_ID_URI = `api://${LOCAL_API_CLIENT_ID}`;

/** The application app role that callers must hold. Same value as in Azure (see infra/). */
export const APP_ROLE = 'Api.Invoke';

export interface LocalIdentity {
  /** Name used in URLs and on the command line. */
  readonly name: string;
  readonly description: string;
  /** `oid`: principal id of the managed identity. */
  readonly objectId: string;
  /** `azp`/`appid`: client id of the managed identity. */
  readonly clientId: string;
  /** App roles assigned to it on the local app registration. */
  readonly roles: readonly string[];
}

/** The identity that plays API Management's system-assigned managed identity: allowed, with the role. */
export const APIM_IDENTITY: LocalIdentity = {
  name: 'apim',
  description: "API Management's managed identity: allowed to call, holds the app role",
  objectId: 'b1e2c3d4-1111-4a2b-8c3d-4e5f60718293',
  clientId: 'c2f3d4e5-2222-4b3c-9d4e-5f6071829304',
  roles: [APP_ROLE],
};

/** Another managed identity in the same tenant: its tokens are valid but it must be refused (403). */
export const INTRUDER_IDENTITY: LocalIdentity = {
  name: 'intruder',
  description: 'another managed identity in the tenant: not an allowed caller, no app role',
  objectId: 'd3a4b5c6-3333-4c4d-8e5f-607182930415',
  clientId: 'e4b5c6d7-4444-4d5e-9f60-718293041526',
  roles: [],
};

export const LOCAL_IDENTITIES: readonly LocalIdentity[] = [APIM_IDENTITY, INTRUDER_IDENTITY];

export function findLocalIdentity(name: string): LocalIdentity | undefined {
  return LOCAL_IDENTITIES.find((identity) => identity.name === name);
}

/** Default ports; each can be overridden with the environment variable of the same name. */
export const DEFAULT_PORTS = {
  FUNCTIONS_PORT: 7071,
  IDENTITY_PORT: 7072,
  GATEWAY_PORT: 7073,
} as const;

/** URLs the identity stand-in serves, for a stand-in listening at `baseUrl` (no trailing slash). */
export function identityUrls(baseUrl: string, tenantId: string = LOCAL_TENANT_ID) {
  return {
    /** Issuer of v1 tokens (Entra: `https://sts.windows.net/{tid}/`). */
    issuerV1: `${baseUrl}/${tenantId}/`,
    /** Issuer of v2 tokens (Entra: `https://login.microsoftonline.com/{tid}/v2.0`). */
    issuerV2: `${baseUrl}/${tenantId}/v2.0`,
    /** Signing keys (Entra: `https://login.microsoftonline.com/{tid}/discovery/v2.0/keys`). */
    jwksUri: `${baseUrl}/${tenantId}/discovery/v2.0/keys`,
    /** `IDENTITY_ENDPOINT` for the named local identity (App Service managed identity protocol). */
    managedIdentityEndpoint: (identityName: string) => `${baseUrl}/msi/${identityName}/token`,
  };
}

/**
 * The function app's `AUTH_*` settings that make it trust the identity stand-in at `identityBaseUrl`
 * exactly as the deployed app trusts Entra ID (same names as the app settings in infra/).
 */
export function localFunctionAppSettings(identityBaseUrl: string): Record<string, string> {
  const urls = identityUrls(identityBaseUrl);
  return {
    AUTH_TENANT_ID: LOCAL_TENANT_ID,
    AUTH_AUDIENCES: `${LOCAL_API_CLIENT_ID},${LOCAL_API_APP_ID_URI}`,
    AUTH_ALLOWED_CALLER_OBJECT_IDS: APIM_IDENTITY.objectId,
    AUTH_ALLOWED_CLIENT_IDS: APIM_IDENTITY.clientId,
    AUTH_REQUIRED_ROLES: APP_ROLE,
    AUTH_ISSUERS: `${urls.issuerV1},${urls.issuerV2}`,
    AUTH_JWKS_URI: urls.jwksUri,
  };
}
