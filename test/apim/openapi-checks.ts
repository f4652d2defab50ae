import { parse as parseYaml } from 'yaml';
import { PROBLEM_MEMBERS } from './policy-checks';

/**
 * Review checks for apim/openapi.yaml, as a function of the file text, so that the tests can run
 * them on the shipped file and on mutated copies (proving each check can fail).
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function deref(document: Json, value: unknown): unknown {
  if (isObject(value) && typeof value.$ref === 'string' && value.$ref.startsWith('#/')) {
    let target: unknown = document;
    for (const part of value.$ref.slice(2).split('/'))
      target = isObject(target) ? target[part] : undefined;
    return deref(document, target);
  }
  return value;
}

export const REQUIRED_RESPONSES = ['200', '401', '403', '503'];
const PROBLEM_RESPONSES = ['401', '403', '503'];

/** An operation of the document: its method (lower case, as OpenAPI writes it), path and operationId. */
export interface Operation {
  readonly method: string;
  readonly path: string;
  readonly operationId: string | undefined;
}

/** The HTTP methods OpenAPI 3.0 allows as keys of a path item (other keys are parameters, summary...). */
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation the document declares, in document order. */
export function openApiOperations(text: string): Operation[] {
  const document = parseYaml(text) as unknown;
  const paths = isObject(document) && isObject(document.paths) ? document.paths : {};
  const operations: Operation[] = [];
  for (const [route, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.includes(method) || !isObject(operation)) continue;
      const operationId =
        typeof operation.operationId === 'string' ? operation.operationId : undefined;
      operations.push({ method, path: route, operationId });
    }
  }
  return operations;
}

/** An HTTP trigger as the app registers it: its name, methods and route below the route prefix. */
export interface Trigger {
  readonly name: string;
  readonly methods: readonly string[];
  readonly route: string;
}

/**
 * A Functions route template as an OpenAPI path: `orders/{id}`, `orders/{id:int}` and
 * `orders/{id?}` all become `/orders/{id}`. API Management publishes the API under the path
 * `api`, the host's route prefix, so the rest of the path is the same on both sides.
 */
export function routeAsPath(route: string): string {
  return `/${route.replace(/^\/+/, '').replace(/\{([^}:?]+)[^}]*\}/g, '{$1}')}`;
}

/**
 * Where the app's triggers and the document disagree: every method and route a trigger serves is
 * an operation of the document, whose operationId is the trigger's name when the trigger answers
 * one method; every operation of the document is served by a trigger. Nothing else is expected:
 * a function added with its operation passes, a function or an operation added alone does not.
 */
export function triggerProblems(triggers: readonly Trigger[], text: string): string[] {
  const operations = openApiOperations(text);
  const problems: string[] = [];
  const served = new Set<string>();
  for (const trigger of triggers) {
    const path = routeAsPath(trigger.route);
    for (const method of trigger.methods.map((m) => m.toLowerCase())) {
      served.add(`${method} ${path}`);
      const operation = operations.find((o) => o.method === method && o.path === path);
      const name = `${method.toUpperCase()} ${path}`;
      if (operation === undefined) {
        problems.push(
          `${name} is served by the function "${trigger.name}" but apim/openapi.yaml declares no such operation`,
        );
      } else if (trigger.methods.length === 1 && operation.operationId !== trigger.name) {
        problems.push(
          `${name}: operationId is "${String(operation.operationId)}", not the function's name "${trigger.name}"`,
        );
      }
    }
  }
  for (const operation of operations) {
    if (!served.has(`${operation.method} ${operation.path}`)) {
      problems.push(
        `${operation.method.toUpperCase()} ${operation.path} (${String(operation.operationId)}) is declared in apim/openapi.yaml but no function serves it`,
      );
    }
  }
  return problems;
}

export const WHOAMI_MEMBERS = [
  'objectId',
  'clientId',
  'tenantId',
  'issuer',
  'tokenVersion',
  'roles',
  'expiresAt',
];

