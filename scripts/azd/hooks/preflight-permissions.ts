/**
 * Checks in `preprovision`, before anything is created, the rights `azd up` will need, so that a
 * developer without them learns it in seconds, with the role or permission to ask for, rather than
 * after minutes of provisioning. It refuses only what is certain to fail; where a right may come
 * from elsewhere (an ownership, a rerun that has nothing left to do) it warns and says so.
 *
 * What each step needs, and where that is documented:
 * - Provisioning (`infra/`, a subscription-scope deployment that creates the resource group and
 *   role assignments): `Microsoft.Resources/deployments/write`,
 *   `Microsoft.Resources/subscriptions/resourceGroups/write` and
 *   `Microsoft.Authorization/roleAssignments/write` on the subscription, that is Owner, or
 *   Contributor with User Access Administrator (or Role Based Access Control Administrator).
 *   Read from Azure Resource Manager's `GET /subscriptions/{id}/providers/Microsoft.Authorization/permissions`
 *   (api-version 2022-04-01, "Permissions - List For Resource Group"'s subscription form): the
 *   caller's `actions` and `notActions`, wildcards included.
 * - Creating the app registration (`preprovision`, when it does not exist yet): for a user, the
 *   tenant's `defaultUserRolePermissions.allowedToCreateApps`
 *   (`GET /v1.0/policies/authorizationPolicy`) or a directory role that includes it.
 * - Creating its service principal (when it does not exist yet): for a user who is not an
 *   administrator, the Application Developer role (learn.microsoft.com/graph/api/serviceprincipal-upsert).
 * - Granting the app role (`postprovision`, unless the assignment exists): Cloud Application
 *   Administrator, Application Administrator or Privileged Role Administrator for a user (whether
 *   owning the service principal is enough is not documented: a warning, not a refusal).
 * - An application signed in as itself (a pipeline): the `roles` of its token,
 *   Application.ReadWrite.OwnedBy (or .All) to create, AppRoleAssignment.ReadWrite.All to grant;
 *   or an Entra role in its `wids`.
 * A user's directory roles come from `GET /v1.0/me/transitiveMemberOf/microsoft.graph.directoryRole`
 * (active assignments; a role scoped to one application does not show, hence warnings there).
 * Role template ids: learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference.
 */
import { optionalValue, requireValues } from '../shared/azd-env';
import { armClient } from '../shared/arm';
import { ensureError, HookError } from '../shared/errors';
import type { RestClient } from '../shared/rest';
import { graphFor, type HookContext } from './context';
import { findApplication, findServicePrincipal, sameId } from './directory';
import type { CallerClaims } from './caller';
import type { GraphClient, GraphPermission } from './graph';
import { applicationUniqueName } from './names';

export const PERMISSIONS_API_VERSION = '2022-04-01';

/**
 * Microsoft Entra built-in role template ids, from "Microsoft Entra built-in roles"
 * (MicrosoftDocs/entra-docs `docs/identity/role-based-access-control/permissions-reference.md`).
 */
export const ENTRA_ROLES = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  applicationAdministrator: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
  cloudApplicationAdministrator: '158c047a-c907-4556-b7ef-446551a6b5f7',
  applicationDeveloper: 'cf1c38e5-3621-4004-a7cb-879624dced7c',
  privilegedRoleAdministrator: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
} as const;

const APP_ADMINS: string[] = [
  ENTRA_ROLES.globalAdministrator,
  ENTRA_ROLES.applicationAdministrator,
  ENTRA_ROLES.cloudApplicationAdministrator,
];
const CREATORS = [...APP_ADMINS, ENTRA_ROLES.applicationDeveloper];
const GRANTERS = [...APP_ADMINS, ENTRA_ROLES.privilegedRoleAdministrator];

/** The Azure actions the deployment of infra/ performs at the subscription. */
export const REQUIRED_AZURE_ACTIONS = [
  'Microsoft.Resources/deployments/write',
  'Microsoft.Resources/subscriptions/resourceGroups/write',
  'Microsoft.Authorization/roleAssignments/write',
];

/** Wording for the Graph reads of this check (a refusal is a warning here, never an error). */
const READ: GraphPermission = {
  action: 'read what the deployment will need',
  delegatedPermission: 'User.Read and Application.Read.All',
  roles: 'no role (members can read these)',
  adminAction: 'check the account signed in to azd',
  applicationPermission: 'Application.Read.All',
  applicationAdminAction: "grant it to the pipeline's app registration",
};

interface AzurePermission {
  actions?: unknown;
  notActions?: unknown;
}

function patterns(value: unknown): RegExp[] {
  return (Array.isArray(value) ? value : [])
    .filter((v): v is string => typeof v === 'string')
    .map(
      (p) =>
        new RegExp(
          `^${p
            .split('*')
            .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
            .join('.*')}$`,
          'i',
        ),
    );
}

