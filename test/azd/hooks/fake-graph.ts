import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-memory Microsoft Graph on 127.0.0.1 that implements exactly the calls the hooks make,
 * with Graph's status codes and error shapes, and records every request.
 *
 * Behaviour mirrored from Graph: upsert by `uniqueName` / `appId` with `Prefer: create-if-missing`
 * (201 created, 204 updated, 404 without the header); deleting an application also deletes its
 * service principal; deleted objects go to `directory/deletedItems`; an app role that is enabled
 * cannot be removed; a duplicate app role assignment is refused with 400 "already exists".
 * One behaviour is only reported (third-party issue threads), not documented: a soft-deleted
 * application keeps its uniqueName, so an upsert with that name fails with 400.
 */

export interface FakeAppRole {
  id: string;
  allowedMemberTypes: string[];
  value: string | null;
  displayName: string | null;
  description: string | null;
  isEnabled: boolean;
}

export interface FakeApplication {
  id: string;
  appId: string;
  uniqueName: string | null;
  displayName: string;
  notes: string | null;
  signInAudience: string;
  identifierUris: string[];
  api: { requestedAccessTokenVersion: number | null; [other: string]: unknown };
  appRoles: FakeAppRole[];
}

export interface FakeServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  appRoleAssignmentRequired: boolean;
  appRoles: FakeAppRole[];
}

export interface FakeAssignment {
  id: string;
  principalId: string;
  resourceId: string;
  appRoleId: string;
}

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, percent-decoded. */
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: unknown;
}

export interface Fault {
  readonly method?: string;
  /** Matches when the decoded path contains this text. */
  readonly pathIncludes: string;
  readonly status: number;
  readonly code?: string;
  readonly message?: string;
  readonly headers?: Record<string, string>;
  /** How many matching requests fail; default 1. */
  times?: number;
}

