import { requireGuid, requireValues } from '../shared/azd-env';
import { graphFor, type HookContext } from './context';
import { isReplicationDelay, sameId, type AppRoleAssignment } from './directory';
import { GRAPH_PERMISSIONS, type GraphClient } from './graph';
import { retryWhile, RestError } from '../shared/rest';

export interface AssignmentResult {
  readonly assignmentId: string;
  readonly created: boolean;
}

function assignedToPath(spId: string): string {
  return `/v1.0/servicePrincipals/${encodeURIComponent(spId)}/appRoleAssignedTo`;
}

async function findAssignment(
  graph: GraphClient,
  spId: string,
  principalId: string,
  roleId: string,
): Promise<AppRoleAssignment | undefined> {
  const assignments = await graph.getAll<AppRoleAssignment>(
    assignedToPath(spId),
    GRAPH_PERMISSIONS.assignAppRole,
  );
  return assignments.find((a) => sameId(a.principalId, principalId) && sameId(a.appRoleId, roleId));
}

function isAlreadyAssigned(error: unknown): boolean {
  return (
    error instanceof RestError &&
    error.status === 400 &&
    /already exists/i.test(error.serviceMessage ?? '')
  );
}

/**
 * postprovision: grants the API's app role to API Management's managed identity, once. It lists
 * the assignments first (following every page) and creates one only if it is missing.
 */
export async function postprovision(context: HookContext): Promise<AssignmentResult> {
  const settings = requireValues(context.values, 'postprovision', [
    'APIM_PRINCIPAL_ID',
    'API_SP_OBJECT_ID',
    'API_APP_ROLE_ID',
  ]);
  const principalId = requireGuid('APIM_PRINCIPAL_ID', settings.APIM_PRINCIPAL_ID);
  const spId = requireGuid('API_SP_OBJECT_ID', settings.API_SP_OBJECT_ID);
  const roleId = requireGuid('API_APP_ROLE_ID', settings.API_APP_ROLE_ID);
  const graph = await graphFor(context, 'postprovision');

  const existing = await findAssignment(graph, spId, principalId, roleId);
  if (existing) {
    context.log(
      `API Management's identity ${principalId} already holds app role ${roleId} (assignment ${existing.id}).`,
    );
    return { assignmentId: existing.id, created: false };
  }

  try {
    const { body } = await retryWhile(
      () =>
        graph.request({
          method: 'POST',
          path: assignedToPath(spId),
          body: { principalId, resourceId: spId, appRoleId: roleId },
          expect: [201],
          permission: GRAPH_PERMISSIONS.assignAppRole,
        }),
      (error) => !isAlreadyAssigned(error) && isReplicationDelay(error),
      {
        sleep: context.sleep,
        onRetry: () =>
          context.log(
            "API Management's identity or the app role has not replicated in Entra ID yet; retrying.",
          ),
      },
    );
    const assignment = body as AppRoleAssignment;
    context.log(
      `Granted app role ${roleId} to API Management's identity ${principalId} (assignment ${assignment.id}).`,
    );
    return { assignmentId: assignment.id, created: true };
  } catch (error: unknown) {
    // The list can lag behind a write (replication), and a POST that failed in transit or with a
    // server error may have succeeded: look again before reporting a failure.
    const inDoubt =
      error instanceof RestError && (error.code === 'network_error' || (error.status ?? 0) >= 500);
    if (isAlreadyAssigned(error) || inDoubt) {
      const found = await findAssignment(graph, spId, principalId, roleId);
      if (found) {
        context.log(`App role ${roleId} was already granted (assignment ${found.id}).`);
        return { assignmentId: found.id, created: false };
      }
      if (isAlreadyAssigned(error)) {
        context.log(`Microsoft Graph reports app role ${roleId} as already granted.`);
        return { assignmentId: '', created: false };
      }
    }
    throw error;
  }
}
