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

export interface ExpectedOperation {
  readonly method: string;
  readonly path: string;
  readonly operationId: string;
}

export const EXPECTED_OPERATIONS: readonly ExpectedOperation[] = [
  { method: 'get', path: '/hello', operationId: 'hello' },
  { method: 'get', path: '/whoami', operationId: 'whoami' },
];

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
export function openApiProblems(
  text: string,
  expected: readonly ExpectedOperation[] = EXPECTED_OPERATIONS,
): string[] {
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
      if (!isObject(operation)) continue;
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
  for (const operation of expected) {
    const item = paths[operation.path];
    const declaredOperation = isObject(item) ? item[operation.method] : undefined;
    if (!isObject(declaredOperation)) {
      problems.push(`${operation.method.toUpperCase()} ${operation.path} is not declared`);
    } else if (declaredOperation.operationId !== operation.operationId) {
      problems.push(
        `${operation.method.toUpperCase()} ${operation.path} operationId is not "${operation.operationId}"`,
      );
    }
  }
  const extra = declared.filter(
    (entry) => !expected.some((e) => `${e.method} ${e.path}` === entry),
  );
  if (extra.length > 0) problems.push(`undeclared operations: ${extra.join(', ')}`);

  const hello =
    isObject(paths['/hello']) && isObject(paths['/hello'].get) ? paths['/hello'].get : {};
  const parameters = Array.isArray(hello.parameters)
    ? hello.parameters.map((p) => deref(document, p))
    : [];
  const nameParameter = parameters.find(
    (p) => isObject(p) && p.name === 'name' && p.in === 'query',
  );
  if (!isObject(nameParameter) || nameParameter.required === true)
    problems.push('GET /hello lacks the optional query parameter "name"');

  const whoami =
    isObject(paths['/whoami']) && isObject(paths['/whoami'].get) ? paths['/whoami'].get : {};
  const ok = deref(document, isObject(whoami.responses) ? whoami.responses['200'] : undefined);
  const okContent =
    isObject(ok) && isObject(ok.content) ? ok.content['application/json'] : undefined;
  const okSchema = isObject(okContent) ? deref(document, okContent.schema) : undefined;
  const members =
    isObject(okSchema) && isObject(okSchema.properties) ? Object.keys(okSchema.properties) : [];
  const missingMembers = WHOAMI_MEMBERS.filter((member) => !members.includes(member));
  if (missingMembers.length > 0)
    problems.push(`GET /whoami 200 lacks ${missingMembers.join(', ')}`);

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
