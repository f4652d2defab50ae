import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HookError } from '../../../scripts/azd/shared/errors';
import { APP_ROLE_VALUE, appRoleId, applicationUniqueName } from '../../../scripts/azd/hooks/names';
import { preprovision } from '../../../scripts/azd/hooks/preprovision-app-registration';
import { defined } from '../../support/assert';
import { FakeGraph } from './fake-graph';
import { hookRun, SUBSCRIPTION_ID, valuesAfter } from './support';

const UNIQUE_NAME = applicationUniqueName('dev', SUBSCRIPTION_ID);

let graph: FakeGraph;

beforeEach(async () => {
  graph = await new FakeGraph().start();
});

afterEach(async () => {
  await graph.close();
});

describe('preprovision, first run', () => {
  it('creates the app registration, its app role and its service principal, and stores their ids', async () => {
    const run = hookRun(graph);
    const result = await preprovision(run.context);

    const app = defined(graph.appByUniqueName(UNIQUE_NAME), 'the app registration');
    expect(app.identifierUris).toEqual([`api://${app.appId}`]);
    expect(app.api.requestedAccessTokenVersion).toBe(2);
    expect(app.signInAudience).toBe('AzureADMyOrg');
    expect(app.displayName).toBe('Functions behind APIM API (dev)');
    expect(app.appRoles).toEqual([
      expect.objectContaining({
        id: appRoleId(UNIQUE_NAME),
        value: APP_ROLE_VALUE,
        allowedMemberTypes: ['Application'],
        isEnabled: true,
      }),
    ]);
    const sp = graph.spByAppId(app.appId)!;
    expect(sp.appRoleAssignmentRequired).toBe(true);
    expect(graph.apps.size).toBe(1);
    expect(graph.sps.size).toBe(1);

    expect(run.stored).toEqual([
      ['API_APP_CLIENT_ID', app.appId],
      ['API_APP_OBJECT_ID', app.id],
      ['API_SP_OBJECT_ID', sp.id],
      ['API_APP_ROLE_ID', appRoleId(UNIQUE_NAME)],
      ['API_APP_ROLE', 'Api.Invoke'],
    ]);
    expect(result.API_SP_OBJECT_ID).toBe(sp.id);
  });

  it('creates through the upsert calls of Graph: uniqueName with create-if-missing, then appId', async () => {
    await preprovision(hookRun(graph).context);
    const app = graph.appByUniqueName(UNIQUE_NAME)!;
    const writes = graph
      .writes()
      .map((r) => `${r.method} ${r.path} ${String(r.headers.prefer ?? '')}`.trim());
    expect(writes).toEqual([
      `PATCH /v1.0/applications(uniqueName='${UNIQUE_NAME}') create-if-missing`,
      `PATCH /v1.0/applications/${app.id}`,
      `PATCH /v1.0/servicePrincipals(appId='${app.appId}') create-if-missing`,
    ]);
    expect(graph.writes()[0]!.body).toEqual({
      displayName: 'Functions behind APIM API (dev)',
      notes: expect.stringContaining('"dev"'),
      signInAudience: 'AzureADMyOrg',
    });
    expect(graph.writes()[1]!.body).toEqual({
      api: { requestedAccessTokenVersion: 2 },
      identifierUris: [`api://${app.appId}`],
      appRoles: [expect.objectContaining({ id: appRoleId(UNIQUE_NAME), value: 'Api.Invoke' })],
    });
    expect(graph.writes()[2]!.body).toEqual({ appRoleAssignmentRequired: true });
  });

  it('asks ARM for the tenant first, then for a Graph token of that tenant, sent only as the Authorization header', async () => {
    const run = hookRun(graph);
    await preprovision(run.context);
    expect((run.context.credential as unknown as { scopes: string[] }).scopes).toEqual([
      'https://management.azure.com/.default',
    ]);
    expect(graph.arm.requests).toEqual([
      `GET /subscriptions/${SUBSCRIPTION_ID}?api-version=2022-12-01`,
    ]);
    expect(run.tenants).toEqual([graph.tenantId]);
    expect(run.graphScopes).toEqual(['https://graph.microsoft.com/.default']);
    expect(graph.requests.every((r) => r.headers.authorization === `Bearer ${graph.token}`)).toBe(
      true,
    );
    expect([...run.logs, ...run.warnings].join('\n')).not.toContain(graph.token);
  });

  it('reads a registration that the lookup missed but the upsert found, and creates no second one', async () => {
    const existing = graph.addApplication({ uniqueName: UNIQUE_NAME, displayName: 'old name' });
    graph.fail({
      method: 'GET',
      pathIncludes: 'applications(uniqueName=',
      status: 404,
      code: 'Request_ResourceNotFound',
      times: 2,
    });
    const run = hookRun(graph);
    const result = await preprovision(run.context);
    expect(result.API_APP_OBJECT_ID).toBe(existing.id);
    expect(graph.apps.size).toBe(1);
    expect(existing.displayName).toBe('Functions behind APIM API (dev)');
    expect(existing.identifierUris).toEqual([`api://${existing.appId}`]);
    expect(run.sleeps).toEqual([2000]);
  });

  it('waits for replication when the new registration is not found at once', async () => {
    graph.fail({
      method: 'PATCH',
      pathIncludes: '/v1.0/applications/',
      status: 404,
      code: 'Request_ResourceNotFound',
      times: 2,
    });
    graph.fail({
      method: 'PATCH',
      pathIncludes: 'servicePrincipals(appId=',
      status: 400,
      code: 'Request_BadRequest',
      message:
        "The appId 'x' of the service principal does not reference a valid application object.",
    });
    const run = hookRun(graph);
    await preprovision(run.context);
    expect(run.sleeps).toEqual([2000, 4000, 2000]);
    expect(graph.appByUniqueName(UNIQUE_NAME)!.identifierUris).toHaveLength(1);
    expect(graph.sps.size).toBe(1);
  });
});

