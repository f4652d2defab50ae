import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runHook } from '../../../scripts/azd/hooks/main';
import { applicationUniqueName } from '../../../scripts/azd/hooks/names';
import { postprovision } from '../../../scripts/azd/hooks/postprovision-grant-apim-role';
import { predown } from '../../../scripts/azd/hooks/predown-remove-app-registration';
import { preprovision } from '../../../scripts/azd/hooks/preprovision-app-registration';
import { FakeGraph, type FakeApplication } from './fake-graph';
import { APIM_PRINCIPAL_ID, hookRun, SUBSCRIPTION_ID, valuesAfter } from './support';

const UNIQUE_NAME = applicationUniqueName('dev', SUBSCRIPTION_ID);
const OTHER_SUBSCRIPTION = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';

let graph: FakeGraph;
let others: FakeApplication[];
let provisioned: Record<string, string | undefined>;

beforeEach(async () => {
  graph = await new FakeGraph().start();
  graph.principals.add(APIM_PRINCIPAL_ID);
  // Other registrations in the tenant, some deliberately alike.
  others = [
    // Same environment name, other subscription: same prefix, other hash.
    graph.addApplication({
      uniqueName: applicationUniqueName('dev', OTHER_SUBSCRIPTION),
      displayName: 'Functions behind APIM API (dev)',
    }),
    // An environment whose name starts with ours.
    graph.addApplication({
      uniqueName: applicationUniqueName('dev2', SUBSCRIPTION_ID),
      displayName: 'Functions behind APIM API (dev2)',
    }),
    // Same display name, no uniqueName (created in the portal).
    graph.addApplication({ displayName: 'Functions behind APIM API (dev)' }),
  ];
  for (const app of others) {
    graph.addServicePrincipal(app);
  }
  const run = hookRun(graph);
  await preprovision(run.context);
  provisioned = { ...valuesAfter(run), APIM_PRINCIPAL_ID };
  await postprovision(hookRun(graph, provisioned).context);
  graph.requests.length = 0;
});

afterEach(async () => {
  await graph.close();
});

function otherObjectsUntouched(): void {
  for (const app of others) {
    expect(graph.apps.get(app.id)).toBe(app);
    expect(graph.spByAppId(app.appId)).toMatchObject({ appId: app.appId });
  }
}

