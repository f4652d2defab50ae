import { requireValues } from '../shared/azd-env';
import { graphFor, storeValue, type HookContext } from './context';
import {
  applicationByUniqueNamePath,
  findApplication,
  findServicePrincipal,
  isReplicationDelay,
  servicePrincipalByAppIdPath,
  type AppRole,
  type Application,
  type ServicePrincipal,
} from './directory';
import { HookError } from '../shared/errors';
import { GRAPH_PERMISSIONS, type GraphClient } from './graph';
import {
  APP_ROLE_VALUE,
  appRoleId,
  applicationDisplayName,
  applicationNotes,
  applicationUniqueName,
} from './names';
import { RestError, retryWhile, type RestResponse } from '../shared/rest';

export const SIGN_IN_AUDIENCE = 'AzureADMyOrg';
export const ACCESS_TOKEN_VERSION = 2;

/** What preprovision stores with `azd env set`, for the Bicep parameters and the other hooks. */
export interface ApiRegistration {
  readonly API_APP_CLIENT_ID: string;
  readonly API_APP_OBJECT_ID: string;
  readonly API_SP_OBJECT_ID: string;
  readonly API_APP_ROLE_ID: string;
  readonly API_APP_ROLE: string;
}

export interface DesiredApplication {
  readonly displayName: string;
  readonly notes: string;
  /** The role id to use when the registration has no `Api.Invoke` role yet. */
  readonly roleId: string;
}

export function desiredRole(id: string): AppRole {
  return {
    id,
    allowedMemberTypes: ['Application'],
    value: APP_ROLE_VALUE,
    displayName: 'Invoke the API',
    description: "Call the function app's API. Granted to API Management's managed identity.",
    isEnabled: true,
  };
}

export function appIdUri(appId: string): string {
  return `api://${appId}`;
}

/**
 * The smallest PATCH body that brings an existing registration to the desired state, and the id
 * of its `Api.Invoke` role. An empty body means nothing to change. An existing role keeps its id;
 * other roles and identifier URIs that someone added are kept.
 */
export function planApplicationUpdate(
  existing: Application,
  desired: DesiredApplication,
): { patch: Record<string, unknown>; roleId: string } {
  const patch: Record<string, unknown> = {};
  if (existing.displayName !== desired.displayName) {
    patch.displayName = desired.displayName;
  }
  if ((existing.notes ?? '') !== desired.notes) {
    patch.notes = desired.notes;
  }
  if (existing.signInAudience !== SIGN_IN_AUDIENCE) {
    patch.signInAudience = SIGN_IN_AUDIENCE;
  }
  if (existing.api?.requestedAccessTokenVersion !== ACCESS_TOKEN_VERSION) {
    patch.api = { ...(existing.api ?? {}), requestedAccessTokenVersion: ACCESS_TOKEN_VERSION };
  }
  const uris = existing.identifierUris ?? [];
  if (!uris.includes(appIdUri(existing.appId))) {
    patch.identifierUris = [...uris, appIdUri(existing.appId)];
  }

  const roles = existing.appRoles ?? [];
  const current = roles.find((role) => role.value === APP_ROLE_VALUE);
  let roleId: string;
  if (current) {
    roleId = current.id;
    if (!current.isEnabled || !current.allowedMemberTypes.includes('Application')) {
      patch.appRoles = roles.map((role) =>
        role === current
          ? {
              ...role,
              isEnabled: true,
              allowedMemberTypes: [...new Set([...role.allowedMemberTypes, 'Application'])],
            }
          : role,
      );
    }
  } else {
    roleId = desired.roleId;
    if (roles.some((role) => role.id.toLowerCase() === roleId.toLowerCase())) {
      throw new HookError(
        'invalid_setting',
        `The app registration ${existing.appId} already has an app role with id ${roleId} ` +
          `but another value; remove that role or use another azd environment name.`,
      );
    }
    patch.appRoles = [...roles, desiredRole(roleId)];
  }
  return { patch, roleId };
}

async function createApplication(
  graph: GraphClient,
  uniqueName: string,
  desired: DesiredApplication,
  sleep?: (ms: number) => Promise<void>,
): Promise<Application> {
  let response: RestResponse;
  try {
    response = await graph.request({
      method: 'PATCH',
      path: applicationByUniqueNamePath(uniqueName),
      headers: { prefer: 'create-if-missing' },
      // Only what is safe to write over an existing registration, should one appear meanwhile;
      // the role, token version and identifier URI follow in one PATCH (planApplicationUpdate).
      body: {
        displayName: desired.displayName,
        notes: desired.notes,
        signInAudience: SIGN_IN_AUDIENCE,
      },
      expect: [201, 204],
      permission: GRAPH_PERMISSIONS.manageApplication,
    });
  } catch (error: unknown) {
    if (error instanceof RestError && error.status === 400) {
      throw new HookError(
        'service_error',
        `${error.message} If an app registration with the uniqueName ${uniqueName} was deleted in ` +
          'the last 30 days, it may still hold the name: restore it or delete it permanently ' +
          '(Microsoft Entra ID > App registrations > Deleted applications), then run `azd provision` again.',
        { cause: error },
      );
    }
    throw error;
  }
  const { status, body } = response;
  if (status === 201 && body && typeof body === 'object') {
    return body as Application;
  }
  // 204: it exists although the lookup did not find it (created by a concurrent run, or not yet
  // replicated to the replica that answered the lookup); read it, waiting for replication.
  return retryWhile(
    async () => {
      const found = await findApplication(graph, uniqueName);
      if (!found) {
        throw new HookError(
          'invalid_response',
          `Microsoft Graph reported the app registration ${uniqueName} as existing but did not return it.`,
        );
      }
      return found;
    },
    (error) =>
      error instanceof HookError &&
      !(error instanceof RestError) &&
      error.code === 'invalid_response',
    { sleep },
  );
}

