import { afterEach, describe, expect, it } from 'vitest';
import { runHook } from '../../../scripts/azd/hooks/main';
import { applicationUniqueName } from '../../../scripts/azd/hooks/names';
import { postprovision } from '../../../scripts/azd/hooks/postprovision-grant-apim-role';
import { allows, ENTRA_ROLES } from '../../../scripts/azd/hooks/preflight-permissions';
import { preprovision } from '../../../scripts/azd/hooks/preprovision-app-registration';
import { appOnlyCaller } from './fake-graph-app-only';
import { FakeGraph } from './fake-graph';
import { APIM_PRINCIPAL_ID, hookRun, SUBSCRIPTION_ID, valuesAfter } from './support';

/**
 * preprovision checks, before anything is created, the rights azd up will need: Azure RBAC from
 * ARM's permissions of the caller, Entra ID from the user's directory roles and the tenant's
 * policy, or from an application's token. Certain failures refuse; uncertain ones warn.
 */

// Built-in role definitions (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
const CONTRIBUTOR = {
  actions: ['*'],
  notActions: [
    'Microsoft.Authorization/*/Delete',
    'Microsoft.Authorization/*/Write',
    'Microsoft.Authorization/elevateAccess/Action',
    'Microsoft.Blueprint/blueprintAssignments/write',
    'Microsoft.Blueprint/blueprintAssignments/delete',
    'Microsoft.Compute/galleries/share/action',
    'Microsoft.Purview/consents/write',
    'Microsoft.Purview/consents/delete',
    'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
    'Microsoft.Subscription/cancel/action',
    'Microsoft.Subscription/enable/action',
  ],
};
const USER_ACCESS_ADMINISTRATOR = {
  actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'],
  notActions: [],
};
const READER = { actions: ['*/read'], notActions: [] };
const UNIQUE_NAME = applicationUniqueName('dev', SUBSCRIPTION_ID);

let graph: FakeGraph;
afterEach(async () => {
  await graph.close();
});

async function start(appOnlyRoles?: string[]): Promise<FakeGraph> {
  graph = await new FakeGraph(appOnlyRoles ? appOnlyCaller(appOnlyRoles) : undefined).start();
  graph.principals.add(APIM_PRINCIPAL_ID);
  return graph;
}

async function preprovisionHook(values: Record<string, string | undefined> = {}) {
  const run = hookRun(graph, values);
  const errors: string[] = [];
  const code = await runHook(
    'preprovision',
    () => run.context,
    (line) => errors.push(line),
  );
  return { code, error: errors.join('\n'), warnings: run.warnings };
}

