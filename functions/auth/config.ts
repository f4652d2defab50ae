import { GUID } from '../lib/guid';
import { ConfigError } from './errors';

/** The validated `AUTH_*` configuration. Names match the Function App's app settings in infra/. */
export interface AuthConfig {
  /** `AUTH_TENANT_ID`, lower case. */
  readonly tenantId: string;
  /** `AUTH_AUDIENCES`: accepted `aud` values. */
  readonly audiences: readonly string[];
  /** `AUTH_ALLOWED_CALLER_OBJECT_IDS`, lower case: accepted `oid` values. */
  readonly allowedCallerObjectIds: ReadonlySet<string>;
  /** `AUTH_ALLOWED_CLIENT_IDS`, lower case: accepted `azp`/`appid` values; undefined means not checked. */
  readonly allowedClientIds: ReadonlySet<string> | undefined;
  /** `AUTH_REQUIRED_ROLES`: the token must carry at least one; empty means not checked. */
  readonly requiredRoles: readonly string[];
  /** `AUTH_ISSUERS`: accepted `iss` values. */
  readonly issuers: readonly string[];
  /** `AUTH_JWKS_URI`: where the signing keys are published. */
  readonly jwksUri: string;
  /** `AUTH_CLOCK_SKEW_SECONDS`: tolerance for `exp` and `nbf`. */
  readonly clockSkewSeconds: number;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** Microsoft.IdentityModel's default tolerance, and the most this app accepts. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
export const DEFAULT_CLOCK_SKEW_SECONDS = 300;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Reads and validates the `AUTH_*` settings. Throws a `ConfigError` naming the first setting at
 * fault: a missing or malformed setting never means "allow".
 */
export function loadAuthConfig(env: Environment): AuthConfig {
  const tenantId = guid('AUTH_TENANT_ID', required(env, 'AUTH_TENANT_ID'));
  const audiences = list('AUTH_AUDIENCES', required(env, 'AUTH_AUDIENCES'));
  const allowedCallerObjectIds = new Set(
    list('AUTH_ALLOWED_CALLER_OBJECT_IDS', required(env, 'AUTH_ALLOWED_CALLER_OBJECT_IDS')).map(
      (value) => guid('AUTH_ALLOWED_CALLER_OBJECT_IDS', value),
    ),
  );
  const clientIds = optional(env, 'AUTH_ALLOWED_CLIENT_IDS');
  const allowedClientIds =
    clientIds === undefined
      ? undefined
      : new Set(
          list('AUTH_ALLOWED_CLIENT_IDS', clientIds).map((value) =>
            guid('AUTH_ALLOWED_CLIENT_IDS', value),
          ),
        );
  const roles = optional(env, 'AUTH_REQUIRED_ROLES');
  const requiredRoles = roles === undefined ? [] : list('AUTH_REQUIRED_ROLES', roles);

  const issuersSetting = optional(env, 'AUTH_ISSUERS');
  const issuers =
    issuersSetting === undefined
      ? [
          `https://sts.windows.net/${tenantId}/`,
          `https://login.microsoftonline.com/${tenantId}/v2.0`,
        ]
      : list('AUTH_ISSUERS', issuersSetting).map((value) => url('AUTH_ISSUERS', value));

  const jwksSetting = optional(env, 'AUTH_JWKS_URI');
  const jwksUri =
    jwksSetting === undefined
      ? `https://login.microsoftonline.com/${tenantId}/discovery/v2.0/keys`
      : url('AUTH_JWKS_URI', jwksSetting);

  const skewSetting = optional(env, 'AUTH_CLOCK_SKEW_SECONDS');
  const clockSkewSeconds =
    skewSetting === undefined ? DEFAULT_CLOCK_SKEW_SECONDS : clockSkew(skewSetting);

  return {
    tenantId,
    audiences,
    allowedCallerObjectIds,
    allowedClientIds,
    requiredRoles,
    issuers,
    jwksUri,
    clockSkewSeconds,
  };
}

function required(env: Environment, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, 'is missing or empty.');
  return value;
}

/**
 * An optional setting: unset means its default (or "not checked"). Set but blank is an error, so
 * that an app setting emptied by mistake can never switch a check off silently.
 */
function optional(env: Environment, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (!value) {
    throw new ConfigError(name, 'is set but empty: remove it to use the default, or give a value.');
  }
  return value;
}

function list(name: string, value: string): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) {
    throw new ConfigError(name, 'has an empty entry: use a comma-separated list without blanks.');
  }
  if (items.some((item) => /\s/.test(item))) {
    throw new ConfigError(name, 'has an entry with white space in it.');
  }
  return [...new Set(items)];
}

function guid(name: string, value: string): string {
  if (!GUID.test(value)) throw new ConfigError(name, 'must hold GUIDs only.');
  return value.toLowerCase();
}

function url(name: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, 'must hold absolute URLs.');
  }
  const loopbackHttp = parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname);
  if (parsed.protocol !== 'https:' && !loopbackHttp) {
    throw new ConfigError(
      name,
      'must use https (plain http is accepted for loopback addresses only).',
    );
  }
  return value;
}

function clockSkew(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > MAX_CLOCK_SKEW_SECONDS) {
    throw new ConfigError(
      'AUTH_CLOCK_SKEW_SECONDS',
      `must be a whole number of seconds from 0 to ${MAX_CLOCK_SKEW_SECONDS}.`,
    );
  }
  return Number(value);
}