async function ensureServicePrincipal(
  graph: GraphClient,
  appId: string,
  context: HookContext,
): Promise<{ sp: ServicePrincipal; changed: boolean }> {
  const existing = await findServicePrincipal(graph, appId);
  if (existing) {
    if (existing.appRoleAssignmentRequired === true) {
      return { sp: existing, changed: false };
    }
    await graph.request({
      method: 'PATCH',
      path: `/v1.0/servicePrincipals/${encodeURIComponent(existing.id)}`,
      body: { appRoleAssignmentRequired: true },
      expect: [204],
      permission: GRAPH_PERMISSIONS.manageServicePrincipal,
    });
    context.log(`Service principal ${existing.id}: now requires app role assignment.`);
    return { sp: { ...existing, appRoleAssignmentRequired: true }, changed: true };
  }
  const created = await retryWhile(
    () =>
      graph.request({
        method: 'PATCH',
        path: servicePrincipalByAppIdPath(appId),
        headers: { prefer: 'create-if-missing' },
        body: { appRoleAssignmentRequired: true },
        expect: [201, 204],
        permission: GRAPH_PERMISSIONS.manageServicePrincipal,
      }),
    isReplicationDelay,
    {
      sleep: context.sleep,
      onRetry: () => context.log('The new app registration has not replicated yet; retrying.'),
    },
  );
  const sp =
    created.status === 201
      ? (created.body as ServicePrincipal)
      : await findServicePrincipal(graph, appId);
  if (!sp?.id) {
    throw new HookError(
      'invalid_response',
      `Microsoft Graph did not return the service principal of ${appId}.`,
    );
  }
  context.log(`Created service principal ${sp.id} (app role assignment required).`);
  return { sp, changed: true };
}

/**
 * preprovision: creates or updates, idempotently, the Function App's app registration (keyed by
 * its uniqueName) and service principal, and stores their ids in the azd environment.
 */
export async function preprovision(context: HookContext): Promise<ApiRegistration> {
  const settings = requireValues(
    context.values,
    'preprovision',
    ['AZURE_ENV_NAME', 'AZURE_SUBSCRIPTION_ID'],
    'azd sets them once an environment and a subscription are chosen: run `azd up`, or first ' +
      '`azd env set AZURE_SUBSCRIPTION_ID <subscription id>` when you run `azd provision` on a new environment.',
  );
  const uniqueName = applicationUniqueName(settings.AZURE_ENV_NAME, settings.AZURE_SUBSCRIPTION_ID);
  const desired: DesiredApplication = {
    displayName: applicationDisplayName(settings.AZURE_ENV_NAME),
    notes: applicationNotes(settings.AZURE_ENV_NAME),
    roleId: appRoleId(uniqueName),
  };
  const graph = await graphFor(context, 'preprovision');

  let app = await findApplication(graph, uniqueName);
  if (app) {
    context.log(`App registration ${uniqueName} exists (appId ${app.appId}).`);
  } else {
    app = await createApplication(graph, uniqueName, desired, context.sleep);
    context.log(`Created app registration ${uniqueName} (appId ${app.appId}).`);
  }

  const current = app;
  const { patch, roleId } = planApplicationUpdate(current, desired);
  const changes = Object.keys(patch);
  if (changes.length > 0) {
    await retryWhile(
      () =>
        graph.request({
          method: 'PATCH',
          path: `/v1.0/applications/${encodeURIComponent(current.id)}`,
          body: patch,
          expect: [204],
          permission: GRAPH_PERMISSIONS.manageApplication,
        }),
      isReplicationDelay,
      {
        sleep: context.sleep,
        onRetry: () => context.log('The app registration has not replicated yet; retrying.'),
      },
    );
    context.log(`Updated app registration ${uniqueName}: ${changes.join(', ')}.`);
  } else {
    context.log(`App registration ${uniqueName} is up to date.`);
  }

  const { sp, changed } = await ensureServicePrincipal(graph, app.appId, context);
  if (!changed) {
    context.log(`Service principal ${sp.id} is up to date.`);
  }

  const registration: ApiRegistration = {
    API_APP_CLIENT_ID: app.appId,
    API_APP_OBJECT_ID: app.id,
    API_SP_OBJECT_ID: sp.id,
    API_APP_ROLE_ID: roleId,
    API_APP_ROLE: APP_ROLE_VALUE,
  };
  for (const [key, value] of Object.entries(registration) as [string, string][]) {
    if (await storeValue(context, key, value)) {
      context.log(`azd env set ${key} ${value}`);
    }
  }
  return registration;
}
