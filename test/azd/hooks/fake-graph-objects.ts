import { randomUUID } from 'node:crypto';
import type http from 'node:http';

/** The objects of the fake Microsoft Graph (fake-graph.ts), its checks and its responses. */

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

export type Deleted =
  | { kind: 'application'; object: FakeApplication }
  | { kind: 'servicePrincipal'; object: FakeServicePrincipal };

export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function validateApplication(
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

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json;odata.metadata=minimal' });
  res.end(JSON.stringify(body));
}

export function noContent(res: http.ServerResponse): void {
  res.writeHead(204);
  res.end();
}

export function notFound(res: http.ServerResponse, what: string): void {
  sendError(
    res,
    404,
    'Request_ResourceNotFound',
    `Resource '${what}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

export function sendError(
  res: http.ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { code, message, innerError: { 'request-id': randomUUID() } } }));
}
