import { execFile } from 'node:child_process';
import { GUID } from '../../../functions/lib/guid';
import { ensureError, HookError } from './errors';

/** The values azd passes to hooks as environment variables (its environment plus `azd env set`). */
export type AzdValues = Readonly<Record<string, string | undefined>>;

/** Where hooks store values for later steps (Bicep parameters, other hooks): `azd env set`. */
export interface AzdEnvironment {
  set(key: string, value: string): Promise<void>;
}

/**
 * Reads the named values and fails fast, naming every missing one, when any is absent or empty.
 */
export function requireValues<const K extends string>(
  values: AzdValues,
  hook: string,
  names: readonly K[],
  hint = 'Run it through azd (`azd up`, `azd provision`, `azd down`), which passes them to hooks; ' +
    'values written by the Bicep outputs or earlier hooks appear after those steps have run ' +
    '(`azd env get-values` shows them).',
): Record<K, string> {
  const missing = names.filter((name) => (values[name] ?? '').trim() === '');
  if (missing.length > 0) {
    throw new HookError(
      'missing_setting',
      `${hook} needs ${missing.join(', ')} in the azd environment, and ${
        missing.length === 1 ? 'it is' : 'they are'
      } not set. ${hint}`,
    );
  }
  return Object.fromEntries(names.map((name) => [name, (values[name] ?? '').trim()])) as Record<
    K,
    string
  >;
}

/** An optional value, trimmed; undefined when absent or empty. */
export function optionalValue(values: AzdValues, name: string): string | undefined {
  const value = (values[name] ?? '').trim();
  return value === '' ? undefined : value;
}

/** Checks that a value is a GUID, naming the setting when it is not. */
export function requireGuid(name: string, value: string): string {
  if (!GUID.test(value)) {
    throw new HookError('invalid_setting', `${name} must be a GUID.`);
  }
  return value.toLowerCase();
}

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** Stores values with the azd CLI (`azd env set KEY VALUE`), without a shell. */
export function azdCliEnvironment(command = 'azd'): AzdEnvironment {
  return {
    set(key, value) {
      return new Promise((resolve, reject) => {
        execFile(
          command,
          ['env', 'set', key, value],
          { timeout: 60_000 },
          (error, _stdout, stderr) => {
            if (error) {
              const detail = String(stderr).trim().split('\n')[0] ?? '';
              reject(
                new HookError(
                  'azd_failed',
                  `\`azd env set ${key}\` failed${detail ? `: ${detail}` : `: ${ensureError(error).message}`}`,
                  { cause: error },
                ),
              );
              return;
            }
            resolve();
          },
        );
      });
    },
  };
}

/**
 * The current azd environment's values (`azd env get-values --output json`), for scripts run by
 * hand; empty when azd is not installed or no environment is selected.
 */
export function readAzdValues(command = 'azd'): Promise<Record<string, string>> {
  return new Promise((resolve) => {
    execFile(
      command,
      ['env', 'get-values', '--output', 'json'],
      { timeout: 60_000 },
      (error, stdout) => {
        if (error) {
          resolve({});
          return;
        }
        try {
          const parsed = JSON.parse(String(stdout)) as unknown;
          const values: Record<string, string> = {};
          if (typeof parsed === 'object' && parsed !== null) {
            for (const [key, value] of Object.entries(parsed)) {
              if (typeof value === 'string') {
                values[key] = value;
              }
            }
          }
          resolve(values);
        } catch {
          resolve({});
        }
      },
    );
  });
}
