import fs from 'node:fs';
import path from 'node:path';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { FUNCTION_APP_BACKEND_ID } from './api';
import { ensureError } from './errors';
import { parseOpenApi, type ApiDefinition } from './openapi';
import type { PipelineScopes } from './pipeline';
import { GLOBAL_POLICY_XML, parsePolicy } from './policy';

/** What the gateway runs, read from `apim/` and checked once, before it listens. */

/** The files under `apim/` that the gateway runs, relative to it. */
export const APIM_FILES = {
  openApi: 'openapi.yaml',
  productPolicy: path.join('policies', 'product.xml'),
  apiPolicy: path.join('policies', 'api.xml'),
  localNamedValues: 'named-values.local.json',
} as const;

export interface GatewayDefinition {
  readonly api: ApiDefinition;
  /** Global (API Management's default), product, API. */
  readonly scopes: PipelineScopes;
}

function relative(file: string): string {
  const shown = path.relative(process.cwd(), file);
  return shown.startsWith('..') ? file : shown;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error: unknown) {
    throw new Error(`Cannot read ${file}: ${ensureError(error).message}`, { cause: error });
  }
}

/** Reads `named-values.local.json`: an object of string values, nothing else. */
export function readNamedValues(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(file));
  } catch (error: unknown) {
    throw new Error(`${relative(file)} is not valid JSON: ${ensureError(error).message}`, {
      cause: error,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${relative(file)} must be a JSON object of named values.`);
  }
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'string')
      throw new Error(`${relative(file)}: named value "${name}" must be a string.`);
    values[name] = value;
  }
  return values;
}

/**
 * Loads the OpenAPI document and the product and API policies from `apimDir`. Throws
 * (PolicyLoadError, OpenApiLoadError) on anything the gateway would not run faithfully.
 */
export function loadGatewayDefinition(
  apimDir: string,
  namedValues: Readonly<Record<string, string>>,
): GatewayDefinition {
  const options = { namedValues, backendIds: [FUNCTION_APP_BACKEND_ID] };
  const openApiFile = path.join(apimDir, APIM_FILES.openApi);
  const api = parseOpenApi(readText(openApiFile), relative(openApiFile));
  const load = (name: string, scope: 'product' | 'api') => {
    const file = path.join(apimDir, name);
    return parsePolicy(readText(file), relative(file), options, scope);
  };
  return {
    api,
    scopes: {
      global: parsePolicy(
        GLOBAL_POLICY_XML,
        'global policy (API Management default)',
        options,
        'global',
      ),
      product: load(APIM_FILES.productPolicy, 'product'),
      api: load(APIM_FILES.apiPolicy, 'api'),
    },
  };
}

/**
 * The credential from IDENTITY_ENDPOINT and IDENTITY_HEADER (for the user-assigned identity
 * `clientId`, when given); throws naming the one missing.
 */
export function managedIdentityCredentialFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  clientId?: string,
): TokenCredential {
  for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER']) {
    if (!env[name]?.trim()) {
      throw new TypeError(
        `${name} is not set: authentication-managed-identity needs the managed identity endpoint ` +
          '(IDENTITY_ENDPOINT) and its header value (IDENTITY_HEADER), as on App Service.',
      );
    }
  }
  const retryOptions = { maxRetries: 0 };
  // A client id asks for that user-assigned identity (`client_id` on the endpoint).
  return clientId === undefined
    ? new ManagedIdentityCredential({ retryOptions })
    : new ManagedIdentityCredential({ clientId, retryOptions });
}
