import { createHash } from 'node:crypto';
import { HookError } from '../shared/errors';
import { requireGuid } from '../shared/azd-env';

/** The application app role that API Management's identity receives (same value as the app checks). */
export const APP_ROLE_VALUE = 'Api.Invoke';

const PROJECT = 'functions-behind-apim';

/** Namespace for the name-based (version 5) UUIDs this project derives; fixed forever. */
const ROLE_ID_NAMESPACE = '6f0d2c9a-3b1e-4f57-9a8c-2d4e6b1f0a73';

const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The app registration's `uniqueName`, its key in Microsoft Graph:
 * `functions-behind-apim-{AZURE_ENV_NAME}-{first 8 hex digits of SHA-256(subscription id)}`.
 * One per azd environment and subscription, stable across runs, and recognisable in the portal;
 * the subscription id itself is not written into the directory.
 */
export function applicationUniqueName(envName: string, subscriptionId: string): string {
  if (!ENV_NAME.test(envName)) {
    throw new HookError(
      'invalid_setting',
      'AZURE_ENV_NAME must be 1-64 letters, digits, dots, hyphens or underscores, starting with a letter or digit.',
    );
  }
  const subscription = requireGuid('AZURE_SUBSCRIPTION_ID', subscriptionId);
  const digest = createHash('sha256').update(subscription).digest('hex').slice(0, 8);
  return `${PROJECT}-${envName}-${digest}`;
}

export function applicationDisplayName(envName: string): string {
  return `Functions behind APIM API (${envName})`;
}

export function applicationNotes(envName: string): string {
  return (
    `Created by the azd preprovision hook of ${PROJECT} for the azd environment "${envName}". ` +
    'Its predown hook (`azd down`) deletes it.'
  );
}

/** A name-based UUID (RFC 9562 version 5, SHA-1). */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(requireGuid('namespace', namespace).replace(/-/g, ''), 'hex');
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The app role's id for a registration created by this project: derived from the uniqueName, so
 * a rerun (or a new registration with the same uniqueName) never picks a different id.
 */
export function appRoleId(uniqueName: string): string {
  return uuidV5(ROLE_ID_NAMESPACE, `${uniqueName}/${APP_ROLE_VALUE}`);
}
