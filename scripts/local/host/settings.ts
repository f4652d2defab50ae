import fs from 'node:fs';
import path from 'node:path';

/** A project file the built-in host cannot use; the message names the file and what is wrong. */
export class HostConfigurationError extends Error {
  override readonly name = 'HostConfigurationError';
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HostConfigurationError(`${file} cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new HostConfigurationError(`${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Fills `env` with the `Values` of `<projectRoot>/local.settings.json`, the way Core Tools does:
 * a variable that is already set (even to an empty string) wins. Returns the names taken from the
 * file. A missing file is fine; a malformed one is an error that names it.
 */
export function applyLocalSettings(projectRoot: string, env: NodeJS.ProcessEnv): string[] {
  const file = path.join(projectRoot, 'local.settings.json');
  const settings = readJson(file);
  if (settings === undefined) return [];
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new HostConfigurationError(`${file} must hold a JSON object with "Values".`);
  }
  const { IsEncrypted: encrypted, Values: values } = settings as Record<string, unknown>;
  if (encrypted === true) {
    throw new HostConfigurationError(
      `${file} is encrypted; decrypt it (func settings decrypt) to use the built-in host.`,
    );
  }
  if (values === undefined) return [];
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new HostConfigurationError(`${file}: "Values" must be an object of strings.`);
  }
  const applied: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'string') {
      throw new HostConfigurationError(`${file}: Values.${name} must be a string.`);
    }
    if (env[name] === undefined) {
      env[name] = value;
      applied.push(name);
    }
  }
  return applied;
}

/** `extensions.http.routePrefix` of host.json; "api" when host.json or the setting is absent. */
export function readRoutePrefix(projectRoot: string): string {
  const file = path.join(projectRoot, 'host.json');
  const host = readJson(file) as { extensions?: { http?: { routePrefix?: unknown } } } | undefined;
  const prefix = host?.extensions?.http?.routePrefix;
  if (prefix === undefined) return 'api';
  if (typeof prefix !== 'string') {
    throw new HostConfigurationError(`${file}: extensions.http.routePrefix must be a string.`);
  }
  return prefix.replace(/^\/+|\/+$/g, '');
}
