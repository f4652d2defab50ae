import fs from 'node:fs';
import path from 'node:path';
import { DOMParser, type Element, type Node } from '@xmldom/xmldom';
import { validateXML } from 'xmllint-wasm';
import { FUNCTION_APP_BACKEND_ID } from '../../scripts/local/gateway/api';
import { describeSkipped } from '../../scripts/local/gateway/not-run';
import { parsePolicy } from '../../scripts/local/gateway/policy';

/**
 * Review checks for the API Management files, as functions of the file text, so that the tests
 * can run them on the shipped files and on mutated copies (proving each check can fail).
 * Each check returns the problems it found; an empty list means the file passes.
 */

export const ROOT = path.resolve(__dirname, '..', '..');
export const APIM_DIR = path.join(ROOT, 'apim');
export const POLICY_FILES = ['policies/api.xml', 'policies/product.xml'] as const;
/** APIM policy XSDs, vendored with their licence and provenance (see policy-schemas/README.md). */
export const SCHEMA_DIR = path.join(__dirname, 'policy-schemas');

export const SECTIONS = ['inbound', 'backend', 'outbound', 'on-error'] as const;
export const API_CLIENT_ID_NAMED_VALUE = '{{api-app-client-id}}';
export const PROBLEM_MEMBERS = ['type', 'title', 'status', 'detail', 'code'];

export function readApim(file: string): string {
  return fs.readFileSync(path.join(APIM_DIR, file), 'utf8');
}

function parseXml(xml: string): Element {
  const document = new DOMParser({
    onError: (level, message) => {
      throw new Error(`${level}: ${message}`);
    },
  }).parseFromString(xml, 'text/xml');
  return document.documentElement!;
}

function childElements(element: Element): Element[] {
  const children: Element[] = [];
  for (let node: Node | null = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1) children.push(node as Element);
  }
  return children;
}

function section(root: Element, name: string): Element | undefined {
  return childElements(root).find((child) => child.tagName === name);
}

function textOf(element: Element): string {
  let text = '';
  for (let node: Node | null = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 3 || node.nodeType === 4) text += node.nodeValue ?? '';
  }
  return text;
}

// --- XSD ------------------------------------------------------------------------------------

let schemaCache:
  | {
      schema: { fileName: string; contents: string };
      preload: { fileName: string; contents: string }[];
    }
  | undefined;

function schemas(): NonNullable<typeof schemaCache> {
  if (!schemaCache) {
    const read = (fileName: string) => ({
      fileName,
      contents: fs.readFileSync(path.join(SCHEMA_DIR, fileName), 'utf8'),
    });
    schemaCache = {
      schema: read('policies.xsd'),
      preload: fs
        .readdirSync(SCHEMA_DIR)
        .filter((name) => name.endsWith('.xsd') && name !== 'policies.xsd')
        .sort()
        .map(read),
    };
  }
  return schemaCache;
}

/** Schema errors as `file:line: message` (none when valid). */
export async function schemaErrors(xml: string, fileName: string): Promise<string[]> {
  const { schema, preload } = schemas();
  const result = await validateXML({ xml: { fileName, contents: xml }, schema, preload });
  if (result.valid) return [];
  return result.errors.length > 0
    ? result.errors.map(
        (error) =>
          `${error.loc ? `${error.loc.fileName}:${error.loc.lineNumber}: ` : ''}${error.message}`,
      )
    : [result.rawOutput.trim() || 'invalid'];
}

// --- structure ------------------------------------------------------------------------------

/** The file opens with a comment on its intent, before `<policies>`. */
export function openingCommentProblems(xml: string): string[] {
  const body = xml.replace(/^\uFEFF?(<\?xml[^>]*\?>)?\s*/, '');
  const match = /^<!--([\s\S]*?)-->/.exec(body);
  if (!match) return ['the file does not open with a comment on its intent'];
  return match[1]!.trim().length < 40
    ? ['the opening comment is too short to state an intent']
    : [];
}

/**
 * Every section is present and holds exactly one `<base />`, except a `<backend>` that holds a
 * single `<forward-request>` instead: it replaces the global default forward-request (to set
 * its timeout), which is all the enclosing backend sections hold.
 */