/** Whether ARM's permission entries allow `action` (an entry's notActions subtract from its actions). */
export function allows(entries: readonly AzurePermission[], action: string): boolean {
  return entries.some(
    (e) =>
      patterns(e.actions).some((p) => p.test(action)) &&
      !patterns(e.notActions).some((p) => p.test(action)),
  );
}

async function azurePermissions(
  arm: RestClient,
  subscriptionId: string,
): Promise<AzurePermission[]> {
  const { body } = await arm.request({
    method: 'GET',
    path:
      `/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.Authorization/permissions` +
      `?api-version=${PERMISSIONS_API_VERSION}`,
    expect: [200],
  });
  const value = (body as { value?: unknown } | undefined)?.value;
  return Array.isArray(value) ? (value as AzurePermission[]) : [];
}

interface Findings {
  readonly refusals: string[];
  readonly warnings: string[];
}

async function checkAzure(
  context: HookContext,
  subscriptionId: string,
  found: Findings,
): Promise<void> {
  let entries: AzurePermission[];
  try {
    entries = await azurePermissions(
      armClient({
        credential: context.credential,
        endpoint: optionalValue(context.values, 'ARM_ENDPOINT'),
        fetch: context.fetch,
        sleep: context.sleep,
      }),
      subscriptionId,
    );
  } catch (error: unknown) {
    found.warnings.push(
      `Could not read your Azure permissions on subscription ${subscriptionId} (${ensureError(error).message}); they are not checked before provisioning.`,
    );
    return;
  }
  const missing = REQUIRED_AZURE_ACTIONS.filter((action) => !allows(entries, action));
  if (missing.length > 0) {
    found.refusals.push(
      `Azure: the account signed in to azd may not ${missing.join(', ')} on subscription ` +
        `${subscriptionId}. Provisioning creates a resource group and role assignments: ask for ` +
        'Owner, or Contributor with User Access Administrator (or Role Based Access Control ' +
        'Administrator), on the subscription.',
    );
  }
}

/** Whether postprovision will have nothing to grant: the assignment it would make exists. */
async function assignmentExists(
  graph: GraphClient,
  context: HookContext,
  spId: string,
): Promise<boolean> {
  const principal = optionalValue(context.values, 'APIM_PRINCIPAL_ID');
  const role = optionalValue(context.values, 'API_APP_ROLE_ID');
  if (principal === undefined || role === undefined) return false;
  const assignments = await graph.getAll<{ principalId?: string; appRoleId?: string }>(
    `/v1.0/servicePrincipals/${encodeURIComponent(spId)}/appRoleAssignedTo`,
    READ,
  );
  return assignments.some((a) => sameId(a.principalId, principal) && sameId(a.appRoleId, role));
}

async function userRoles(graph: GraphClient): Promise<string[]> {
  const roles = await graph.getAll<{ roleTemplateId?: string }>(
    '/v1.0/me/transitiveMemberOf/microsoft.graph.directoryRole?$select=id,roleTemplateId,displayName',
    READ,
  );
  return roles.map((r) => (r.roleTemplateId ?? '').toLowerCase()).filter((r) => r !== '');
}

async function allowedToCreateApps(graph: GraphClient): Promise<boolean | undefined> {
  try {
    const { body } = await graph.request({
      method: 'GET',
      path: '/v1.0/policies/authorizationPolicy?$select=defaultUserRolePermissions',
      expect: [200],
      permission: READ,
    });
    // v1.0 returns the policy itself; some tenants' answers wrap it in a collection.
    const policy = (body as { value?: unknown[] } | undefined)?.value?.[0] ?? body;
    const allowed = (policy as { defaultUserRolePermissions?: { allowedToCreateApps?: unknown } })
      ?.defaultUserRolePermissions?.allowedToCreateApps;
    return typeof allowed === 'boolean' ? allowed : undefined;
  } catch {
    return undefined;
  }
}

function checkApplicationCaller(
  caller: CallerClaims,
  state: { sp: boolean; granted: boolean },
  uniqueName: string,
  found: Findings,
): void {
  const has = (...names: string[]) => names.some((n) => caller.roles.includes(n));
  const wids = caller.wids.map((w) => w.toLowerCase());
  if (
    !state.sp &&
    !has('Application.ReadWrite.OwnedBy', 'Application.ReadWrite.All') &&
    !wids.some((w) => CREATORS.includes(w))
  ) {
    found.refusals.push(
      'Microsoft Graph: the application signed in to azd has neither Application.ReadWrite.OwnedBy ' +
        `nor Application.ReadWrite.All (application permissions) to create the app registration ` +
        `${uniqueName} and its service principal. An administrator can grant ` +
        "Application.ReadWrite.OwnedBy to the pipeline's app registration (with admin consent).",
    );
  }
  if (
    !state.granted &&
    !has('AppRoleAssignment.ReadWrite.All') &&
    !wids.some((w) => GRANTERS.includes(w))
  ) {
    found.refusals.push(
      'Microsoft Graph: the application signed in to azd lacks the application permission ' +
        "AppRoleAssignment.ReadWrite.All, which postprovision needs to grant API Management's " +
        "identity the app role. An administrator can grant it to the pipeline's app registration " +
        '(with admin consent), or grant the app role themselves.',
    );
  }
}

