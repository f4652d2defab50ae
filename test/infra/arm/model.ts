/** The values, shapes and errors the offline ARM simulator works with (see ../arm.ts). */
import crypto from 'node:crypto';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface SimulationContext {
  readonly subscriptionId: string;
  readonly tenantId: string;
  /** Region of the subscription-scope deployment (azd passes AZURE_LOCATION). */
  readonly deploymentLocation: string;
}

export interface SimulatedResource {
  readonly type: string;
  readonly name: string;
  readonly id: string;
  /** Symbolic name (language version 2.0) or array index in the template that declared it. */
  readonly key: string;
  /** Names of the module deployments that contain it, outermost first. */
  readonly modulePath: readonly string[];
  readonly scope: string | undefined;
  readonly location: Json | undefined;
  readonly kind: Json | undefined;
  readonly tags: JsonObject;
  readonly sku: Json | undefined;
  readonly identity: Json | undefined;
  readonly properties: JsonObject;
  readonly dependsOn: readonly string[];
}

export interface SimulatedDeployment {
  readonly resources: readonly SimulatedResource[];
  readonly outputs: Readonly<Record<string, Json>>;
  /** The fake runtime values handed out, by resource id: `principalId`, `clientId`, ... */
  readonly runtime: (resourceId: string) => JsonObject;
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Deterministic GUID from its inputs (a stand-in for ARM's `guid()`). */
export function fakeGuid(...parts: readonly string[]): string {
  const hex = crypto.createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function fakeUniqueString(parts: readonly string[]): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = crypto.createHash('sha256').update(parts.join('\u0000')).digest();
  let out = '';
  for (let i = 0; i < 13; i += 1) out += alphabet[(bytes[i] ?? 0) % 32];
  return out;
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asString(value: Json, what: string): string {
  if (typeof value !== 'string')
    throw new TemplateError(`${what} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

export function deepMerge(left: JsonObject, right: JsonObject): JsonObject {
  const out: JsonObject = { ...left };
  for (const [key, value] of Object.entries(right)) {
    const existing = out[key];
    out[key] = isObject(existing) && isObject(value) ? deepMerge(existing, value) : value;
  }
  return out;
}

/** What a template expression sees: its template's parameters, variables and functions, and where it is deployed. */
export interface Scope {
  readonly parameters: Readonly<Record<string, Json>>;
  readonly variables: JsonObject;
  readonly functions: Readonly<
    Record<string, { parameters: { name: string }[]; output: { value: Json } }>
  >;
  readonly resourceGroup: string | undefined;
  readonly location: string;
  readonly modulePath: readonly string[];
  /** Symbolic name or `type/name` -> evaluated resource (filled lazily). */
  readonly reference: (key: string, full: boolean) => Json;
  readonly referenceById: (resourceId: string, full: boolean) => Json;
}