export function baseProblems(xml: string): string[] {
  const root = parseXml(xml);
  const problems: string[] = [];
  for (const name of SECTIONS) {
    const element = section(root, name);
    if (!element) {
      problems.push(`<${name}> is missing`);
      continue;
    }
    const children = childElements(element);
    const bases = children.filter((child) => child.tagName === 'base').length;
    const forwardsOnly =
      name === 'backend' && children.length === 1 && children[0]!.tagName === 'forward-request';
    if (bases !== 1 && !forwardsOnly)
      problems.push(`<${name}> has ${bases} <base /> elements, expected 1`);
  }
  return problems;
}

/** The Consumption tier caps a request at 30 s (includes/api-management-service-limits.md). */
export const CONSUMPTION_REQUEST_CAP_SECONDS = 30;

/** The backend is called with an explicit forward-request timeout within the Consumption cap. */
export function forwardTimeoutProblems(xml: string): string[] {
  const backend = section(parseXml(xml), 'backend');
  const forwards = backend
    ? childElements(backend).filter((child) => child.tagName === 'forward-request')
    : [];
  if (forwards.length !== 1) return [`backend has ${forwards.length} forward-request, expected 1`];
  const timeout = forwards[0]!.getAttribute('timeout');
  if (timeout === null || !/^\d+$/.test(timeout)) return ['forward-request sets no timeout'];
  const seconds = Number(timeout);
  return seconds >= 1 && seconds < CONSUMPTION_REQUEST_CAP_SECONDS
    ? []
    : [`forward-request timeout ${seconds} s is not below the Consumption cap of 30 s`];
}

// --- the API policy -------------------------------------------------------------------------

/**
 * `authentication-managed-identity` is in inbound, exactly once, with `resource` the named value
 * for the function app's client id, no user-assigned `client-id`, errors not ignored, and the
 * token not copied to a variable.
 */
export function managedIdentityProblems(xml: string): string[] {
  const root = parseXml(xml);
  const all = root.getElementsByTagName('authentication-managed-identity');
  if (all.length === 0) return ['authentication-managed-identity is missing'];
  if (all.length > 1) return [`authentication-managed-identity appears ${all.length} times`];
  const element = all.item(0)!;
  const problems: string[] = [];
  if ((element.parentNode as Element | null)?.tagName !== 'inbound') {
    problems.push('authentication-managed-identity is not in <inbound>');
  }
  const resource = element.getAttribute('resource');
  if (resource !== API_CLIENT_ID_NAMED_VALUE) {
    problems.push(
      `authentication-managed-identity resource is "${resource ?? ''}", expected "${API_CLIENT_ID_NAMED_VALUE}"`,
    );
  }
  for (const attribute of ['client-id', 'output-token-variable-name']) {
    if (element.hasAttribute(attribute))
      problems.push(`authentication-managed-identity has ${attribute}`);
  }
  if (element.hasAttribute('ignore-error') && element.getAttribute('ignore-error') !== 'false') {
    problems.push('authentication-managed-identity ignores errors');
  }
  return problems;
}

function inboundOrder(xml: string): Element[] {
  const inbound = section(parseXml(xml), 'inbound');
  return inbound ? childElements(inbound) : [];
}

function deletes(element: Element, kind: string, name: string): boolean {
  return (
    element.tagName === kind &&
    (element.getAttribute('name') ?? '').toLowerCase() === name.toLowerCase() &&
    element.getAttribute('exists-action') === 'delete'
  );
}

/** The subscription key is removed from the header and the query in inbound. */
export function subscriptionKeyProblems(xml: string): string[] {
  const inbound = inboundOrder(xml);
  const problems: string[] = [];
  if (!inbound.some((element) => deletes(element, 'set-header', 'Ocp-Apim-Subscription-Key'))) {
    problems.push('the Ocp-Apim-Subscription-Key header is not deleted in inbound');
  }
  if (!inbound.some((element) => deletes(element, 'set-query-parameter', 'subscription-key'))) {
    problems.push('the subscription-key query parameter is not deleted in inbound');
  }
  return problems;
}

/** Client-sent credentials and App Service principal headers are deleted before the token is set. */
export const CLIENT_IDENTITY_HEADERS = [
  'Authorization',
  'X-MS-CLIENT-PRINCIPAL',
  'X-MS-CLIENT-PRINCIPAL-ID',
  'X-MS-CLIENT-PRINCIPAL-NAME',
  'X-MS-CLIENT-PRINCIPAL-IDP',
];

