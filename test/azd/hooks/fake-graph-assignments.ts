import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { FakeGraph } from './fake-graph';
import { json, noContent, notFound, sendError, type FakeAssignment } from './fake-graph-objects';

/** The fake Graph's app role assignments (`appRoleAssignedTo`) and deleted items. */

export function appRoleAssignedTo(
  graph: FakeGraph,
  res: http.ServerResponse,
  method: string,
  spId: string,
  body: unknown,
  url: URL,
): void {
  const sp = graph.sps.get(spId);
  if (!sp) {
    return notFound(res, spId);
  }
  if (method === 'GET') {
    const all =
      graph.hideAssignmentsFromList > 0
        ? []
        : graph.assignments.filter((a) => a.resourceId === spId);
    if (graph.hideAssignmentsFromList > 0) {
      graph.hideAssignmentsFromList--;
    }
    const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
    const page = all.slice(skip, skip + graph.pageSize);
    const result: Record<string, unknown> = { value: page };
    if (skip + graph.pageSize < all.length) {
      const base = graph.nextLinkBase ?? graph.url;
      result['@odata.nextLink'] =
        `${base}/v1.0/servicePrincipals/${spId}/appRoleAssignedTo?$skiptoken=${skip + graph.pageSize}`;
    }
    return json(res, 200, result);
  }
  if (method !== 'POST') {
    return sendError(res, 405, 'MethodNotAllowed', method);
  }
  const fields = (body ?? {}) as Partial<FakeAssignment>;
  if (fields.resourceId !== spId) {
    return sendError(
      res,
      400,
      'Request_BadRequest',
      'resourceId must be the service principal of the URL.',
    );
  }
  if (!sp.appRoles.some((r) => r.id === fields.appRoleId && r.isEnabled)) {
    return sendError(
      res,
      400,
      'Request_BadRequest',
      `Permission being assigned was not found on application '${sp.appId}'.`,
    );
  }
  if (
    typeof fields.principalId !== 'string' ||
    !(graph.principals.has(fields.principalId) || graph.sps.has(fields.principalId))
  ) {
    return sendError(res, 400, 'Request_BadRequest', 'Not a valid reference update.');
  }
  if (
    graph.assignments.some(
      (a) =>
        a.resourceId === spId &&
        a.principalId === fields.principalId &&
        a.appRoleId === fields.appRoleId,
    )
  ) {
    return sendError(
      res,
      400,
      'Request_BadRequest',
      'Permission being assigned already exists on the object',
    );
  }
  const assignment: FakeAssignment = {
    id: randomUUID(),
    principalId: fields.principalId,
    resourceId: spId,
    appRoleId: fields.appRoleId!,
  };
  graph.assignments.push(assignment);
  return json(res, 201, assignment);
}

export function deletedItem(
  graph: FakeGraph,
  res: http.ServerResponse,
  method: string,
  id: string,
): void {
  const item = graph.deleted.get(id);
  if (!item) {
    return notFound(res, id);
  }
  if (method === 'GET') {
    return json(res, 200, {
      '@odata.type': `#microsoft.graph.${item.kind}`,
      ...item.object,
    });
  }
  if (method === 'DELETE') {
    graph.deleted.delete(id);
    return noContent(res);
  }
  return sendError(res, 405, 'MethodNotAllowed', method);
}
