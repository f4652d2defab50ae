/**
 * How azd turns `infra/main.parameters.json` and the azd environment into deployment parameters,
 * before any hook runs (Azure/azure-dev, cli/azd/pkg/infra/provisioning/bicep/bicep_provider.go:
 * `loadParameters`, `evalParamEnvSubst`, `ensureParameters`):
 *
 * - each parameter's value is run through envsubst (github.com/drone/envsubst): `${VAR}`, and
 *   `${VAR=default}` / `${VAR:=default}` / `${VAR-default}` / `${VAR:-default}`, which give the
 *   default when the variable's value is empty; a variable is looked up in the azd environment's
 *   `.env`, then in the process environment (`Environment.LookupEnv`);
 * - a string that comes out empty because a variable is unset is dropped ("Omit unset parameters"),
 *   and so is an object without `value`; a variable set to the empty string keeps ''.
 * - `ensureParameters` then keeps, for every template parameter, the file's value, else nothing
 *   when it has a `defaultValue` or is nullable, else a value saved in config by an earlier prompt;
 *   what is left is prompted for, and under `--no-prompt` the run stops naming all of them
 *   (`buildMissingInputsError`).
 *
 * Not modelled: `.bicepparam` files, Key Vault references, `secretOrRandomPassword`, `azd` metadata
 * of type `generate`, AZURE_PRINCIPAL_ID substitution, virtual environments.
 */
import fs from 'node:fs';
import path from 'node:path';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface ParametersFile {
  readonly parameters: Record<string, { value?: Json }>;
}

export type Lookup = (name: string) => string | undefined;

export function parametersFile(root = path.resolve(__dirname, '../../..')): ParametersFile {
  return JSON.parse(
    fs.readFileSync(path.join(root, 'infra', 'main.parameters.json'), 'utf8'),
  ) as ParametersFile;
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[=-])([^}]*))?\}/g;

/** drone/envsubst on one string: the result, and whether a variable it named is unset. */
export function envsubst(text: string, lookup: Lookup): { value: string; hasUnset: boolean } {
  let hasUnset = false;
  const value = text.replace(
    REFERENCE,
    (_match, name: string, operator: string | undefined, fallback: string | undefined) => {
      const found = lookup(name);
      if (found === undefined) hasUnset = true;
      const current = found ?? '';
      return operator !== undefined && current === '' ? (fallback ?? '') : current;
    },
  );
  return { value, hasUnset };
}

/** `loadParameters`: the parameters azd keeps from the file for this environment. */
export function resolveParameters(
  file: ParametersFile,
  env: Readonly<Record<string, string | undefined>>,
  processEnv: Readonly<Record<string, string | undefined>> = {},
): Record<string, Json> {
  const lookup: Lookup = (name) => (name in env ? env[name] : processEnv[name]);
  const resolved: Record<string, Json> = {};
  for (const [name, entry] of Object.entries(file.parameters)) {
    if (!('value' in entry) || entry.value === undefined) continue;
    let hasUnset = false;
    const substitute = (value: Json): Json => {
      if (typeof value === 'string') {
        const result = envsubst(value, lookup);
        hasUnset ||= result.hasUnset;
        return result.value;
      }
      if (Array.isArray(value)) return value.map(substitute);
      if (value !== null && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]));
      }
      return value;
    };
    const value = substitute(entry.value);
    if (value === '' && hasUnset) continue;
    resolved[name] = value;
  }
  return resolved;
}

interface TemplateParameter {
  readonly defaultValue?: unknown;
  readonly nullable?: boolean;
}

/** `ensureParameters`: the template parameters azd would prompt for (under --no-prompt: fail). */
export function missingParameters(
  template: Record<string, unknown>,
  resolved: Record<string, Json>,
  savedConfig: Readonly<Record<string, unknown>> = {},
): string[] {
  const declared = (template.parameters ?? {}) as Record<string, TemplateParameter>;
  return Object.keys(declared)
    .sort()
    .filter((name) => {
      const parameter = declared[name]!;
      if (name in resolved) return false;
      if ('defaultValue' in parameter) return false;
      if (parameter.nullable === true) return false;
      return !(`infra.parameters.${name}` in savedConfig);
    });
}

/** The error azd prints under `--no-prompt` when parameters are missing (its wording, shortened). */
export function missingParametersError(names: string[]): Error {
  return new Error(
    `missing required inputs: ${names.join(', ')} (azd --no-prompt cannot prompt for a ` +
      'parameter without a value in main.parameters.json and without a default)',
  );
}