export function clientIdentityHeaderProblems(xml: string): string[] {
  const inbound = inboundOrder(xml);
  const tokenAt = inbound.findIndex(
    (element) => element.tagName === 'authentication-managed-identity',
  );
  const problems: string[] = [];
  for (const name of CLIENT_IDENTITY_HEADERS) {
    const at = inbound.findIndex((element) => deletes(element, 'set-header', name));
    if (at < 0) problems.push(`the client's ${name} header is not deleted in inbound`);
    else if (tokenAt >= 0 && at > tokenAt)
      problems.push(`${name} is deleted after authentication-managed-identity set the token`);
  }
  return problems;
}

/** The backend is set by id (the Bicep backend), not by a URL in the policy. */
export function backendProblems(xml: string): string[] {
  const services = inboundOrder(xml).filter((element) => element.tagName === 'set-backend-service');
  if (services.length !== 1)
    return [`inbound has ${services.length} set-backend-service elements, expected 1`];
  const service = services[0]!;
  if (service.getAttribute('backend-id') !== 'function-app' || service.hasAttribute('base-url')) {
    return ['set-backend-service must name backend-id="function-app" and no base-url'];
  }
  return [];
}

/** Outbound removes the headers that describe the backend. */
export const BACKEND_HEADERS = ['X-Powered-By', 'X-AspNet-Version', 'Request-Context'];

export function backendHeaderProblems(xml: string): string[] {
  const outbound = section(parseXml(xml), 'outbound');
  const children = outbound ? childElements(outbound) : [];
  return BACKEND_HEADERS.filter(
    (name) => !children.some((element) => deletes(element, 'set-header', name)),
  ).map((name) => `outbound does not delete ${name}`);
}

const LEAKY = /context\.|LastError|exception|stack|backend|token|key|\{\{|@\(|@\{/i;

/**
 * on-error answers with a fixed problem+json body: valid JSON with problem members only, no
 * expressions, no named values, nothing about the failure.
 */
export function onErrorProblems(xml: string): string[] {
  const onError = section(parseXml(xml), 'on-error');
  if (!onError) return ['<on-error> is missing'];
  const children = childElements(onError);
  const problems: string[] = [];
  const contentType = children.find(
    (element) =>
      element.tagName === 'set-header' &&
      (element.getAttribute('name') ?? '').toLowerCase() === 'content-type',
  );
  const values = contentType ? childElements(contentType).map(textOf) : [];
  if (
    contentType?.getAttribute('exists-action') !== 'override' ||
    values.join() !== 'application/problem+json'
  ) {
    problems.push('on-error does not set Content-Type: application/problem+json');
  }
  const cacheControl = children.find(
    (element) =>
      element.tagName === 'set-header' &&
      (element.getAttribute('name') ?? '').toLowerCase() === 'cache-control',
  );
  if (
    cacheControl?.getAttribute('exists-action') !== 'override' ||
    childElements(cacheControl).map(textOf).join() !== 'no-store'
  ) {
    problems.push('on-error does not set Cache-Control: no-store');
  }
  const bodies = children.filter((element) => element.tagName === 'set-body');
  if (bodies.length !== 1)
    return [...problems, `on-error has ${bodies.length} set-body elements, expected 1`];
  const text = textOf(bodies[0]!).trim();
  if (LEAKY.test(text)) problems.push(`the on-error body may leak details: ${text}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [...problems, 'the on-error body is not JSON'];
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return [...problems, 'the on-error body is not a JSON object'];
  const extra = Object.keys(body).filter((member) => !PROBLEM_MEMBERS.includes(member));
  if (extra.length > 0)
    problems.push(`the on-error body has members beyond a problem: ${extra.join(', ')}`);
  if (!('type' in body) || !('title' in body))
    problems.push('the on-error body lacks type or title');
  if ('detail' in body)
    problems.push('the on-error body has a detail: it should say nothing about the failure');
  return problems;
}

/** No policy expressions anywhere (the local gateway runs the same files and evaluates none). */
export function expressionProblems(xml: string): string[] {
  return /(["'>]\s*)@[({]/.test(xml) ? ['the policy uses a policy expression'] : [];
}

// --- the local gateway ----------------------------------------------------------------------

/**
 * What the local gateway would skip in the file (each as its start-up line): the shipped files
 * run completely locally, whatever a user's own files may hold.
 */
export function notRunLocallyProblems(xml: string, file: string): string[] {
  const namedValues = JSON.parse(readApim('named-values.local.json')) as Record<string, string>;
  const document = parsePolicy(
    xml,
    `apim/${file}`,
    { namedValues, backendIds: [FUNCTION_APP_BACKEND_ID] },
    file === 'policies/product.xml' ? 'product' : 'api',
  );
  return document.skipped.map(describeSkipped);
}
