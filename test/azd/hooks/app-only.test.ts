/**
 * The Entra hooks when azd is signed in as an application (a pipeline's service principal with a
 * federated credential), not a user: against the fake Graph limited to the caller's Graph
 * application permissions (./fake-graph-app-only.ts). With the three permissions
 * docs/ci-and-pipelines.md lists, every hook works; without one, the refusal names the
 * application permission, not the user's delegated one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { callerKindOfToken } from '../../../scripts/azd/hooks/caller';
import { applicationUniqueName } from '../../../scripts/azd/hooks/names';
import { postprovision } from '../../../scripts/azd/hooks/postprovision-grant-apim-role';
import { predown } from '../../../scripts/azd/hooks/predown-remove-app-registration';
import { preprovision } from '../../../scripts/azd/hooks/preprovision-app-registration';
import { HookError } from '../../../scripts/azd/shared/errors';
import { FakeGraph } from './fake-graph';
import { appOnlyCaller, appOnlyToken } from './fake-graph-app-only';
import { APIM_PRINCIPAL_ID, hookRun, SUBSCRIPTION_ID, valuesAfter } from './support';

const PIPELINE_PERMISSIONS = [
  'Application.ReadWrite.OwnedBy',
  'AppRoleAssignment.ReadWrite.All',
  'Application.Read.All',
];
const UNIQUE_NAME = applicationUniqueName('dev', SUBSCRIPTION_ID);

let graph: FakeGraph | undefined;

afterEach(async () => {
  await graph?.close();
  graph = undefined;
});

async function pipelineGraph(roles: string[]): Promise<FakeGraph> {
  graph = await new FakeGraph(appOnlyCaller(roles)).start();
  graph.principals.add(APIM_PRINCIPAL_ID);
  return graph;
}

async function refusal(promise: Promise<unknown>): Promise<HookError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(HookError);
  expect((error as HookError).code).toBe('permission_denied');
  return error as HookError;
}

describe('the fake Graph in app-only mode refuses what the permissions do not allow', () => {
  it('with no application permission, even the first read is refused (403)', async () => {
    const g = await pipelineGraph([]);
    await refusal(preprovision(hookRun(g).context));
    expect(g.requests.map((r) => r.method)).toEqual(['GET']);
    expect(g.apps.size).toBe(0);
  });
});

describe('a pipeline identity with Application.ReadWrite.OwnedBy, AppRoleAssignment.ReadWrite.All and Application.Read.All', () => {
  it('creates the registration and its service principal, owning both, grants the role, reruns idempotently and removes both', async () => {
    const g = await pipelineGraph(PIPELINE_PERMISSIONS);
    const caller = g.appOnly!;

    const first = hookRun(g);
    const registration = await preprovision(first.context);
    const app = g.appByUniqueName(UNIQUE_NAME)!;
    expect(app.appRoles).toHaveLength(1);
    expect(g.owners.get(app.id)).toEqual(new Set([caller.servicePrincipalId]));
    expect(g.owners.get(registration.API_SP_OBJECT_ID)).toEqual(
      new Set([caller.servicePrincipalId]),
    );

    const values = { ...valuesAfter(first), APIM_PRINCIPAL_ID };
    expect((await postprovision(hookRun(g, values).context)).created).toBe(true);
    expect(g.assignments).toHaveLength(1);

    g.requests.length = 0;
    await preprovision(hookRun(g, values).context);
    expect(g.writes()).toEqual([]);

    const removed = await predown(hookRun(g, values).context);
    expect(removed.deleted).toEqual([
      registration.API_SP_OBJECT_ID,
      registration.API_APP_OBJECT_ID,
    ]);
    expect(removed.purged).toHaveLength(2);
    expect(g.apps.size + g.sps.size + g.deleted.size).toBe(0);
  });
});

describe('a pipeline identity missing a permission gets a message naming the application permission', () => {
  it('without AppRoleAssignment.ReadWrite.All: preprovision works, postprovision names it', async () => {
    const g = await pipelineGraph(['Application.ReadWrite.OwnedBy', 'Application.Read.All']);
    const run = hookRun(g);
    await preprovision(run.context);
    const error = await refusal(
      postprovision(hookRun(g, { ...valuesAfter(run), APIM_PRINCIPAL_ID }).context),
    );
    expect(error.message).toContain('azd is signed in as an application');
    expect(error.message).toContain(
      'application permission AppRoleAssignment.ReadWrite.All and Application.Read.All',
    );
    expect(error.message).toContain('Grant admin consent');
    expect(error.message).not.toContain('delegated');
    expect(error.message).not.toContain(g.token);
    expect(g.assignments).toEqual([]);
  });

  it('a registration someone else created (a workstation azd up): names ownership and changes nothing', async () => {
    const g = await pipelineGraph(PIPELINE_PERMISSIONS);
    const theirs = g.addApplication({ displayName: 'created by a user', uniqueName: UNIQUE_NAME });
    const error = await refusal(preprovision(hookRun(g).context));
    expect(error.message).toContain('Application.ReadWrite.OwnedBy');
    expect(error.message).toContain(
      "add the pipeline's service principal as an owner of the registration and of its service principal",
    );
    expect(g.writes().map((r) => r.method)).toEqual(['PATCH']);
    expect(g.apps.get(theirs.id)!.appRoles).toEqual([]);
    expect(g.sps.size).toBe(0);
  });

  it('predown of a registration it does not own: names ownership, deletes nothing, azd down goes on', async () => {
    const g = await pipelineGraph(PIPELINE_PERMISSIONS);
    const theirs = g.addApplication({ displayName: 'created by a user', uniqueName: UNIQUE_NAME });
    const sp = g.addServicePrincipal(theirs);
    const run = hookRun(g, { API_APP_OBJECT_ID: theirs.id, API_SP_OBJECT_ID: sp.id });
    expect(await predown(run.context)).toEqual({ deleted: [], purged: [] });
    const warnings = run.warnings.join('\n');
    expect(warnings).toContain('delete the app registration');
    expect(warnings).toContain("add the pipeline's service principal as its owner");
    expect(warnings).toContain(`az ad sp delete --id ${sp.id}`);
    expect(g.apps.has(theirs.id) && g.sps.has(sp.id)).toBe(true);
  });

  it('a user (opaque or delegated token) still gets the delegated permission and Entra roles', async () => {
    graph = await new FakeGraph().start();
    graph.fail({
      method: 'GET',
      pathIncludes: 'applications(',
      status: 403,
      code: 'Authorization_RequestDenied',
    });
    const error = await refusal(preprovision(hookRun(graph).context));
    expect(error.message).toContain(
      'The user signed in to azd needs the delegated permission Application.ReadWrite.All',
    );
    expect(error.message).not.toContain('signed in as an application');
  });
});

describe('callerKindOfToken', () => {
  const jwt = (claims: unknown) =>
    `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

  it.each([
    [
      'an app-only Graph token (idtyp app)',
      appOnlyToken(appOnlyCaller(['Application.Read.All'])),
      'application',
    ],
    ['roles without scp or idtyp', jwt({ roles: ['Application.Read.All'] }), 'application'],
    ['a delegated token (scp)', jwt({ scp: 'Application.ReadWrite.All User.Read' }), 'user'],
    ['idtyp user', jwt({ idtyp: 'user', roles: [] }), 'user'],
    ['no scp nor roles', jwt({ oid: 'x' }), 'unknown'],
    ['an opaque token', 'fake-graph-token-1234', 'unknown'],
    ['a payload that is not JSON', 'e30.bm90IGpzb24.c2ln', 'unknown'],
    ['a JSON array payload', jwt([1, 2]), 'unknown'],
    ['four segments', 'a.b.c.d', 'unknown'],
  ])('%s: %s', (_what, token, kind) => {
    expect(callerKindOfToken(token)).toBe(kind);
  });
});
