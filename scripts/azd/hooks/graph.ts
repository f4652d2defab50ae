import type { TokenCredential } from '@azure/identity';
import { callerClaimsOfToken, type CallerClaims, type CallerKind } from './caller';
import { parseServiceEndpoint, scopeForEndpoint } from '../shared/endpoint';
import { RestClient, RestError, type RestRequest, type RestResponse } from '../shared/rest';

export const DEFAULT_GRAPH_ENDPOINT = 'https://graph.microsoft.com';
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

/**
 * What the caller needs for one kind of Graph call, and what an admin can do about it: a user
 * signed in to azd (delegated permission and Entra roles), or an application signed in as itself,
 * such as a pipeline's service principal (application permissions, granted with admin consent).
 */
export interface GraphPermission {
  /** What the hook was doing, completing "Microsoft Graph refused to ...". */
  readonly action: string;
  readonly delegatedPermission: string;
  readonly roles: string;
  readonly adminAction: string;
  /** The least privileged Graph application permissions of the call (Graph API reference). */
  readonly applicationPermission: string;
  readonly applicationAdminAction: string;
}

/** Where an administrator grants a service principal its Graph application permissions. */
const GRANT_APPLICATION_PERMISSION =
  "grant it to the pipeline's app registration (API permissions > Microsoft Graph > Application " +
  'permissions, then Grant admin consent)';

export const GRAPH_PERMISSIONS = {
  manageApplication: {
    action: 'create or update the app registration',
    delegatedPermission: 'Application.ReadWrite.All',
    roles:
      'the right to register applications (members have it unless an administrator turned off ' +
      '"Users can register applications"), else the Application Developer role (or Cloud ' +
      'Application Administrator / Application Administrator)',
    adminAction:
      'assign you the Application Developer role in Microsoft Entra ID (Roles and administrators), ' +
      'or allow users to register applications (User settings)',
    applicationPermission: 'Application.ReadWrite.OwnedBy (with Application.Read.All)',
    applicationAdminAction:
      `${GRANT_APPLICATION_PERMISSION}. With it the pipeline changes only the registrations it ` +
      'owns, which are those it created: for one created by someone else (for example by `azd up` ' +
      "from a workstation with the same environment name), an owner can add the pipeline's " +
      'service principal as an owner of the registration and of its service principal',
  },
  // learn.microsoft.com/graph/api/serviceprincipal-upsert: a user who is not an administrator
  // needs the Application Developer role to create the service principal of an app they own.
  manageServicePrincipal: {
    action: "create or update the app registration's service principal",
    delegatedPermission: 'Application.ReadWrite.All',
    roles:
      'the Application Developer role (or Cloud Application Administrator / Application ' +
      'Administrator): registering an application does not by itself allow a user who is not ' +
      'an administrator to create its service principal',
    adminAction:
      'assign you the Application Developer role in Microsoft Entra ID (Roles and administrators) ' +
      'and run `azd provision` again',

    applicationPermission: 'Application.ReadWrite.OwnedBy (with Application.Read.All)',
    applicationAdminAction:
      `${GRANT_APPLICATION_PERMISSION}. With it the pipeline creates the service principal of a ` +
      'registration it owns; for a registration created by someone else, an owner can add the ' +
      "pipeline's service principal as an owner of the registration and of its service principal",
  },
  assignAppRole: {
    action: "assign the API's app role to API Management's managed identity",
    delegatedPermission: 'AppRoleAssignment.ReadWrite.All (with Application.Read.All)',
    roles:
      'one of the Microsoft Entra roles Cloud Application Administrator, Application Administrator ' +
      'or Privileged Role Administrator',
    adminAction:
      'assign you Cloud Application Administrator for the time of the deployment, or grant the app ' +
      "role themselves (POST /v1.0/servicePrincipals/{API_SP_OBJECT_ID}/appRoleAssignedTo with APIM's " +
      'principal id) and run `azd provision` again',
    applicationPermission: 'AppRoleAssignment.ReadWrite.All and Application.Read.All',
    applicationAdminAction:
      `${GRANT_APPLICATION_PERMISSION}, or grant the app role themselves (POST ` +
      "/v1.0/servicePrincipals/{API_SP_OBJECT_ID}/appRoleAssignedTo with APIM's principal id) and " +
      'run the pipeline again',
  },
  deleteApplication: {
    action: 'delete the app registration and its service principal',
    delegatedPermission: 'Application.ReadWrite.All',
    roles:
      'ownership of the app registration (the user who created it owns it) or Cloud Application ' +
      'Administrator / Application Administrator',
    adminAction:
      'delete the app registration named in the message above, or add you as its owner, and run ' +
      '`azd down` again',
    applicationPermission: 'Application.ReadWrite.OwnedBy (with Application.Read.All)',
    applicationAdminAction:
      `${GRANT_APPLICATION_PERMISSION}; the pipeline deletes only registrations it owns, so an ` +
      "administrator may also delete it, or add the pipeline's service principal as its owner",
  },
  purgeDeleted: {
    action: 'permanently delete the removed app registration from deleted items',
    delegatedPermission: 'Application.ReadWrite.All',
    roles:
      'Cloud Application Administrator, Application Administrator or Hybrid Identity Administrator',
    adminAction:
      'permanently delete it under Microsoft Entra ID > App registrations > Deleted applications ' +
      '(Entra also removes it by itself after 30 days)',
    applicationPermission: 'Application.ReadWrite.OwnedBy',
    applicationAdminAction:
      `${GRANT_APPLICATION_PERMISSION}, or purge it under Microsoft Entra ID > App registrations > ` +
      'Deleted applications (Entra also removes it by itself after 30 days)',
  },
} as const satisfies Record<string, GraphPermission>;

