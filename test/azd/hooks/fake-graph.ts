import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { appOnlyToken, refusedToAppOnly, type AppOnlyCaller } from './fake-graph-app-only';
import { appRoleAssignedTo, deletedItem } from './fake-graph-assignments';
import { directoryRequest, type FakeDirectory } from './fake-graph-directory';
import {
  clone,
  json,
  noContent,
  notFound,
  sendError,
  validateApplication,
  type Deleted,
  type Fault,
  type FakeApplication,
  type FakeAssignment,
  type FakeServicePrincipal,
  type RecordedRequest,
} from './fake-graph-objects';
import { FakeArmSubscriptions } from './fake-arm-subscriptions';

export type {
  FakeAppRole,
  FakeApplication,
  FakeAssignment,
  FakeServicePrincipal,
  Fault,
  RecordedRequest,
} from './fake-graph-objects';

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
 *
 * Tenants: Graph acts in the tenant its token was issued for (the `tid` claim). The fake accepts
 * its own `token`, of `tenantId`, and any token in `tokenTenants`, and records in `appTenants` in
 * which tenant each application was created. Beside it, `arm` answers Azure Resource Manager's
 * `GET /subscriptions/{id}` (the subscription's tenant), which the hooks ask first.
 */

export class FakeGraph implements FakeDirectory {
  readonly token: string;
  /** The tenant of `token`, and of the subscription `arm` serves unless told otherwise. */
  readonly tenantId = '3c1f5e0a-7b2d-4e6f-9a8b-1c2d3e4f5a6b';
  /** Owners (service principal ids) of each object an app-only caller created. */
  readonly owners = new Map<string, Set<string>>();
  /** Other accepted tokens and their tenant (a token of another tenant acts in that tenant). */
  readonly tokenTenants = new Map<string, string>();
  /** appId -> the tenant the application was created in. */
  readonly appTenants = new Map<string, string>();
  readonly arm = new FakeArmSubscriptions((token) => this.tokenTenants.has(token));
  readonly apps = new Map<string, FakeApplication>();
  readonly sps = new Map<string, FakeServicePrincipal>();
  readonly assignments: FakeAssignment[] = [];
  readonly deleted = new Map<string, Deleted>();
  /** The signed-in user's active directory roles: by default Cloud Application Administrator. */
  directoryRoles: string[] = ['158c047a-c907-4556-b7ef-446551a6b5f7'];
  allowedToCreateApps: boolean | undefined = true;
  /** Principals (for example API Management's managed identity) that exist in the tenant. */
  readonly principals = new Set<string>();
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  pageSize = 100;
  /** Where `@odata.nextLink` points; default this server. */
  nextLinkBase: string | undefined;
  /**
   * Deleting an application leaves its service principal behind. Not Graph's behaviour (it
   * deletes both); it lets a test reach the hook's fallback for a service principal that stays.
   */
  applicationDeleteKeepsServicePrincipal = false;
  /** Listing of appRoleAssignedTo returns nothing this many times (replication lag). */
  hideAssignmentsFromList = 0;
  url = '';
  private readonly server = http.createServer((req, res) => {
    this.handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(error instanceof Error ? error.message : 'fake graph failure');
    });
  });

  /** `appOnly`: an application calling as itself, limited to its permissions; else a user. */
  constructor(readonly appOnly?: AppOnlyCaller) {
    this.token = appOnly
      ? appOnlyToken(appOnly, this.tenantId)
      : `fake-graph-token-${randomUUID()}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.tokenTenants.set(this.token, this.tenantId);
    await this.arm.start(this.tenantId);
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.arm.close();
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

  /** Graph makes an app-only caller the owner of what it creates. */
  private createdByCaller(id: string): void {
    if (this.appOnly) this.owners.set(id, new Set([this.appOnly.servicePrincipalId]));
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
      return sendError(res, 400, 'BadRequest', 'Malformed JSON.');
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

    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const tenant = bearer === undefined ? undefined : this.tokenTenants.get(bearer);
    if (tenant === undefined) {
      return sendError(res, 401, 'InvalidAuthenticationToken', 'Access token is empty or invalid.');
    }
    const fault = this.faults.find(
      (f) =>
        (f.times ?? 0) > 0 &&
        (f.method === undefined || f.method === method) &&
        path.includes(f.pathIncludes),
    );
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      return sendError(
        res,
        fault.status,
        fault.code ?? 'Fault',
        fault.message ?? 'Injected fault.',
        fault.headers,
      );
    }
    const createIfMissing = req.headers.prefer === 'create-if-missing';
    if (directoryRequest(this, res, method, path)) return;
    if (refusedToAppOnly(this, method, path, res)) return;

    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/v1\.0\/applications\(uniqueName='([^']*)'\)$/))) {
      return this.applicationByUniqueName(res, method, m[1]!, body, createIfMissing, tenant);
    }
    if ((m = path.match(/^\/v1\.0\/applications\/([0-9a-f-]+)$/))) {
      return this.applicationById(res, method, m[1]!, body);
    }
    if ((m = path.match(/^\/v1\.0\/servicePrincipals\(appId='([^']*)'\)$/))) {
      return this.servicePrincipalByAppId(res, method, m[1]!, body, createIfMissing);
    }
    if ((m = path.match(/^\/v1\.0\/servicePrincipals\/([0-9a-f-]+)\/appRoleAssignedTo$/))) {
      return appRoleAssignedTo(this, res, method, m[1]!, body, url);
    }
    if ((m = path.match(/^\/v1\.0\/servicePrincipals\/([0-9a-f-]+)$/))) {
      return this.servicePrincipalById(res, method, m[1]!, body);
    }
    if ((m = path.match(/^\/v1\.0\/directory\/deletedItems\/([0-9a-f-]+)$/))) {
      return deletedItem(this, res, method, m[1]!);
    }
    return sendError(
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
    tenant: string,
  ): void {
    const app = this.appByUniqueName(uniqueName);
    if (method === 'GET') {
      return app ? json(res, 200, app) : notFound(res, uniqueName);
    }
    if (method !== 'PATCH') {
      return sendError(res, 405, 'MethodNotAllowed', method);
    }
    if (app) {
      return this.patchApplication(res, app, body);
    }
    if (!createIfMissing) {
      return notFound(res, uniqueName);
    }
    const held = [...this.deleted.values()].some(
      (d) => d.kind === 'application' && d.object.uniqueName === uniqueName,
    );
    if (held) {
      return sendError(
        res,
        400,
        'Request_BadRequest',
        'Another object with the same value for property uniqueName already exists.',
      );
    }
    const fields = (body ?? {}) as Partial<FakeApplication>;
    if (typeof fields.displayName !== 'string' || fields.displayName === '') {
      return sendError(res, 400, 'Request_BadRequest', 'displayName is required.');
    }
    const problem = validateApplication(fields);
    if (problem) {
      return sendError(res, 400, 'Request_BadRequest', problem);
    }
    const created = this.addApplication({
      ...clone(fields),
      displayName: fields.displayName,
      uniqueName,
    });
    this.appTenants.set(created.appId, tenant);
    this.createdByCaller(created.id);
    return json(res, 201, created);
  }

  private applicationById(
    res: http.ServerResponse,
    method: string,
    id: string,
    body: unknown,
  ): void {
    const app = this.apps.get(id);
    if (!app) {
      return notFound(res, id);
    }
    if (method === 'PATCH') {
      return this.patchApplication(res, app, body);
    }
    if (method === 'DELETE') {
      this.apps.delete(id);
      this.deleted.set(id, { kind: 'application', object: app });
      const sp = this.spByAppId(app.appId);
      if (sp && !this.applicationDeleteKeepsServicePrincipal) {
        this.deleteServicePrincipal(sp);
      }
      return noContent(res);
    }
    return sendError(res, 405, 'MethodNotAllowed', method);
  }

  private patchApplication(res: http.ServerResponse, app: FakeApplication, body: unknown): void {
    const fields = (body ?? {}) as Partial<FakeApplication>;
    for (const key of ['id', 'appId'] as const) {
      if (key in fields) {
        return sendError(res, 400, 'Request_BadRequest', `${key} is read-only.`);
      }
    }
    const problem = validateApplication(fields, app);
    if (problem) {
      return sendError(res, 400, 'Request_BadRequest', problem);
    }
    Object.assign(app, clone(fields));
    const sp = this.spByAppId(app.appId);
    if (sp) {
      sp.appRoles = clone(app.appRoles);
    }
    return noContent(res);
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
      return sp ? json(res, 200, sp) : notFound(res, appId);
    }
    if (method !== 'PATCH') {
      return sendError(res, 405, 'MethodNotAllowed', method);
    }
    const fields = (body ?? {}) as Partial<FakeServicePrincipal>;
    if (sp) {
      Object.assign(sp, clone(fields));
      return noContent(res);
    }
    if (!createIfMissing) {
      return notFound(res, appId);
    }
    const app = [...this.apps.values()].find((a) => a.appId === appId);
    if (!app) {
      return sendError(
        res,
        400,
        'Request_BadRequest',
        `The appId '${appId}' of the service principal does not reference a valid application object.`,
      );
    }
    const created = this.addServicePrincipal(app, clone(fields));
    this.createdByCaller(created.id);
    return json(res, 201, created);
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
      return notFound(res, id);
    }
    if (method === 'PATCH') {
      Object.assign(sp, clone(body ?? {}));
      return noContent(res);
    }
    if (method === 'DELETE') {
      this.deleteServicePrincipal(sp);
      return noContent(res);
    }
    return sendError(res, 405, 'MethodNotAllowed', method);
  }
}
