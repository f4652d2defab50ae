import type { Element } from '@xmldom/xmldom';
import { PolicyAnswer } from '../failure';
import { HeaderMap, type GatewayRequest, type GatewayResponse } from '../messages';
import type { PolicyReader } from '../policy-reader';
import { policyElement, type RequestState } from './element';

/**
 * `cors` (learn.microsoft.com/azure/api-management/cors-policy, MicrosoftDocs/azure-docs
 * articles/api-management/cors-policy.md): inbound only, once per section.
 *
 * - Preflight (an `OPTIONS` request with `Origin` and `Access-Control-Request-Method`, to a path
 *   with no `OPTIONS` operation): only `cors` runs ("Only the cors policy is evaluated on the
 *   OPTIONS request during preflight"). When the origin, the method and the headers are allowed,
 *   an empty 200 with `Access-Control-Allow-Origin`, `-Allow-Credentials` (the attribute's value),
 *   `-Allow-Methods`, `-Allow-Headers` and `-Max-Age` (`preflight-result-max-age`, default 0).
 *   When they are not: `terminate-unmatched-request="true"` ends it with an empty 200 at once;
 *   `false` tries the next in-scope `cors` of inbound, and an empty 200 when none matches. The
 *   pipeline runs this (`preflight` below).
 * - A cross-origin request (with `Origin`): an allowed origin gets `Access-Control-Allow-Origin`,
 *   `-Allow-Credentials` when true, and `-Expose-Headers` on its response. A `GET` or `HEAD`
 *   from an origin that is not allowed ends with an empty 200 when `terminate-unmatched-request`
 *   is true, and goes on without CORS headers when it is false; another method goes on without
 *   them. Only the first `cors` of the effective inbound section applies ("Generally, only the
 *   first cors policy is applied").
 * - Origins: `*`, or URIs compared on scheme, host and port (port 80 for http, 443 for https when
 *   left out, as the page says); a trailing `/` is ignored. Methods: `allowed-methods` absent
 *   means `GET` and `POST`; `*` means any. Headers compare case-insensitively; `*` means any.
 *
 * The page's attribute table gives `terminate-unmatched-request` the default `false`, and its
 * "Common configuration issues" the default `true`; this uses `true`, the behaviour that page
 * describes for "Empty 200 OK response". Which header values API Management echoes (the origin or
 * `*`, the requested or all methods) is not documented: this echoes the request's origin, method
 * and headers, as the Fetch standard requires of a response that allows them.
 */

export interface CorsConfig {
  readonly allowCredentials: boolean;
  readonly terminateUnmatched: boolean;
  /** Normalised origins (`scheme://host:port`), or `*`. */
  readonly origins: readonly string[] | '*';
  /** Upper case, or `*`. */
  readonly methods: readonly string[] | '*';
  readonly maxAgeSeconds: number;
  /** Lower case, or `*`. */
  readonly headers: readonly string[] | '*';
  readonly exposeHeaders: readonly string[];
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** `scheme://host:port`, lower case, the port made explicit; undefined when not an origin URI. */
export function normalizeOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return undefined;
  }
  const defaultPort = DEFAULT_PORTS[url.protocol];
  if (!defaultPort || url.username || url.password || url.search || url.hash) return undefined;
  if (url.pathname !== '/' && url.pathname !== '') return undefined;
  return `${url.protocol}//${url.hostname}:${url.port || defaultPort}`;
}

function booleanAttribute(
  reader: PolicyReader,
  element: Element,
  attributes: ReadonlyMap<string, string>,
  name: string,
  fallback: boolean,
): boolean {
  const raw = attributes.get(name)?.trim();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return reader.fail('invalid_value', element, `"${name}" on <cors> must be true or false.`);
}

