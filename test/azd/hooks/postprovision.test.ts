import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postprovision } from '../../../scripts/azd/hooks/postprovision-grant-apim-role';
import { preprovision } from '../../../scripts/azd/hooks/preprovision-app-registration';
import { FakeGraph } from './fake-graph';
import { APIM_PRINCIPAL_ID, hookRun, valuesAfter } from './support';

let graph: FakeGraph;
let provisioned: Record<string, string | undefined>;

beforeEach(async () => {
  graph = await new FakeGraph().start();
  graph.principals.add(APIM_PRINCIPAL_ID);
  const run = hookRun(graph);
  await preprovision(run.context);
  provisioned = { ...valuesAfter(run), APIM_PRINCIPAL_ID };
  graph.requests.length = 0;
});

afterEach(async () => {
  await graph.close();
});

function posts() {
  return graph.requests.filter((r) => r.method === 'POST');
}

describe('postprovision', () => {
  it("grants the app role to API Management's identity once; a rerun lists and does not duplicate", async () => {
    const first = await postprovision(hookRun(graph, provisioned).context);
    expect(first.created).toBe(true);
    expect(posts()).toHaveLength(1);
    expect(posts()[0]!.body).toEqual({
      principalId: APIM_PRINCIPAL_ID,
      resourceId: provisioned.API_SP_OBJECT_ID,
      appRoleId: provisioned.API_APP_ROLE_ID,
    });
    expect(graph.assignments).toHaveLength(1);

    graph.requests.length = 0;
    const second = await postprovision(hookRun(graph, provisioned).context);
    expect(second).toEqual({ assignmentId: first.assignmentId, created: false });
    expect(graph.requests.map((r) => r.method)).toEqual(['GET']);
    expect(graph.assignments).toHaveLength(1);
  });

  it('follows @odata.nextLink to find an assignment on a later page', async () => {
    const spId = provisioned.API_SP_OBJECT_ID!;
    for (let i = 0; i < 250; i++) {
      graph.assignments.push({
        id: randomUUID(),
        principalId: randomUUID(),
        resourceId: spId,
        appRoleId: provisioned.API_APP_ROLE_ID!,
      });
    }
    graph.assignments.push({
      id: 'ours',
      principalId: APIM_PRINCIPAL_ID,
      resourceId: spId,
      appRoleId: provisioned.API_APP_ROLE_ID!,
    });
    graph.pageSize = 100;

    const result = await postprovision(hookRun(graph, provisioned).context);
    expect(result).toEqual({ assignmentId: 'ours', created: false });
    expect(graph.requests.map((r) => r.path)).toEqual([
      `/v1.0/servicePrincipals/${spId}/appRoleAssignedTo`,
      `/v1.0/servicePrincipals/${spId}/appRoleAssignedTo?$skiptoken=100`,
      `/v1.0/servicePrincipals/${spId}/appRoleAssignedTo?$skiptoken=200`,
    ]);
    expect(posts()).toEqual([]);
  });

  it('never follows a nextLink to another origin, so the token stays with Graph', async () => {
    const elsewhere: string[] = [];
    const other = http.createServer((req, res) => {
      elsewhere.push(String(req.headers.authorization));
      res.end('{}');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      graph.nextLinkBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      graph.pageSize = 1;
      graph.assignments.push(
        {
          id: 'a',
          principalId: randomUUID(),
          resourceId: provisioned.API_SP_OBJECT_ID!,
          appRoleId: provisioned.API_APP_ROLE_ID!,
        },
        {
          id: 'b',
          principalId: randomUUID(),
          resourceId: provisioned.API_SP_OBJECT_ID!,
          appRoleId: provisioned.API_APP_ROLE_ID!,
        },
      );
      const error = await postprovision(hookRun(graph, provisioned).context).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'invalid_response' });
      expect((error as Error).message).toContain('was not followed');
      expect(elsewhere).toEqual([]);
      expect(posts()).toEqual([]);
    } finally {
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("retries while API Management's new identity has not replicated, then assigns once", async () => {
    graph.fail({
      method: 'POST',
      pathIncludes: '/appRoleAssignedTo',
      status: 400,
      code: 'Request_BadRequest',
      message: 'Not a valid reference update.',
      times: 2,
    });
    const run = hookRun(graph, provisioned);
    const result = await postprovision(run.context);
    expect(result.created).toBe(true);
    expect(run.sleeps).toEqual([2000, 4000]);
    expect(graph.assignments).toHaveLength(1);
  });

  it('treats "already exists" as done when the list lagged behind an earlier run', async () => {
    await postprovision(hookRun(graph, provisioned).context);
    graph.hideAssignmentsFromList = 1;
    const result = await postprovision(hookRun(graph, provisioned).context);
    expect(result.created).toBe(false);
    expect(graph.assignments).toHaveLength(1);
  });

  it('names the permission and the admin roles when Graph refuses the assignment (403)', async () => {
    graph.fail({
      method: 'POST',
      pathIncludes: '/appRoleAssignedTo',
      status: 403,
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
    });
    const error = await postprovision(hookRun(graph, provisioned).context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'permission_denied' });
    const message = (error as Error).message;
    expect(message).toContain('AppRoleAssignment.ReadWrite.All');
    expect(message).toContain('Cloud Application Administrator');
    expect(message).toContain('Privileged Role Administrator');
    expect(message).not.toContain(graph.token);
    expect(graph.assignments).toEqual([]);
  });

  it('names every missing azd value and calls nothing', async () => {
    const run = hookRun(graph, {
      ...provisioned,
      APIM_PRINCIPAL_ID: undefined,
      API_APP_ROLE_ID: '',
    });
    const error = await postprovision(run.context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'missing_setting' });
    expect((error as Error).message).toContain('APIM_PRINCIPAL_ID, API_APP_ROLE_ID');
    expect(graph.requests).toEqual([]);
  });

  it('names a value that is not a GUID', async () => {
    const run = hookRun(graph, { ...provisioned, APIM_PRINCIPAL_ID: 'apim' });
    const error = await postprovision(run.context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_setting' });
    expect((error as Error).message).toContain('APIM_PRINCIPAL_ID');
    expect(graph.requests).toEqual([]);
  });
});
