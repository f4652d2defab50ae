import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { json, sendError } from './fake-graph-objects';

/**
 * What the permission preflight reads from the fake Graph about the signed-in user:
 * - `GET /v1.0/me/transitiveMemberOf/microsoft.graph.directoryRole`: the user's active directory
 *   roles (`directoryRole` objects with `roleTemplateId`); Graph answers 400 to `/me` with an
 *   app-only token ("/me request is only valid with delegated authentication flow");
 * - `GET /v1.0/policies/authorizationPolicy`: the tenant's authorization policy, with
 *   `defaultUserRolePermissions.allowedToCreateApps` (v1.0 returns the object itself).
 */
export interface FakeDirectory {
  /** Role template ids of the signed-in user's active directory roles. */
  directoryRoles: string[];
  /** The tenant's "Users can register applications"; undefined: reading the policy is refused. */
  allowedToCreateApps: boolean | undefined;
  readonly appOnly?: unknown;
}

/** Answers the directory reads; false when the path is not one of them. */
export function directoryRequest(
  directory: FakeDirectory,
  res: http.ServerResponse,
  method: string,
  path: string,
): boolean {
  if (method !== 'GET') return false;
  if (path === '/v1.0/me/transitiveMemberOf/microsoft.graph.directoryRole') {
    if (directory.appOnly) {
      sendError(
        res,
        400,
        'BadRequest',
        '/me request is only valid with delegated authentication flow.',
      );
      return true;
    }
    json(res, 200, {
      value: directory.directoryRoles.map((roleTemplateId) => ({
        id: randomUUID(),
        roleTemplateId,
        displayName: roleTemplateId,
      })),
    });
    return true;
  }
  if (path === '/v1.0/policies/authorizationPolicy') {
    if (directory.allowedToCreateApps === undefined) {
      sendError(
        res,
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
      return true;
    }
    json(res, 200, {
      id: 'authorizationPolicy',
      defaultUserRolePermissions: { allowedToCreateApps: directory.allowedToCreateApps },
    });
    return true;
  }
  return false;
}