/** The texts of the `<child>` elements of `list`, named values resolved. */
function listOf(reader: PolicyReader, list: Element, child: string): string[] {
  return reader.elementChildren(list, `<${list.tagName}>`).map((item) => {
    if (item.tagName !== child) {
      reader.fail(
        'unsupported_element',
        item,
        `<${item.tagName}> inside <${list.tagName}> is not allowed (only <${child}>).`,
      );
    }
    reader.attributes(item, []);
    const value = reader.resolve(reader.text(item), item, `<${child}>`).trim();
    if (value === '') reader.fail('invalid_value', item, `<${child}> is empty.`);
    return value;
  });
}

function wildcardOr<T extends string>(values: T[]): readonly T[] | '*' {
  return values.includes('*' as T) ? '*' : values;
}

function allowsOrigin(config: CorsConfig, origin: string | undefined): origin is string {
  if (origin === undefined) return false;
  if (config.origins === '*') return true;
  const normalized = normalizeOrigin(origin);
  return normalized !== undefined && config.origins.includes(normalized);
}

function single(request: GatewayRequest, name: string): string | undefined {
  const values = request.headers.get(name);
  return values?.length === 1 ? values[0] : undefined;
}

/** Whether `request` is a CORS preflight: OPTIONS with Origin and Access-Control-Request-Method. */
export function isPreflight(request: GatewayRequest): boolean {
  return (
    request.method === 'OPTIONS' &&
    request.headers.has('origin') &&
    request.headers.has('access-control-request-method')
  );
}

/** An empty 200, as `cors` ends a request it does not allow. */
export function emptyOk(headers: HeaderMap = new HeaderMap()): GatewayResponse {
  return { status: 200, headers, body: Buffer.alloc(0) };
}

/** The preflight answer when `config` allows the request; undefined when it does not match. */
export function preflightAnswer(
  config: CorsConfig,
  request: GatewayRequest,
): GatewayResponse | undefined {
  const origin = single(request, 'origin');
  if (!allowsOrigin(config, origin)) return undefined;
  const method = single(request, 'access-control-request-method')?.trim().toUpperCase();
  if (!method || (config.methods !== '*' && !config.methods.includes(method))) return undefined;
  const requested = (request.headers.get('access-control-request-headers') ?? [])
    .flatMap((value) => value.split(','))
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  const headersAllowed =
    config.headers === '*' || requested.every((name) => config.headers.includes(name));
  if (!headersAllowed) return undefined;
  const headers = new HeaderMap();
  headers.set('Access-Control-Allow-Origin', [origin]);
  headers.set('Access-Control-Allow-Credentials', [String(config.allowCredentials)]);
  headers.set('Access-Control-Allow-Methods', [method]);
  if (requested.length > 0) headers.set('Access-Control-Allow-Headers', [requested.join(',')]);
  headers.set('Access-Control-Max-Age', [String(config.maxAgeSeconds)]);
  return emptyOk(headers);
}

/**
 * The answer to a preflight from the `cors` policies of the effective inbound section, in order;
 * undefined when there is none (the request then goes on as any other).
 */
export function preflight(
  configs: readonly CorsConfig[],
  request: GatewayRequest,
): GatewayResponse | undefined {
  if (configs.length === 0) return undefined;
  for (const config of configs) {
    const answer = preflightAnswer(config, request);
    if (answer) return answer;
    if (config.terminateUnmatched) return emptyOk();
  }
  return emptyOk();
}

/** The requests a `cors` has already applied to. */
const applied = new WeakSet<RequestState>();

