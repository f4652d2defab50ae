import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import { sendError } from './fake-graph-objects';

/**
 * An application calling the fake Graph as itself (app-only), as a pipeline's service principal
 * does after `azd auth login --federated-credential-provider github`: its token carries `roles`
 * (the Graph application permissions granted to it) and `idtyp: app`, no `scp`.
 *
 * What each call needs, from the Graph API reference ("Permissions", Application row):
 * - upsert application (`PATCH /applications(uniqueName=…)`) and servicePrincipal: least
 *   privileged Application.ReadWrite.OwnedBy, higher Application.ReadWrite.All;
 *   Application.ReadWrite.OwnedBy "cannot update any apps that it is not an owner of", and the
 *   caller becomes the owner of what it creates (permissions reference);
 * - get application / servicePrincipal, list appRoleAssignedTo: Application.Read.All (or
 *   Application.ReadWrite.All, Directory.Read.All); with only Application.ReadWrite.OwnedBy, its
 *   own objects;
 * - grant an appRoleAssignment (`POST …/appRoleAssignedTo`): AppRoleAssignment.ReadWrite.All and
 *   Application.Read.All;
 * - permanently delete a deleted application or service principal: Application.ReadWrite.OwnedBy.
 * Two details are this fake's reading, not documented: with Application.ReadWrite.OwnedBy alone,
 * reading an object it does not own is refused (403) rather than hidden (404); and creating a
 * service principal with it requires owning the application.
 */
export interface AppOnlyCaller {
  /** The caller's service principal object id (`oid`). */
  readonly servicePrincipalId: string;
  readonly appId: string;
  /** Granted Graph application permissions (`roles`). */
  readonly roles: readonly string[];
}

export function appOnlyCaller(roles: readonly string[]): AppOnlyCaller {
  return { servicePrincipalId: randomUUID(), appId: randomUUID(), roles };
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A token shaped like Graph's app-only tokens (the fake compares it whole; nobody verifies it). */
export function appOnlyToken(caller: AppOnlyCaller, tenantId = randomUUID()): string {
  const claims = {
    aud: 'https://graph.microsoft.com',
    iss: `https://sts.windows.net/${tenantId}/`,
    tid: tenantId,
    idtyp: 'app',
    oid: caller.servicePrincipalId,
    appid: caller.appId,
    roles: caller.roles,
  };
  return `${base64url({ typ: 'JWT', alg: 'RS256' })}.${base64url(claims)}.${randomBytes(32).toString('base64url')}`;
}

const READ_ALL = [
  'Application.Read.All',
  'Application.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
const OWNED_BY = 'Application.ReadWrite.OwnedBy';
const WRITE_ALL = 'Application.ReadWrite.All';
const ASSIGN = 'AppRoleAssignment.ReadWrite.All';

/** What the authorisation needs to know of one request. */
export interface AppOnlyRequest {
  readonly method: string;
  /** `object`: an application, service principal or deleted item; `assignments`: appRoleAssignedTo. */
  readonly target: 'object' | 'assignments' | 'other';
  /** The object the request names, if it exists; undefined for a create or a missing object. */
  readonly existingId: string | undefined;
  /** For creating a service principal: the id of its application. */
  readonly applicationId?: string;
  readonly owners: ReadonlyMap<string, ReadonlySet<string>>;
}

/** True when Graph lets this app-only caller make the request. */
export function appOnlyAllows(caller: AppOnlyCaller, request: AppOnlyRequest): boolean {
  const has = (...roles: string[]) => roles.some((role) => caller.roles.includes(role));
  const owns = (id: string | undefined) =>
    id !== undefined && (request.owners.get(id)?.has(caller.servicePrincipalId) ?? false);
  const read = request.method === 'GET';
  if (request.target === 'assignments') {
    return read ? has(...READ_ALL, ASSIGN) : has(ASSIGN) && has(...READ_ALL);
  }
  if (request.target !== 'object') return false;
  if (read) {
    return (
      has(...READ_ALL) ||
      (has(OWNED_BY) && (request.existingId === undefined || owns(request.existingId)))
    );
  }
  if (has(WRITE_ALL)) return true;
  if (!has(OWNED_BY)) return false;
  if (request.existingId !== undefined) return owns(request.existingId);
  return request.applicationId === undefined || owns(request.applicationId);
}

/** The parts of the fake Graph the authorisation reads. */
export interface FakeDirectory {
  readonly apps: ReadonlyMap<string, { id: string; appId: string; uniqueName: string | null }>;
  readonly sps: ReadonlyMap<string, { id: string; appId: string }>;
  readonly deleted: ReadonlyMap<string, unknown>;
  readonly owners: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Which object a request of the hooks names, for {@link appOnlyAllows}. */
export function appOnlyRequest(graph: FakeDirectory, method: string, path: string): AppOnlyRequest {
  const base = { method, owners: graph.owners };
  const apps = [...graph.apps.values()];
  const sps = [...graph.sps.values()];
  let m: RegExpMatchArray | null;
  if ((m = path.match(/^\/v1\.0\/applications\(uniqueName='([^']*)'\)$/))) {
    return { ...base, target: 'object', existingId: apps.find((a) => a.uniqueName === m![1])?.id };
  }
  if ((m = path.match(/^\/v1\.0\/servicePrincipals\(appId='([^']*)'\)$/))) {
    const appId = m[1];
    return {
      ...base,
      target: 'object',
      existingId: sps.find((sp) => sp.appId === appId)?.id,
      applicationId: apps.find((a) => a.appId === appId)?.id,
    };
  }
  if (/^\/v1\.0\/servicePrincipals\/[0-9a-f-]+\/appRoleAssignedTo$/.test(path)) {
    return { ...base, target: 'assignments', existingId: undefined };
  }
  if (
    (m = path.match(
      /^\/v1\.0\/(?:applications|servicePrincipals|directory\/deletedItems)\/([0-9a-f-]+)$/,
    ))
  ) {
    const id = m[1]!;
    const exists = graph.apps.has(id) || graph.sps.has(id) || graph.deleted.has(id);
    return { ...base, target: 'object', existingId: exists ? id : undefined };
  }
  return { ...base, target: 'other', existingId: undefined };
}

/** Answers 403 as Graph does, and returns true, when the app-only caller may not do this. */
export function refusedToAppOnly(
  graph: FakeDirectory & { readonly appOnly?: AppOnlyCaller },
  method: string,
  path: string,
  res: http.ServerResponse,
): boolean {
  if (!graph.appOnly || appOnlyAllows(graph.appOnly, appOnlyRequest(graph, method, path))) {
    return false;
  }
  sendError(
    res,
    403,
    'Authorization_RequestDenied',
    'Insufficient privileges to complete the operation.',
  );
  return true;
}