type Deleted =
  | { kind: 'application'; object: FakeApplication }
  | { kind: 'servicePrincipal'; object: FakeServicePrincipal };

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export class FakeGraph {
  readonly token = `fake-graph-token-${randomUUID()}`;
  readonly apps = new Map<string, FakeApplication>();
  readonly sps = new Map<string, FakeServicePrincipal>();
  readonly assignments: FakeAssignment[] = [];
  readonly deleted = new Map<string, Deleted>();
  /** Principals (for example API Management's managed identity) that exist in the tenant. */
  readonly principals = new Set<string>();
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  pageSize = 100;
  /** Where `@odata.nextLink` points; default this server. */
  nextLinkBase: string | undefined;
  /** Listing of appRoleAssignedTo returns nothing this many times (replication lag). */
  hideAssignmentsFromList = 0;
  url = '';
  private readonly server = http.createServer((req, res) => {
    this.handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(error instanceof Error ? error.message : 'fake graph failure');
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Requests that change something (anything but GET). */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  fail(fault: Fault): void {
    this.faults.push({ ...fault, times: fault.times ?? 1 });
  }

  addApplication(partial: Partial<FakeApplication> & { displayName: string }): FakeApplication {
    const app: FakeApplication = {
      id: randomUUID(),
      appId: randomUUID(),
      uniqueName: null,
      notes: null,
      signInAudience: 'AzureADMyOrg',
      identifierUris: [],
      api: { requestedAccessTokenVersion: null },
      appRoles: [],
      ...partial,
    };
    this.apps.set(app.id, app);
    return app;
  }

  addServicePrincipal(
    app: FakeApplication,
    partial: Partial<FakeServicePrincipal> = {},
  ): FakeServicePrincipal {
    const sp: FakeServicePrincipal = {
      id: randomUUID(),
      appId: app.appId,
      displayName: app.displayName,
      appRoleAssignmentRequired: false,
      appRoles: clone(app.appRoles),
      ...partial,
    };
    this.sps.set(sp.id, sp);
    return sp;
  }

  appByUniqueName(uniqueName: string): FakeApplication | undefined {
    return [...this.apps.values()].find((a) => a.uniqueName === uniqueName);
  }

  spByAppId(appId: string): FakeServicePrincipal | undefined {
    return [...this.sps.values()].find((s) => s.appId === appId);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw === '' ? undefined : (JSON.parse(raw) as unknown);
    } catch {
      return this.error(res, 400, 'BadRequest', 'Malformed JSON.');
    }
    const url = new URL(req.url ?? '/', this.url);
    const path = decodeURIComponent(url.pathname);
    const method = req.method ?? 'GET';
    this.requests.push({
      method,
      path: decodeURIComponent(url.pathname + url.search),
      headers: req.headers,
      body,
    });

    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return this.error(
        res,
        401,
        'InvalidAuthenticationToken',
        'Access token is empty or invalid.',
      );
    }
    const fault = this.faults.find(
      (f) =>
        (f.times ?? 0) > 0 &&
        (f.method === undefined || f.method === method) &&
        path.includes(f.pathIncludes),
    );
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      return this.error(
        res,
        fault.status,
        fault.code ?? 'Fault',
        fault.message ?? 'Injected fault.',
        fault.headers,
      );
    }
    const createIfMissing = req.headers.prefer === 'create-if-missing';

    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/v1\.0\/applications\(uniqueName='([^']*)'\)$/))) {
      return this.applicationByUniqueName(res, method, m[1]!, body, createIfMissing);
    }
    if ((m = path.match(/^\/v1\.0\/applications\/([0-9a-f-]+)$/))) {
      return this.applicationById(res, method, m[1]!, body);
    }
    if ((m = path.match(/^\/v1\.0\/servicePrincipals\(appId='([^']*)'\)$/))) {
      return this.servicePrincipalByAppId(res, method, m[1]!, body, createIfMissing);
    }
    if ((m = path.match(/^\/v1\.0\/servicePrincipals\/([0-9a-f-]+)\/appRoleAssignedTo$/))) {
      return this.appRoleAssignedTo(res, method, m[1]!, body, url);
    }
    if ((m = path.match(/^\/v1\.0\/servicePrincipals\/([0-9a-f-]+)$/))) {
      return this.servicePrincipalById(res, method, m[1]!, body);
    }
    if ((m = path.match(/^\/v1\.0\/directory\/deletedItems\/([0-9a-f-]+)$/))) {
      return this.deletedItem(res, method, m[1]!);
    }
    return this.error(
      res,
      501,
      'NotImplementedInFake',
      `${method} ${path} is not implemented by the fake.`,
    );
  }

  private applicationByUniqueName(
    res: http.ServerResponse,
    method: string,
    uniqueName: string,
    body: unknown,
    createIfMissing: boolean,
  ): void {
    const app = this.appByUniqueName(uniqueName);
    if (method === 'GET') {
      return app ? this.json(res, 200, app) : this.notFound(res, uniqueName);
    }
    if (method !== 'PATCH') {
      return this.error(res, 405, 'MethodNotAllowed', method);
    }
    if (app) {
      return this.patchApplication(res, app, body);
    }
    if (!createIfMissing) {
      return this.notFound(res, uniqueName);
    }
    const held = [...this.deleted.values()].some(
      (d) => d.kind === 'application' && d.object.uniqueName === uniqueName,
    );
    if (held) {
      return this.error(
        res,
        400,
        'Request_BadRequest',
        'Another object with the same value for property uniqueName already exists.',
      );
    }
    const fields = (body ?? {}) as Partial<FakeApplication>;
    if (typeof fields.displayName !== 'string' || fields.displayName === '') {
      return this.error(res, 400, 'Request_BadRequest', 'displayName is required.');
    }
    const problem = this.validateApplication(fields);
    if (problem) {
      return this.error(res, 400, 'Request_BadRequest', problem);
    }
    const created = this.addApplication({
      ...clone(fields),
      displayName: fields.displayName,
      uniqueName,
    });
    return this.json(res, 201, created);
  }

  private applicationById(
    res: http.ServerResponse,
    method: string,
    id: string,
    body: unknown,
  ): void {
    const app = this.apps.get(id);
    if (!app) {
      return this.notFound(res, id);
    }
    if (method === 'PATCH') {
      return this.patchApplication(res, app, body);
    }
    if (method === 'DELETE') {
      this.apps.delete(id);
      this.deleted.set(id, { kind: 'application', object: app });
      const sp = this.spByAppId(app.appId);
      if (sp) {
        this.deleteServicePrincipal(sp);
      }
      return this.noContent(res);
    }
    return this.error(res, 405, 'MethodNotAllowed', method);
  }

  private validateApplication(
    fields: Partial<FakeApplication>,
    existing?: FakeApplication,
  ): string | undefined {
    if ('uniqueName' in fields && existing?.uniqueName) {
      return 'uniqueName is immutable.';
    }
    for (const role of fields.appRoles ?? []) {
      if (
        typeof role.id !== 'string' ||
        !/^[0-9a-f-]{36}$/i.test(role.id) ||
        !Array.isArray(role.allowedMemberTypes) ||
        role.allowedMemberTypes.length === 0 ||
        typeof role.isEnabled !== 'boolean' ||
        typeof role.displayName !== 'string' ||
        typeof role.description !== 'string'
      ) {
        return 'Invalid app role.';
      }
    }
    if (fields.appRoles && existing) {
      for (const old of existing.appRoles) {
        if (old.isEnabled && !fields.appRoles.some((r) => r.id === old.id)) {
          return 'CannotDeleteOrUpdateEnabledEntitlement: disable the app role before removing it.';
        }
      }
    }
    for (const uri of fields.identifierUris ?? []) {
      if (!existing || (uri.startsWith('api://') && uri !== `api://${existing.appId}`)) {
        return `Values of identifierUris property must use a verified domain or the app id: ${uri}`;
      }
    }
    return undefined;
  }

  private patchApplication(res: http.ServerResponse, app: FakeApplication, body: unknown): void {
    const fields = (body ?? {}) as Partial<FakeApplication>;
    for (const key of ['id', 'appId'] as const) {
      if (key in fields) {
        return this.error(res, 400, 'Request_BadRequest', `${key} is read-only.`);
      }
    }
    const problem = this.validateApplication(fields, app);
    if (problem) {
      return this.error(res, 400, 'Request_BadRequest', problem);
    }
    Object.assign(app, clone(fields));
    const sp = this.spByAppId(app.appId);
    if (sp) {
      sp.appRoles = clone(app.appRoles);
    }
    return this.noContent(res);
  }

  private servicePrincipalByAppId(
    res: http.ServerResponse,
    method: string,
    appId: string,
    body: unknown,
    createIfMissing: boolean,
  ): void {
    const sp = this.spByAppId(appId);
    if (method === 'GET') {
      return sp ? this.json(res, 200, sp) : this.notFound(res, appId);
    }
    if (method !== 'PATCH') {
      return this.error(res, 405, 'MethodNotAllowed', method);
    }
    const fields = (body ?? {}) as Partial<FakeServicePrincipal>;
    if (sp) {
      Object.assign(sp, clone(fields));
      return this.noContent(res);
    }
    if (!createIfMissing) {
      return this.notFound(res, appId);
    }
    const app = [...this.apps.values()].find((a) => a.appId === appId);
    if (!app) {
      return this.error(
        res,
        400,
        'Request_BadRequest',
        `The appId '${appId}' of the service principal does not reference a valid application object.`,
      );
    }
    return this.json(res, 201, this.addServicePrincipal(app, clone(fields)));
  }

  private deleteServicePrincipal(sp: FakeServicePrincipal): void {
    this.sps.delete(sp.id);
    this.deleted.set(sp.id, { kind: 'servicePrincipal', object: sp });
    for (let i = this.assignments.length - 1; i >= 0; i--) {
      const a = this.assignments[i]!;
      if (a.resourceId === sp.id || a.principalId === sp.id) {
        this.assignments.splice(i, 1);
      }
    }
  }

  private servicePrincipalById(
    res: http.ServerResponse,
    method: string,
    id: string,
    body: unknown,
  ): void {
    const sp = this.sps.get(id);
    if (!sp) {
      return this.notFound(res, id);
    }
    if (method === 'PATCH') {
      Object.assign(sp, clone(body ?? {}));
      return this.noContent(res);
    }
    if (method === 'DELETE') {
      this.deleteServicePrincipal(sp);
      return this.noContent(res);
    }
    return this.error(res, 405, 'MethodNotAllowed', method);
  }

  private appRoleAssignedTo(
    res: http.ServerResponse,
    method: string,
    spId: string,
    body: unknown,
    url: URL,
  ): void {
    const sp = this.sps.get(spId);
    if (!sp) {
      return this.notFound(res, spId);
    }
    if (method === 'GET') {
      const all =
        this.hideAssignmentsFromList > 0
          ? []
          : this.assignments.filter((a) => a.resourceId === spId);
      if (this.hideAssignmentsFromList > 0) {
        this.hideAssignmentsFromList--;
      }
      const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
      const page = all.slice(skip, skip + this.pageSize);
      const result: Record<string, unknown> = { value: page };
      if (skip + this.pageSize < all.length) {
        const base = this.nextLinkBase ?? this.url;
        result['@odata.nextLink'] =
          `${base}/v1.0/servicePrincipals/${spId}/appRoleAssignedTo?$skiptoken=${skip + this.pageSize}`;
      }
      return this.json(res, 200, result);
    }
    if (method !== 'POST') {
      return this.error(res, 405, 'MethodNotAllowed', method);
    }
    const fields = (body ?? {}) as Partial<FakeAssignment>;
    if (fields.resourceId !== spId) {
      return this.error(
        res,
        400,
        'Request_BadRequest',
        'resourceId must be the service principal of the URL.',
      );
    }
    if (!sp.appRoles.some((r) => r.id === fields.appRoleId && r.isEnabled)) {
      return this.error(
        res,
        400,
        'Request_BadRequest',
        `Permission being assigned was not found on application '${sp.appId}'.`,
      );
    }
    if (
      typeof fields.principalId !== 'string' ||
      !(this.principals.has(fields.principalId) || this.sps.has(fields.principalId))
    ) {
      return this.error(res, 400, 'Request_BadRequest', 'Not a valid reference update.');
    }
    if (
      this.assignments.some(
        (a) =>
          a.resourceId === spId &&
          a.principalId === fields.principalId &&
          a.appRoleId === fields.appRoleId,
      )
    ) {
      return this.error(
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
    this.assignments.push(assignment);
    return this.json(res, 201, assignment);
  }

  private deletedItem(res: http.ServerResponse, method: string, id: string): void {
    const item = this.deleted.get(id);
    if (!item) {
      return this.notFound(res, id);
    }
    if (method === 'GET') {
      return this.json(res, 200, {
        '@odata.type': `#microsoft.graph.${item.kind}`,
        ...item.object,
      });
    }
    if (method === 'DELETE') {
      this.deleted.delete(id);
      return this.noContent(res);
    }
    return this.error(res, 405, 'MethodNotAllowed', method);
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json;odata.metadata=minimal' });
    res.end(JSON.stringify(body));
  }

  private noContent(res: http.ServerResponse): void {
    res.writeHead(204);
    res.end();
  }

  private notFound(res: http.ServerResponse, what: string): void {
    this.error(
      res,
      404,
      'Request_ResourceNotFound',
      `Resource '${what}' does not exist or one of its queried reference-property objects are not present.`,
    );
  }

  private error(
    res: http.ServerResponse,
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(
      JSON.stringify({ error: { code, message, innerError: { 'request-id': randomUUID() } } }),
    );
  }
}
