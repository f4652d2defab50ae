import { parse } from 'yaml';
import { OpenApiLoadError } from './errors';

/** One operation the API declares: what the gateway answers, everything else is 404. */
export interface Operation {
  readonly operationId: string;
  /** Upper case, for example `GET`. */
  readonly method: string;
  /** The OpenAPI path template, for example `/hello` or `/items/{id}`. */
  readonly pathTemplate: string;
  /** Literal segments, and null for each `{parameter}`. */
  readonly segments: readonly (string | null)[];
}

export interface ApiDefinition {
  readonly title: string;
  readonly operations: readonly Operation[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A path template's segments: a literal, or a `{parameter}` matching one non-empty segment. */
function templateSegments(template: string): (string | null)[] {
  return template
    .slice(1)
    .split('/')
    .map((part) => (/^\{[^{}/]+\}$/.test(part) ? null : part));
}

/**
 * The decoded segments of a path, or undefined when a segment is not valid percent-encoding or
 * is a dot-segment (`.`, `..`, also encoded as `%2e`): those match no operation, so the gateway
 * never resolves `/hello/%2e%2e/whoami` to another operation, and agrees with the function host,
 * which does not either.
 */
export function pathSegments(path: string): string[] | undefined {
  if (!path.startsWith('/')) return undefined;
  const segments: string[] = [];
  for (const raw of path.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === '.' || segment === '..') return undefined;
    segments.push(segment);
  }
  return segments;
}

/**
 * Reads the operations from an OpenAPI 3.0 document (YAML or JSON). Not the subscription key
 * names: API Management ignores `securitySchemes` on import
 * (api-management-api-import-restrictions.md); they are the API's subscriptionKeyParameterNames.
 */
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
        segments: templateSegments(pathTemplate),
      });
    }
  }
  if (operations.length === 0) throw new OpenApiLoadError(file, 'declares no operations.');

  return {
    title: typeof info.title === 'string' ? info.title : 'API',
    operations,
  };
}

/** The operation for `method` and `path` (relative to the API's path), if the API declares one. */
export function matchOperation(
  api: ApiDefinition,
  method: string,
  path: string,
): Operation | undefined {
  const segments = pathSegments(path);
  if (!segments) return undefined;
  return api.operations.find(
    (operation) =>
      operation.method === method &&
      operation.segments.length === segments.length &&
      operation.segments.every((expected, i) =>
        expected === null ? segments[i] !== '' : segments[i] === expected,
      ),
  );
}