describe('Azure permissions on the subscription', () => {
  it('lets Owner through, without a warning', async () => {
    await start();
    const { code, warnings } = await preprovisionHook();
    expect(code).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('refuses Contributor alone before anything is created, naming the role to ask for', async () => {
    await start();
    graph.arm.azurePermissions = [CONTRIBUTOR];
    const { code, error } = await preprovisionHook();
    expect(code).toBe(1);
    expect(error).toContain('may not Microsoft.Authorization/roleAssignments/write');
    expect(error).toContain('Contributor with User Access Administrator');
    expect(error).toContain('Nothing was created');
    expect(graph.writes()).toEqual([]);
    expect(graph.apps.size).toBe(0);
  });

  it('refuses Reader, naming the deployment and resource group actions too', async () => {
    await start();
    graph.arm.azurePermissions = [READER];
    const { error } = await preprovisionHook();
    expect(error).toContain('Microsoft.Resources/deployments/write');
    expect(error).toContain('Microsoft.Resources/subscriptions/resourceGroups/write');
  });

  it('lets Contributor with User Access Administrator through', async () => {
    await start();
    graph.arm.azurePermissions = [CONTRIBUTOR, USER_ACCESS_ADMINISTRATOR];
    expect((await preprovisionHook()).code).toBe(0);
  });

  it('warns, and goes on, when ARM does not show the permissions', async () => {
    await start();
    graph.arm.failLists.set('Microsoft.Authorization/permissions', 403);
    const { code, warnings } = await preprovisionHook();
    expect(code).toBe(0);
    expect(warnings.join('\n')).toContain('Could not read your Azure permissions');
  });

  it('matches actions with wildcards and case as ARM does, and honours notActions', () => {
    expect(allows([CONTRIBUTOR], 'Microsoft.Resources/deployments/write')).toBe(true);
    expect(allows([CONTRIBUTOR], 'microsoft.authorization/roleassignments/write')).toBe(false);
    expect(
      allows([USER_ACCESS_ADMINISTRATOR], 'Microsoft.Authorization/roleAssignments/write'),
    ).toBe(true);
    expect(allows([READER], 'Microsoft.Resources/deployments/write')).toBe(false);
  });
});

describe('Microsoft Entra ID rights of a user', () => {
  it('refuses a member without a role when users may not register applications', async () => {
    await start();
    graph.directoryRoles = [];
    graph.allowedToCreateApps = false;
    const { code, error } = await preprovisionHook();
    expect(code).toBe(1);
    expect(error).toContain('allowedToCreateApps is false');
    expect(error).toContain('Application Developer');
    expect(graph.apps.size).toBe(0);
  });

  it('refuses a member without a role even where users may register: the service principal needs Application Developer', async () => {
    await start();
    graph.directoryRoles = [];
    const { code, error } = await preprovisionHook();
    expect(code).toBe(1);
    expect(error).toContain('creating the service principal');
    expect(error).not.toContain('allowedToCreateApps');
    expect(graph.apps.size).toBe(0);
  });

  it('lets an Application Developer through, warning that granting the app role may be refused', async () => {
    await start();
    graph.directoryRoles = [ENTRA_ROLES.applicationDeveloper];
    const { code, warnings } = await preprovisionHook();
    expect(code).toBe(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('Cloud Application Administrator');
    expect(warnings[0]).toContain('It may still work');
    expect(graph.apps.size).toBe(1);
  });

  it('warns, not refuses, when the policy cannot be read', async () => {
    await start();
    graph.directoryRoles = [ENTRA_ROLES.applicationDeveloper];
    graph.allowedToCreateApps = undefined;
    expect((await preprovisionHook()).code).toBe(0);
  });

  it('lets a rerun through with no role at all once everything exists and the role is granted', async () => {
    await start();
    const first = hookRun(graph);
    await preprovision(first.context);
    const provisioned = { ...valuesAfter(first), APIM_PRINCIPAL_ID };
    await postprovision(hookRun(graph, provisioned).context);
    graph.directoryRoles = [];
    graph.allowedToCreateApps = false;
    const { code, warnings } = await preprovisionHook(provisioned);
    expect(code).toBe(0);
    expect(warnings).toEqual([]);
  });
});

describe('Microsoft Graph permissions of an application (a pipeline)', () => {
  it('lets a pipeline with its documented permissions through', async () => {
    await start([
      'Application.ReadWrite.OwnedBy',
      'AppRoleAssignment.ReadWrite.All',
      'Application.Read.All',
    ]);
    const { code, warnings } = await preprovisionHook();
    expect(code).toBe(0);
    expect(warnings).toEqual([]);
    expect(graph.appByUniqueName(UNIQUE_NAME)).toBeDefined();
  });

  it('refuses a pipeline without AppRoleAssignment.ReadWrite.All before creating anything', async () => {
    await start(['Application.ReadWrite.OwnedBy', 'Application.Read.All']);
    const { code, error } = await preprovisionHook();
    expect(code).toBe(1);
    expect(error).toContain('AppRoleAssignment.ReadWrite.All');
    expect(graph.apps.size).toBe(0);
  });

  it('refuses a pipeline with no Graph permission, from its token, although it can read nothing', async () => {
    await start([]);
    const { code, error, warnings } = await preprovisionHook();
    expect(code).toBe(1);
    expect(error).toContain('neither Application.ReadWrite.OwnedBy nor Application.ReadWrite.All');
    expect(warnings.join('\n')).toContain('Could not read your Microsoft Entra ID rights');
  });
});