describe('predown', () => {
  it('deletes its own service principal and app registration, purges them, and nothing else', async () => {
    const run = hookRun(graph, provisioned);
    const result = await predown(run.context);

    const spId = provisioned.API_SP_OBJECT_ID!;
    const appId = provisioned.API_APP_OBJECT_ID!;
    expect(graph.writes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `DELETE /v1.0/servicePrincipals/${spId}`,
      `DELETE /v1.0/applications/${appId}`,
      `DELETE /v1.0/directory/deletedItems/${spId}`,
      `DELETE /v1.0/directory/deletedItems/${appId}`,
    ]);
    expect(result).toEqual({ deleted: [spId, appId], purged: [spId, appId] });
    expect(graph.appByUniqueName(UNIQUE_NAME)).toBeUndefined();
    expect(graph.deleted.size).toBe(0);
    expect(graph.assignments).toEqual([]);
    expect(graph.apps.size).toBe(others.length);
    otherObjectsUntouched();
    expect(run.warnings).toEqual([]);
  });

  it('lets `azd up` with the same environment name create the registration again', async () => {
    await predown(hookRun(graph, provisioned).context);
    const again = hookRun(graph);
    const registration = await preprovision(again.context);
    expect(registration.API_APP_OBJECT_ID).not.toBe(provisioned.API_APP_OBJECT_ID);
    expect(graph.appByUniqueName(UNIQUE_NAME)?.id).toBe(registration.API_APP_OBJECT_ID);
  });

  it('does nothing, successfully, when its objects do not exist', async () => {
    await predown(hookRun(graph, provisioned).context);
    graph.requests.length = 0;
    const run = hookRun(graph, provisioned);
    const result = await predown(run.context);
    expect(result).toEqual({ deleted: [], purged: [] });
    expect(graph.writes()).toEqual([]);
    expect(run.logs.join('\n')).toContain('nothing to delete');
    otherObjectsUntouched();
  });

  it('refuses to delete a registration whose object id differs from the one this environment stored', async () => {
    const run = hookRun(graph, { ...provisioned, API_APP_OBJECT_ID: others[0]!.id });
    const error = await predown(run.context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'not_ours' });
    expect((error as Error).message).toContain('Nothing was deleted');
    expect(graph.writes()).toEqual([]);
    expect(graph.appByUniqueName(UNIQUE_NAME)).toMatchObject({ uniqueName: UNIQUE_NAME });
  });

  it('refuses when the service principal differs from the stored one', async () => {
    const run = hookRun(graph, {
      ...provisioned,
      API_SP_OBJECT_ID: graph.spByAppId(others[0]!.appId)!.id,
    });
    const error = await predown(run.context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'not_ours' });
    expect(graph.writes()).toEqual([]);
  });

  it('works from the uniqueName alone when the environment lost the stored ids', async () => {
    const run = hookRun(graph);
    const result = await predown(run.context);
    expect(result.deleted).toEqual([provisioned.API_SP_OBJECT_ID, provisioned.API_APP_OBJECT_ID]);
    otherObjectsUntouched();
  });

  it('warns, and still succeeds, when the user may delete but not purge; a later run purges', async () => {
    graph.fail({
      method: 'DELETE',
      pathIncludes: '/directory/deletedItems/',
      status: 403,
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
      times: 2,
    });
    const run = hookRun(graph, provisioned);
    const result = await predown(run.context);
    expect(result.purged).toEqual([]);
    expect(run.warnings).toHaveLength(2);
    expect(run.warnings[1]).toContain('Cloud Application Administrator');
    expect(run.warnings[1]).toContain('30 days');
    expect(graph.deleted.has(provisioned.API_APP_OBJECT_ID!)).toBe(true);

    // Until it is purged, the deleted registration holds the uniqueName (as reported).
    const blocked = await preprovision(hookRun(graph).context).catch((e: unknown) => e);
    expect((blocked as Error).message).toContain('Deleted applications');

    const later = hookRun(graph, provisioned);
    const second = await predown(later.context);
    expect(second).toEqual({
      deleted: [],
      purged: [provisioned.API_SP_OBJECT_ID, provisioned.API_APP_OBJECT_ID],
    });
    expect(graph.deleted.size).toBe(0);
    otherObjectsUntouched();
  });

  it('does not purge a deleted item at a stored id that is not its registration', async () => {
    const foreign = others[2]!;
    graph.apps.delete(foreign.id);
    graph.deleted.set(foreign.id, { kind: 'application', object: foreign });
    await predown(hookRun(graph, provisioned).context);
    graph.requests.length = 0;
    const run = hookRun(graph, { ...provisioned, API_APP_OBJECT_ID: foreign.id });
    const result = await predown(run.context);
    expect(result.purged).toEqual([]);
    expect(graph.deleted.has(foreign.id)).toBe(true);
    expect(graph.writes()).toEqual([]);
  });

  const REFUSED = {
    method: 'DELETE',
    status: 403,
    code: 'Authorization_RequestDenied',
    message: 'Insufficient privileges to complete the operation.',
  } as const;

  it('goes on when Graph refuses to delete the service principal: deleting the registration removes it', async () => {
    graph.fail({ ...REFUSED, pathIncludes: '/v1.0/servicePrincipals/' });
    const run = hookRun(graph, provisioned);
    const result = await predown(run.context);
    const spId = provisioned.API_SP_OBJECT_ID!;
    const appId = provisioned.API_APP_OBJECT_ID!;
    expect(result).toEqual({ deleted: [spId, appId], purged: [spId, appId] });
    expect(run.logs.join('\n')).toContain(
      `Service principal ${spId} was deleted with its app registration.`,
    );
    expect(run.warnings).toEqual([]);
    expect(graph.spByAppId(provisioned.API_APP_CLIENT_ID!)).toBeUndefined();
    otherObjectsUntouched();
  });

  it('warns, naming what to delete by hand, when the service principal outlives the refusal', async () => {
    graph.applicationDeleteKeepsServicePrincipal = true;
    graph.fail({ ...REFUSED, pathIncludes: '/v1.0/servicePrincipals/' });
    const run = hookRun(graph, provisioned);
    const result = await predown(run.context);
    const spId = provisioned.API_SP_OBJECT_ID!;
    expect(result.deleted).toEqual([provisioned.API_APP_OBJECT_ID]);
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toContain(`Service principal ${spId} was not deleted`);
    expect(run.warnings[0]).toContain(`az ad sp delete --id ${spId}`);
    expect(run.warnings[0]).toContain('ownership of the service principal itself');
    expect(run.warnings[0]).toContain('goes on with the Azure resources');
    expect(graph.sps.has(spId)).toBe(true);
  });

  it('warns, and does not stop azd down, when Graph refuses both deletions', async () => {
    graph.fail({ ...REFUSED, pathIncludes: '/v1.0/servicePrincipals/' });
    graph.fail({ ...REFUSED, pathIncludes: '/v1.0/applications/' });
    const run = hookRun(graph, provisioned);
    const result = await predown(run.context);
    expect(result).toEqual({ deleted: [], purged: [] });
    expect(run.warnings).toHaveLength(2);
    expect(run.warnings[0]).toContain(`App registration ${UNIQUE_NAME}`);
    expect(run.warnings[0]).toContain('Application.ReadWrite.All');
    expect(run.warnings[0]).toContain(`az ad app delete --id ${provisioned.API_APP_CLIENT_ID}`);
    expect(run.warnings[1]).toContain(`az ad sp delete --id ${provisioned.API_SP_OBJECT_ID}`);
    expect(graph.appByUniqueName(UNIQUE_NAME)).toMatchObject({ uniqueName: UNIQUE_NAME });
    // Nothing was deleted, so nothing is purged either.
    expect(graph.writes().filter((r) => r.path.includes('deletedItems'))).toEqual([]);
  });

  it('exits 0 through the hook runner, so azd down deletes the Azure resources next', async () => {
    graph.fail({ ...REFUSED, pathIncludes: '/v1.0/servicePrincipals/' });
    graph.fail({ ...REFUSED, pathIncludes: '/v1.0/applications/' });
    const run = hookRun(graph, provisioned);
    const errors: string[] = [];
    expect(
      await runHook(
        'predown',
        () => run.context,
        (line) => errors.push(line),
      ),
    ).toBe(0);
    expect(errors).toEqual([]);
  });

  it('names every missing azd value and calls nothing', async () => {
    const run = hookRun(graph, { AZURE_SUBSCRIPTION_ID: undefined });
    const error = await predown(run.context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'missing_setting' });
    expect((error as Error).message).toContain('AZURE_SUBSCRIPTION_ID');
    expect(graph.requests).toEqual([]);
  });
});
