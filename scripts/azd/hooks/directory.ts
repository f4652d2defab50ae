import {
  GRAPH_PERMISSIONS,
  isNotFound,
  odataKey,
  type GraphClient,
  type GraphPermission,
} from './graph';
import { RestError } from '../shared/rest';

/** The parts of Graph's `appRole` this project reads and writes. */
export interface AppRole {
  id: string;
  allowedMemberTypes: string[];
  value: string | null;
  displayName: string | null;
  description: string | null;
  isEnabled: boolean;
  [other: string]: unknown;
}

/** The parts of Graph's `application` this project reads and writes. */
export interface Application {
  id: string;
  appId: string;
  uniqueName?: string | null;
  displayName?: string | null;
  notes?: string | null;
  signInAudience?: string | null;
  identifierUris?: string[];
  api?: ({ requestedAccessTokenVersion?: number | null } & Record<string, unknown>) | null;
  appRoles?: AppRole[];
}

export interface ServicePrincipal {
  id: string;
  appId: string;
  appRoleAssignmentRequired?: boolean;
}

export interface AppRoleAssignment {
  id: string;
  principalId: string;
  resourceId: string;
  appRoleId: string;
}

export const APPLICATION_SELECT =
  'id,appId,uniqueName,displayName,notes,signInAudience,identifierUris,api,appRoles';
export const SERVICE_PRINCIPAL_SELECT = 'id,appId,appRoleAssignmentRequired';

export function applicationByUniqueNamePath(uniqueName: string): string {
  return `/v1.0/applications(uniqueName=${odataKey(uniqueName)})`;
}

export function servicePrincipalByAppIdPath(appId: string): string {
  return `/v1.0/servicePrincipals(appId=${odataKey(appId)})`;
}

async function getOrUndefined<T>(
  graph: GraphClient,
  path: string,
  permission: GraphPermission,
): Promise<T | undefined> {
  try {
    const { body } = await graph.request({ method: 'GET', path, expect: [200], permission });
    return body as T;
  } catch (error: unknown) {
    if (isNotFound(error)) {
      return undefined;
    }
    throw error;
  }
}

export function findApplication(
  graph: GraphClient,
  uniqueName: string,
  permission: GraphPermission = GRAPH_PERMISSIONS.manageApplication,
): Promise<Application | undefined> {
  return getOrUndefined<Application>(
    graph,
    `${applicationByUniqueNamePath(uniqueName)}?$select=${APPLICATION_SELECT}`,
    permission,
  );
}

export function findServicePrincipal(
  graph: GraphClient,
  appId: string,
  permission: GraphPermission = GRAPH_PERMISSIONS.manageApplication,
): Promise<ServicePrincipal | undefined> {
  return getOrUndefined<ServicePrincipal>(
    graph,
    `${servicePrincipalByAppIdPath(appId)}?$select=${SERVICE_PRINCIPAL_SELECT}`,
    permission,
  );
}

export function findDeletedItem<T>(graph: GraphClient, id: string): Promise<T | undefined> {
  return getOrUndefined<T>(
    graph,
    `/v1.0/directory/deletedItems/${encodeURIComponent(id)}`,
    GRAPH_PERMISSIONS.purgeDeleted,
  );
}

const REPLICATION_MESSAGE =
  /does not reference a valid application|NoBackingApplicationObject|not a valid reference|does not exist|not present|was not found|not found on application/i;

/**
 * True for the errors Microsoft Entra ID returns while an object created a moment ago has not
 * reached every replica yet: 404, or 400 naming a missing reference.
 */
export function isReplicationDelay(error: unknown): boolean {
  if (!(error instanceof RestError)) {
    return false;
  }
  if (error.status === 404) {
    return true;
  }
  return error.status === 400 && REPLICATION_MESSAGE.test(error.serviceMessage ?? '');
}

export function sameId(a: string | undefined | null, b: string | undefined | null): boolean {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}