export interface GraphRequest extends RestRequest {
  readonly permission: GraphPermission;
}

export function permissionMessage(
  permission: GraphPermission,
  serviceCode: string | undefined,
  caller: CallerKind = 'unknown',
): string {
  const refused = `Microsoft Graph refused to ${permission.action} (403${serviceCode ? ` ${serviceCode}` : ''}). `;
  if (caller === 'application') {
    return (
      refused +
      'azd is signed in as an application (a service principal, as in a pipeline), which needs ' +
      `the Microsoft Graph application permission ${permission.applicationPermission}. ` +
      `An administrator of the tenant can ${permission.applicationAdminAction}.`
    );
  }
  return (
    refused +
    `The user signed in to azd needs the delegated permission ${permission.delegatedPermission} ` +
    `and ${permission.roles}. An administrator of the tenant can ${permission.adminAction}.`
  );
}

/** Microsoft Graph, as the hooks use it: REST plus a permission hint on every call. */
export class GraphClient {
  constructor(
    private readonly rest: RestClient,
    /** Who the last token was issued to: for the wording of a refusal, and preflight checks. */
    private readonly claims: () => CallerClaims = () => ({ kind: 'unknown', roles: [], wids: [] }),
  ) {}

  /** The caller of the last request (known once a request was made); never the token itself. */
  caller(): CallerClaims {
    return this.claims();
  }

  async request(request: GraphRequest): Promise<RestResponse> {
    try {
      return await this.rest.request(request);
    } catch (error: unknown) {
      throw translate(error, request.permission, this.claims().kind);
    }
  }

  async getAll<T>(path: string, permission: GraphPermission): Promise<T[]> {
    try {
      return await this.rest.getAll<T>(path);
    } catch (error: unknown) {
      throw translate(error, permission, this.claims().kind);
    }
  }
}

function translate(error: unknown, permission: GraphPermission, caller: CallerKind): unknown {
  if (error instanceof RestError && error.status === 403) {
    return new RestError(
      'permission_denied',
      permissionMessage(permission, error.serviceCode, caller),
      403,
      error.serviceCode,
      { cause: error },
    );
  }
  if (error instanceof RestError && error.status === 401) {
    return new RestError(
      'credential_unavailable',
      caller === 'application'
        ? 'Microsoft Graph did not accept the token of the application signed in to azd (401). ' +
            "Check the pipeline's `azd auth login` (client id, tenant id, federated credential) and " +
            'run it again.'
        : `Microsoft Graph did not accept the token of the user signed in to azd (401). ` +
            'Run `azd auth login` (for the tenant of the subscription) and try again.',
      401,
      error.serviceCode,
      { cause: error },
    );
  }
  return error;
}

export interface GraphClientOptions {
  readonly credential: TokenCredential;
  /** `GRAPH_ENDPOINT` (tests point it at a loopback fake); default the public cloud. */
  readonly endpoint?: string;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

export function createGraphClient(options: GraphClientOptions): GraphClient {
  const endpoint = parseServiceEndpoint(
    'GRAPH_ENDPOINT',
    options.endpoint === undefined || options.endpoint === ''
      ? DEFAULT_GRAPH_ENDPOINT
      : options.endpoint,
  );
  // Notes who each token was issued to (user or application), for the wording of refusals.
  let caller: CallerClaims = { kind: 'unknown', roles: [], wids: [] };
  const credential: TokenCredential = {
    async getToken(scopes, getTokenOptions) {
      const token = await options.credential.getToken(scopes, getTokenOptions);
      if (token) caller = callerClaimsOfToken(token.token);
      return token;
    },
  };
  return new GraphClient(
    new RestClient({
      endpoint,
      scope: scopeForEndpoint(endpoint, GRAPH_SCOPE),
      credential,
      serviceName: 'Microsoft Graph',
      fetch: options.fetch,
      sleep: options.sleep,
    }),
    () => caller,
  );
}

/** A key for an OData alternate-key segment, `'...'` with quotes doubled and URL-encoded. */
export function odataKey(value: string): string {
  return encodeURIComponent(`'${value.replace(/'/g, "''")}'`);
}

/** True when Graph says the object does not exist (404), whatever the code. */
export function isNotFound(error: unknown): boolean {
  return error instanceof RestError && error.status === 404;
}
