import type { TokenCredential } from '@azure/identity';
import type { Element } from '@xmldom/xmldom';
import type { SourceLocation } from '../errors';
import type { GatewayRequest, GatewayResponse, HeaderMap } from '../messages';
import type { PolicyReader } from '../policy-reader';

/**
 * The contract of one policy element: where it may appear, which attributes it implements, how it
 * is read from a policy file and how it runs. Each element lives in its own file in this folder
 * and is listed once in `registry.ts`; `policyElement()` only accepts a definition with both a
 * parser and an executor, so an element the gateway reads is always an element it runs.
 */

export const SECTIONS = ['inbound', 'backend', 'outbound', 'on-error'] as const;
export type Section = (typeof SECTIONS)[number];

/** The scopes the local gateway loads, outermost first (API Management also has operation scope). */
export const SCOPES = ['global', 'product', 'api'] as const;
export type Scope = (typeof SCOPES)[number];

/** Where the subscription key is looked for: the API's `subscriptionKeyParameterNames`. */
export interface SubscriptionKeyNames {
  readonly header: string;
  readonly query: string;
}

/** What an element is given when its file is loaded. */
export interface ParseContext {
  readonly reader: PolicyReader;
  readonly section: Section;
  readonly scope: Scope;
  /** Backend ids that `set-backend-service backend-id` may name. */
  readonly backendIds: readonly string[];
}

/** What the gateway provides to executors; the same for every request. */
export interface GatewayServices {
  /** Backend id to base URL. */
  readonly backends: Readonly<Record<string, string>>;
  /** Gets tokens for `authentication-managed-identity`; undefined when no policy needs one. */
  readonly credential: TokenCredential | undefined;
  /**
   * Gets tokens for `authentication-managed-identity client-id="..."`: the user-assigned identity
   * with that client id. Undefined when no policy names one.
   */
  readonly credentialFor?: (clientId: string) => TokenCredential;
  /** Timeout of `forward-request` when the policy sets none. */
  readonly backendTimeoutMs: number;
  readonly subscriptionKey: SubscriptionKeyNames;
  /** Diagnostics; never given a token, key or header value. */
  readonly log: (line: string) => void;
  /** Milliseconds since the epoch (rate limits, quotas). */
  readonly now: () => number;
}

/** One request on its way through the sections. */
export interface RequestState {
  readonly request: GatewayRequest;
  /** The subscription the key belongs to: rate limits and quotas count per subscription. */
  readonly subscriptionId: string;
  backendUrl: string | undefined;
  /** Set by forward-request, or by the failure that sent the request to on-error. */
  response: GatewayResponse | undefined;
  /**
   * Headers added to whatever response the request ends with (the CORS headers of `cors`),
   * after outbound or on-error.
   */
  readonly finalHeaders: HeaderMap;
}

export interface ExecutionContext {
  readonly state: RequestState;
  readonly section: Section;
  readonly services: GatewayServices;
}

/** The definition of one element, as its file writes it. */
export interface PolicyElementDefinition<Config> {
  /** The element's tag name. */
  readonly name: string;
  /** The sections API Management allows it in (from the element's policy reference page). */
  readonly sections: readonly Section[];
  /** The scopes API Management allows it in; default all. */
  readonly scopes?: readonly Scope[];
  /** The attributes the local gateway implements; any other attribute stops the load. */
  readonly attributes: readonly string[];
  /**
   * Reads one occurrence. `attributes` holds the allowed attributes present, named values
   * resolved. Throws a PolicyLoadError (through `context.reader.fail`) on anything it would not
   * run exactly as API Management does; the state an occurrence keeps (counters) is created here.
   */
  parse(element: Element, attributes: ReadonlyMap<string, string>, context: ParseContext): Config;
  /**
   * Runs one occurrence for one request; throws a PolicyFailure to send the request to on-error,
   * a PolicyAnswer to answer it at once.
   */
  execute(config: Config, context: ExecutionContext): void | Promise<void>;
}

/** One occurrence of an element in a policy file, ready to run. */
export interface Statement {
  readonly kind: 'statement';
  readonly element: string;
  readonly at: SourceLocation;
  run(context: ExecutionContext): void | Promise<void>;
}

/** An element as the registry holds it: its definition, and how to compile an occurrence. */
export interface PolicyElement<Config = unknown> {
  readonly name: string;
  readonly sections: readonly Section[];
  readonly scopes: readonly Scope[];
  readonly attributes: readonly string[];
  compile(
    element: Element,
    attributes: ReadonlyMap<string, string>,
    context: ParseContext,
    at: SourceLocation,
  ): Statement;
  /** The parsed configuration of `statement` when it is an occurrence of this element. */
  configOf(statement: Statement): Config | undefined;
}

/** Makes a registry entry of a definition (both parser and executor are required). */
export function policyElement<Config>(
  definition: PolicyElementDefinition<Config>,
): PolicyElement<Config> {
  // The type already requires both; this holds for definitions that escape it (casts, plain JS).
  for (const part of ['parse', 'execute'] as const) {
    if (typeof definition[part] !== 'function') {
      throw new TypeError(`Policy element <${definition.name}> has no ${part} function.`);
    }
  }
  const configs = new WeakMap<Statement, Config>();
  return {
    name: definition.name,
    sections: definition.sections,
    scopes: definition.scopes ?? SCOPES,
    attributes: definition.attributes,
    compile(element, attributes, context, at) {
      const config = definition.parse(element, attributes, context);
      const statement: Statement = {
        kind: 'statement',
        element: definition.name,
        at,
        run: (execution) => definition.execute(config, execution),
      };
      configs.set(statement, config);
      return statement;
    },
    configOf: (statement) => configs.get(statement),
  };
}
