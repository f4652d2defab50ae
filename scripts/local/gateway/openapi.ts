import { parse } from 'yaml';
import { OpenApiLoadError } from './errors';

/** One operation the API declares: what the gateway answers, everything else is 404. */
export interface Operation {
  readonly operationId: string;
  /** Upper case, for example `GET`. */
  readonly method: string;
  /** The OpenAPI path template, for example `/hello` or `/items/{id}`. */
  readonly pathTemplate: string;
  readonly pattern: RegExp;
}

/** Where API Management looks for the subscription key (from the API's apiKey security schemes). */
export interface SubscriptionKeyNames {
  readonly header: string;
  readonly query: string;
}

export interface ApiDefinition {
  readonly title: string;
  readonly operations: readonly Operation[];
  readonly subscriptionKey: SubscriptionKeyNames;
}

/** API Management's defaults when an API does not name its own. */
export const DEFAULT_SUBSCRIPTION_KEY_NAMES: SubscriptionKeyNames = {
  header: 'Ocp-Apim-Subscription-Key',
  query: 'subscription-key',
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function templatePattern(template: string): RegExp {
  const escaped = template
    .split(/(\{[^{}/]+\})/)
    .map((part) =>
      /^\{[^{}/]+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${escaped}$`);
}

/** Reads the operations and subscription key names from an OpenAPI 3.0 document (YAML or JSON). */
export function parseOpenApi(text: string, file: string): ApiDefinition {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error: unknown) {
    throw new OpenApiLoadError(file, 'not valid YAML.', { cause: error });
  }
  if (
    !isRecord(document) ||
    typeof document.openapi !== 'string' ||
    !/^3\.0\.\d+$/.test(document.openapi)
  ) {
    throw new OpenApiLoadError(file, 'not an OpenAPI 3.0.x document ("openapi: 3.0.x" missing).');
  }
  const info = isRecord(document.info) ? document.info : {};
  if (!isRecord(document.paths)) throw new OpenApiLoadError(file, 'no "paths".');

  const operations: Operation[] = [];
  const ids = new Set<string>();
  for (const [pathTemplate, item] of Object.entries(document.paths)) {
    if (!pathTemplate.startsWith('/') || !isRecord(item)) {
      throw new OpenApiLoadError(
        file,
        `path "${pathTemplate}" must start with "/" and be an object.`,
      );
    }
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      if (
        !isRecord(operation) ||
        typeof operation.operationId !== 'string' ||
        operation.operationId === ''
      ) {
        throw new OpenApiLoadError(
          file,
          `${method.toUpperCase()} ${pathTemplate} has no operationId.`,
        );
      }
      if (ids.has(operation.operationId)) {
        throw new OpenApiLoadError(file, `operationId "${operation.operationId}" is used twice.`);
      }
      ids.add(operation.operationId);
      operations.push({
        operationId: operation.operationId,
        method: method.toUpperCase(),
        pathTemplate,
        pattern: templatePattern(pathTemplate),
      });
    }
  }
  if (operations.length === 0) throw new OpenApiLoadError(file, 'declares no operations.');

  return {
    title: typeof info.title === 'string' ? info.title : 'API',
    operations,
    subscriptionKey: subscriptionKeyNames(document, file),
  };
}

function subscriptionKeyNames(
  document: Record<string, unknown>,
  file: string,
): SubscriptionKeyNames {
  const components = isRecord(document.components) ? document.components : {};
  const schemes = isRecord(components.securitySchemes) ? components.securitySchemes : {};
  let header: string | undefined;
  let query: string | undefined;
  for (const scheme of Object.values(schemes)) {
    if (!isRecord(scheme) || scheme.type !== 'apiKey' || typeof scheme.name !== 'string') continue;
    const target = scheme.in === 'header' ? 'header' : scheme.in === 'query' ? 'query' : undefined;
    if (!target) continue;
    if ((target === 'header' ? header : query) !== undefined) {
      throw new OpenApiLoadError(file, `more than one apiKey security scheme in the ${target}.`);
    }
    if (target === 'header') header = scheme.name;
    else query = scheme.name;
  }
  return {
    header: header ?? DEFAULT_SUBSCRIPTION_KEY_NAMES.header,
    query: query ?? DEFAULT_SUBSCRIPTION_KEY_NAMES.query,
  };
}

/** The operation for `method` and `path` (relative to the API's path), if the API declares one. */
export function matchOperation(
  api: ApiDefinition,
  method: string,
  path: string,
): Operation | undefined {
  return api.operations.find(
    (operation) => operation.method === method && operation.pattern.test(path),
  );
}