describe('preprovision, second run', () => {
  it('changes nothing: only reads, and stores nothing that azd already holds', async () => {
    const first = hookRun(graph);
    await preprovision(first.context);
    const before = JSON.stringify([...graph.apps.values(), ...graph.sps.values()]);
    graph.requests.length = 0;

    const second = hookRun(graph, valuesAfter(first));
    const result = await preprovision(second.context);

    expect(graph.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(second.stored).toEqual([]);
    expect(JSON.stringify([...graph.apps.values(), ...graph.sps.values()])).toBe(before);
    expect(result).toEqual(Object.fromEntries(first.stored));
  });

  it('stores the same ids again when the azd environment lost them, without writing to Graph', async () => {
    const first = hookRun(graph);
    await preprovision(first.context);
    graph.requests.length = 0;
    const second = hookRun(graph);
    await preprovision(second.context);
    expect(graph.writes()).toEqual([]);
    expect(second.stored).toEqual(first.stored);
  });

  it('repairs drift with one PATCH of exactly the drifted properties, keeping the role id', async () => {
    const first = hookRun(graph);
    await preprovision(first.context);
    const app = graph.appByUniqueName(UNIQUE_NAME)!;
    const sp = graph.spByAppId(app.appId)!;
    app.api.requestedAccessTokenVersion = null;
    app.appRoles[0]!.isEnabled = false;
    app.identifierUris = [];
    sp.appRoleAssignmentRequired = false;
    graph.requests.length = 0;

    const second = hookRun(graph, valuesAfter(first));
    await preprovision(second.context);

    const writes = graph.writes();
    expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH /v1.0/applications/${app.id}`,
      `PATCH /v1.0/servicePrincipals/${sp.id}`,
    ]);
    expect(Object.keys(writes[0]!.body as object).sort()).toEqual([
      'api',
      'appRoles',
      'identifierUris',
    ]);
    expect(app.api.requestedAccessTokenVersion).toBe(2);
    expect(app.appRoles).toEqual([
      expect.objectContaining({ id: appRoleId(UNIQUE_NAME), isEnabled: true }),
    ]);
    expect(app.identifierUris).toEqual([`api://${app.appId}`]);
    expect(sp.appRoleAssignmentRequired).toBe(true);
    expect(second.stored).toEqual([]);
  });

  it('keeps the id of an Api.Invoke role that the registration already has, and other roles', async () => {
    const existingRoleId = '11111111-2222-4333-8444-555555555555';
    const otherRole = {
      id: '99999999-2222-4333-8444-555555555555',
      allowedMemberTypes: ['User'],
      value: 'Reader',
      displayName: 'Reader',
      description: 'Reads.',
      isEnabled: true,
    };
    const app = graph.addApplication({
      uniqueName: UNIQUE_NAME,
      displayName: 'Functions behind APIM API (dev)',
      api: { requestedAccessTokenVersion: 2 },
      appRoles: [
        otherRole,
        {
          id: existingRoleId,
          allowedMemberTypes: ['Application'],
          value: 'Api.Invoke',
          displayName: 'x',
          description: 'y',
          isEnabled: true,
        },
      ],
    });
    app.identifierUris = [`api://${app.appId}`];
    const run = hookRun(graph);
    await preprovision(run.context);
    expect(run.stored).toContainEqual(['API_APP_ROLE_ID', existingRoleId]);
    const patches = graph.writes().filter((r) => r.path === `/v1.0/applications/${app.id}`);
    expect(patches).toHaveLength(1);
    expect(Object.keys(patches[0]!.body as object)).toEqual(['notes']);
    expect(app.appRoles.map((r) => r.id)).toEqual([otherRole.id, existingRoleId]);
  });
});

describe('preprovision, failures', () => {
  it('names the permission and what an admin must do when Graph refuses (403)', async () => {
    graph.fail({
      method: 'PATCH',
      pathIncludes: 'applications(uniqueName=',
      status: 403,
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
    });
    const run = hookRun(graph);
    const error = await preprovision(run.context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HookError);
    expect(error).toMatchObject({ code: 'permission_denied' });
    const message = (error as Error).message;
    expect(message).toContain('Application.ReadWrite.All');
    expect(message).toContain('Application Developer');
    expect(message).toContain('Authorization_RequestDenied');
    expect(message).toMatch(/administrator of the tenant can/i);
    expect(message).not.toContain(graph.token);
    expect(run.stored).toEqual([]);
  });

  it('says that creating the service principal needs the Application Developer role (403)', async () => {
    // The app registration is created (members may register applications), its service
    // principal is refused: Graph's upsert-servicePrincipal page names Application Developer.
    graph.fail({
      method: 'PATCH',
      pathIncludes: 'servicePrincipals(appId=',
      status: 403,
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
    });
    const run = hookRun(graph);
    const error = await preprovision(run.context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'permission_denied' });
    expect((error as Error).message).toContain(
      "Microsoft Graph refused to create or update the app registration's service principal (403 " +
        'Authorization_RequestDenied). The user signed in to azd needs the delegated permission ' +
        'Application.ReadWrite.All and the Application Developer role',
    );
    expect((error as Error).message).toContain(
      'registering an application does not by itself allow a user who is not an administrator',
    );
    expect(graph.apps.size).toBe(1);
    expect(run.stored).toEqual([]);
  });

  it('honours Retry-After on 429 and goes on', async () => {
    graph.fail({
      method: 'GET',
      pathIncludes: 'applications(uniqueName=',
      status: 429,
      code: 'TooManyRequests',
      headers: { 'retry-after': '7' },
    });
    const run = hookRun(graph);
    await preprovision(run.context);
    expect(run.sleeps[0]).toBe(7000);
    expect(graph.apps.size).toBe(1);
  });

  it('gives up after a bounded number of attempts when Graph keeps failing (503)', async () => {
    graph.fail({
      method: 'GET',
      pathIncludes: 'applications(uniqueName=',
      status: 503,
      code: 'ServiceUnavailable',
      times: 100,
    });
    const run = hookRun(graph);
    const error = await preprovision(run.context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'service_error', status: 503 });
    expect((error as Error).message).toContain('gave up after 5 attempts');
    expect(graph.requests).toHaveLength(5);
    expect(run.sleeps).toEqual([1000, 2000, 4000, 8000]);
  });

  it('names every missing azd value and calls nothing', async () => {
    const run = hookRun(graph, { AZURE_ENV_NAME: undefined, AZURE_SUBSCRIPTION_ID: '' });
    const error = await preprovision(run.context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'missing_setting' });
    expect((error as Error).message).toContain('AZURE_ENV_NAME, AZURE_SUBSCRIPTION_ID');
    expect(graph.requests).toEqual([]);
  });

  it.each([
    ['http://graph.example.com', 'plain http to another host'],
    ['ftp://127.0.0.1', 'another scheme'],
    ['https://user:pass@graph.microsoft.com', 'credentials in the URL'],
    ['not a url', 'not a URL'],
  ])('refuses GRAPH_ENDPOINT=%s (%s) before sending a token', async (endpoint) => {
    const run = hookRun(graph, { GRAPH_ENDPOINT: endpoint });
    const error = await preprovision(run.context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_setting' });
    expect((error as Error).message).toContain('GRAPH_ENDPOINT');
    expect((run.context.credential as unknown as { scopes: string[] }).scopes).toEqual([]);
    expect(graph.arm.requests).toEqual([]);
  });

  it('explains a uniqueName still held by a deleted registration', async () => {
    const old = graph.addApplication({ uniqueName: UNIQUE_NAME, displayName: 'old' });
    graph.apps.delete(old.id);
    graph.deleted.set(old.id, { kind: 'application', object: old });
    const error = await preprovision(hookRun(graph).context).catch((e: unknown) => e);
    expect((error as Error).message).toContain('Deleted applications');
  });
});
