import type { TokenCredential } from '@azure/identity';
import { parseServiceEndpoint, scopeForEndpoint } from '../shared/endpoint';
import { RestClient, RestError, type RestRequest, type RestResponse } from '../shared/rest';

export const DEFAULT_GRAPH_ENDPOINT = 'https://graph.microsoft.com';
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

/** What the signed-in user needs for one kind of Graph call, and what an admin can do about it. */
export interface GraphPermission {
  /** What the hook was doing, completing "Microsoft Graph refused to ...". */
  readonly action: string;
  readonly delegatedPermission: string;
  readonly roles: string;
  readonly adminAction: string;
}

export const GRAPH_PERMISSIONS = {
  manageApplication: {
    action: 'create or update the app registration and its service principal',
    delegatedPermission: 'Application.ReadWrite.All',
    roles:
      'the right to register applications: users can register them by default, otherwise the ' +
      'Application Developer role (or Cloud Application Administrator / Application Administrator)',
    adminAction:
      'assign you the Application Developer role in Microsoft Entra ID (Roles and administrators), ' +
      'or allow users to register applications (User settings)',
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
  },
  purgeDeleted: {
    action: 'permanently delete the removed app registration from deleted items',
    delegatedPermission: 'Application.ReadWrite.All',
    roles:
      'Cloud Application Administrator, Application Administrator or Hybrid Identity Administrator',
    adminAction:
      'permanently delete it under Microsoft Entra ID > App registrations > Deleted applications ' +
      '(Entra also removes it by itself after 30 days)',
  },
} as const satisfies Record<string, GraphPermission>;

export interface GraphRequest extends RestRequest {
  readonly permission: GraphPermission;
}

export function permissionMessage(
  permission: GraphPermission,
  serviceCode: string | undefined,
): string {
  return (
    `Microsoft Graph refused to ${permission.action} (403${serviceCode ? ` ${serviceCode}` : ''}). ` +
    `The user signed in to azd needs the delegated permission ${permission.delegatedPermission} ` +
    `and ${permission.roles}. An administrator of the tenant can ${permission.adminAction}.`
  );
}

/** Microsoft Graph, as the hooks use it: REST plus a permission hint on every call. */
export class GraphClient {
  constructor(private readonly rest: RestClient) {}

  async request(request: GraphRequest): Promise<RestResponse> {
    try {
      return await this.rest.request(request);
    } catch (error: unknown) {
      throw translate(error, request.permission);
    }
  }

  async getAll<T>(path: string, permission: GraphPermission): Promise<T[]> {
    try {
      return await this.rest.getAll<T>(path);
    } catch (error: unknown) {
      throw translate(error, permission);
    }
  }
}

function translate(error: unknown, permission: GraphPermission): unknown {
  if (error instanceof RestError && error.status === 403) {
    return new RestError(
      'permission_denied',
      permissionMessage(permission, error.serviceCode),
      403,
      error.serviceCode,
      { cause: error },
    );
  }
  if (error instanceof RestError && error.status === 401) {
    return new RestError(
      'credential_unavailable',
      `Microsoft Graph did not accept the token of the user signed in to azd (401). ` +
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
  return new GraphClient(
    new RestClient({
      endpoint,
      scope: scopeForEndpoint(endpoint, GRAPH_SCOPE),
      credential: options.credential,
      serviceName: 'Microsoft Graph',
      fetch: options.fetch,
      sleep: options.sleep,
    }),
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