async function checkUser(
  graph: GraphClient,
  state: { app: boolean; sp: boolean; granted: boolean },
  uniqueName: string,
  found: Findings,
): Promise<void> {
  const roles = await userRoles(graph);
  const creator = roles.some((r) => CREATORS.includes(r));
  if (!state.app && !creator) {
    const canRegister = await allowedToCreateApps(graph);
    if (canRegister === false) {
      found.refusals.push(
        'Microsoft Entra ID: users of this tenant may not register applications ' +
          '(defaultUserRolePermissions.allowedToCreateApps is false) and you hold no role that ' +
          `may, so preprovision cannot create the app registration ${uniqueName}. Ask for the ` +
          'Application Developer role.',
      );
    } else if (canRegister === undefined) {
      found.warnings.push(
        "Could not read whether this tenant lets users register applications; if preprovision's " +
          'creation of the app registration is refused, ask for the Application Developer role.',
      );
    }
  }
  if (!state.sp && !creator) {
    found.refusals.push(
      'Microsoft Entra ID: creating the service principal of the app registration needs the ' +
        'Application Developer role (or Cloud Application Administrator / Application ' +
        'Administrator) for a user who is not an administrator (Graph: Upsert servicePrincipal), ' +
        'and you hold none of them as an active role. Ask for Application Developer.',
    );
  }
  if (!state.granted && !roles.some((r) => GRANTERS.includes(r))) {
    found.warnings.push(
      "postprovision grants API Management's identity the app role, which needs Cloud " +
        'Application Administrator, Application Administrator or Privileged Role Administrator; ' +
        'you hold none of them as an active directory-wide role. It may still work (owning the ' +
        'service principal, or a role scoped to this application, is not checked here); if it ' +
        'is refused, ask for Cloud Application Administrator for the time of the deployment.',
    );
  }
}

async function checkGraph(context: HookContext, found: Findings): Promise<void> {
  const settings = requireValues(context.values, 'preprovision', [
    'AZURE_ENV_NAME',
    'AZURE_SUBSCRIPTION_ID',
  ]);
  const uniqueName = applicationUniqueName(settings.AZURE_ENV_NAME, settings.AZURE_SUBSCRIPTION_ID);
  const unread = (error: unknown) =>
    found.warnings.push(
      `Could not read your Microsoft Entra ID rights (${ensureError(error).message}); they are ` +
        'not fully checked before provisioning.',
    );
  let graph: GraphClient;
  try {
    graph = await graphFor(context, 'preprovision');
  } catch (error: unknown) {
    unread(error);
    return;
  }
  // What exists already: a rerun needs fewer rights than a first run.
  const state = { app: false, sp: false, granted: false };
  let readable = true;
  try {
    const app = await findApplication(graph, uniqueName, READ);
    state.app = app !== undefined;
    const sp = app ? await findServicePrincipal(graph, app.appId, READ) : undefined;
    state.sp = sp !== undefined;
    state.granted = sp ? await assignmentExists(graph, context, sp.id) : false;
  } catch (error: unknown) {
    unread(error);
    readable = false;
  }
  const caller = graph.caller();
  if (caller.kind === 'application') {
    // The token's own claims say what an application may do, whatever could be read.
    checkApplicationCaller(caller, state, uniqueName, found);
    return;
  }
  if (!readable) return;
  try {
    await checkUser(graph, state, uniqueName, found);
  } catch (error: unknown) {
    unread(error);
  }
}

/**
 * Fails, in seconds and before anything is created, when the deployment is certain to be refused
 * for want of a right, naming the role or permission to ask for; warns where it is not certain.
 */
export async function checkPermissions(context: HookContext): Promise<void> {
  const { AZURE_SUBSCRIPTION_ID: subscriptionId } = requireValues(context.values, 'preprovision', [
    'AZURE_SUBSCRIPTION_ID',
  ]);
  const found: Findings = { refusals: [], warnings: [] };
  await checkAzure(context, subscriptionId, found);
  await checkGraph(context, found);
  for (const warning of found.warnings) context.warn(warning);
  if (found.refusals.length > 0) {
    throw new HookError(
      'permission_denied',
      `${found.refusals.join(' ')} Nothing was created; run \`azd up\` again once you have it.`,
    );
  }
}