export default policyElement<CorsConfig>({
  name: 'cors',
  sections: ['inbound'],
  attributes: ['allow-credentials', 'terminate-unmatched-request'],
  parse(element, attributes, context) {
    const reader: PolicyReader = context.reader;
    for (let node = element.previousSibling; node; node = node.previousSibling) {
      if (node.nodeType === 1 && (node as Element).tagName === 'cors') {
        reader.fail(
          'invalid_structure',
          element,
          'cors can only be used once in a policy section.',
        );
      }
    }
    const allowCredentials = booleanAttribute(
      reader,
      element,
      attributes,
      'allow-credentials',
      false,
    );
    const terminateUnmatched = booleanAttribute(
      reader,
      element,
      attributes,
      'terminate-unmatched-request',
      true,
    );
    const children = new Map<string, Element>();
    for (const child of reader.elementChildren(element, '<cors>')) {
      if (
        !['allowed-origins', 'allowed-methods', 'allowed-headers', 'expose-headers'].includes(
          child.tagName,
        )
      ) {
        reader.fail(
          'unsupported_element',
          child,
          `<${child.tagName}> is not allowed inside <cors>.`,
        );
      }
      if (children.has(child.tagName)) {
        reader.fail(
          'invalid_structure',
          child,
          `<${child.tagName}> appears more than once in <cors>.`,
        );
      }
      children.set(child.tagName, child);
    }
    const originsElement = children.get('allowed-origins');
    if (!originsElement) reader.fail('invalid_value', element, '<cors> needs <allowed-origins>.');
    reader.attributes(originsElement, []);
    const originValues = listOf(reader, originsElement, 'origin');
    if (originValues.length === 0) {
      reader.fail(
        'invalid_value',
        originsElement,
        '<allowed-origins> needs at least one <origin>.',
      );
    }
    if (originValues.includes('*') && originValues.length > 1) {
      reader.fail(
        'invalid_value',
        originsElement,
        '<allowed-origins> holds either a single * or URIs.',
      );
    }
    const origins = originValues.map((value) => {
      if (value === '*') return value;
      const normalized = normalizeOrigin(value);
      if (!normalized) {
        reader.fail(
          'invalid_value',
          originsElement,
          `<origin>${value}</origin> is not an origin URI with a scheme and a host.`,
        );
      }
      return normalized;
    });

    const methodsElement = children.get('allowed-methods');
    let methods: string[] = ['GET', 'POST'];
    let maxAgeSeconds = 0;
    if (methodsElement) {
      const methodAttributes = reader.attributes(methodsElement, ['preflight-result-max-age']);
      maxAgeSeconds = reader.wholeNumber(
        methodsElement,
        methodAttributes,
        'preflight-result-max-age',
        {
          min: 0,
          fallback: 0,
        },
      );
      methods = listOf(reader, methodsElement, 'method').map((method) => method.toUpperCase());
      if (methods.length === 0) {
        reader.fail(
          'invalid_value',
          methodsElement,
          '<allowed-methods> needs at least one <method>.',
        );
      }
    }
    const headerList = (name: string): string[] => {
      const list = children.get(name);
      if (!list) return [];
      reader.attributes(list, []);
      return listOf(reader, list, 'header');
    };
    return {
      allowCredentials,
      terminateUnmatched,
      origins: wildcardOr(origins),
      methods: wildcardOr(methods),
      maxAgeSeconds,
      headers: wildcardOr(headerList('allowed-headers').map((name) => name.toLowerCase())),
      exposeHeaders: headerList('expose-headers'),
    };
  },
  execute(config, { state }) {
    // Only the first cors of the effective inbound section applies.
    if (applied.has(state)) return;
    applied.add(state);
    const { request } = state;
    const origin = single(request, 'origin');
    if (origin === undefined) return;
    if (allowsOrigin(config, origin)) {
      state.finalHeaders.set('Access-Control-Allow-Origin', [origin]);
      if (config.allowCredentials)
        state.finalHeaders.set('Access-Control-Allow-Credentials', ['true']);
      if (config.exposeHeaders.length > 0) {
        state.finalHeaders.set('Access-Control-Expose-Headers', [config.exposeHeaders.join(',')]);
      }
      return;
    }
    if (config.terminateUnmatched && (request.method === 'GET' || request.method === 'HEAD')) {
      throw new PolicyAnswer('cors', emptyOk());
    }
  },
});