/** The OpenAPI document is the contract the README and the infrastructure rely on. */
export function openApiProblems(text: string): string[] {
  const document = parseYaml(text) as unknown;
  if (!isObject(document)) return ['not a YAML object'];
  const problems: string[] = [];
  if (typeof document.openapi !== 'string' || !/^3\.0\.\d+$/.test(document.openapi)) {
    problems.push('openapi must be 3.0.x (API Management imports it with format "openapi")');
  }
  const paths = isObject(document.paths) ? document.paths : {};
  const declared: string[] = [];
  for (const [route, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.includes(method) || !isObject(operation)) continue;
      declared.push(`${method} ${route}`);
      const name = `${method.toUpperCase()} ${route}`;
      const responses = isObject(operation.responses) ? operation.responses : {};
      for (const status of REQUIRED_RESPONSES) {
        if (!(status in responses)) problems.push(`${name} has no ${status} response`);
      }
      for (const status of PROBLEM_RESPONSES) {
        const response = deref(document, responses[status]);
        const content = isObject(response) && isObject(response.content) ? response.content : {};
        const media = content['application/problem+json'];
        const schema = isObject(media) ? deref(document, media.schema) : undefined;
        const properties =
          isObject(schema) && isObject(schema.properties) ? Object.keys(schema.properties) : [];
        const missing = PROBLEM_MEMBERS.filter((member) => !properties.includes(member));
        if (status in responses && (!isObject(media) || missing.length > 0)) {
          problems.push(
            `${name} ${status} is not an application/problem+json problem (${missing.join(', ') || 'no schema'})`,
          );
        }
      }
    }
  }
  const ids = openApiOperations(text).map((o) => o.operationId);
  for (const [index, id] of ids.entries()) {
    if (id === undefined || id === '') problems.push(`${declared[index] ?? ''} has no operationId`);
    else if (ids.indexOf(id) !== index) problems.push(`operationId "${id}" is used twice`);
  }

  // The shipped operations' own contract (README and smoke test rely on it), checked while they
  // are declared: whether they are is the registrations' business (triggerProblems).
  const hello = isObject(paths['/hello']) ? paths['/hello'].get : undefined;
  if (isObject(hello)) {
    const parameters = Array.isArray(hello.parameters)
      ? hello.parameters.map((p) => deref(document, p))
      : [];
    const nameParameter = parameters.find(
      (p) => isObject(p) && p.name === 'name' && p.in === 'query',
    );
    if (!isObject(nameParameter) || nameParameter.required === true)
      problems.push('GET /hello lacks the optional query parameter "name"');
  }

  const whoami = isObject(paths['/whoami']) ? paths['/whoami'].get : undefined;
  if (isObject(whoami)) {
    const ok = deref(document, isObject(whoami.responses) ? whoami.responses['200'] : undefined);
    const okContent =
      isObject(ok) && isObject(ok.content) ? ok.content['application/json'] : undefined;
    const okSchema = isObject(okContent) ? deref(document, okContent.schema) : undefined;
    const members =
      isObject(okSchema) && isObject(okSchema.properties) ? Object.keys(okSchema.properties) : [];
    const missingMembers = WHOAMI_MEMBERS.filter((member) => !members.includes(member));
    if (missingMembers.length > 0)
      problems.push(`GET /whoami 200 lacks ${missingMembers.join(', ')}`);
  }

  const components = isObject(document.components) ? document.components : {};
  const schemes = isObject(components.securitySchemes)
    ? Object.values(components.securitySchemes)
    : [];
  const hasScheme = (where: string, name: string) =>
    schemes.some(
      (scheme) =>
        isObject(scheme) && scheme.type === 'apiKey' && scheme.in === where && scheme.name === name,
    );
  if (!hasScheme('header', 'Ocp-Apim-Subscription-Key'))
    problems.push('no apiKey scheme for the Ocp-Apim-Subscription-Key header');
  if (!hasScheme('query', 'subscription-key'))
    problems.push('no apiKey scheme for the subscription-key query parameter');
  if (!Array.isArray(document.security) || document.security.length === 0)
    problems.push('no top-level security requirement');
  return problems;
}
