import { formatLocation, type SourceLocation } from './errors';

/**
 * What the gateway says about a policy element it does not run. Any element the policy schema
 * accepts keeps the gateway starting: what it cannot run as API Management does (an element it
 * does not implement, an attribute, a policy expression, a value, a named value or a backend it
 * does not have) is skipped and named once at start. An element that in Azure refuses requests
 * or changes them is named as such, so that a skipped `validate-jwt` or `ip-filter` is never
 * mistaken for one that passed.
 *
 * The effects follow the policy reference (learn.microsoft.com/azure/api-management/api-management-policies):
 * its categories "Rate limiting and quotas", "Authentication and authorization", "Content
 * validation" and "Cross-domain" refuse requests; "Routing", "Transformation" and "Caching"
 * change requests or the responses; "Logging" and the variables of "Policy control and flow"
 * leave them as they are.
 */

export type Effect = 'refuses' | 'changes' | 'refuses-or-changes' | 'contains' | 'passes';

/** API Management's policy elements (those of its policy schemas and newer ones) and what they do. */
export const ELEMENT_EFFECTS: Readonly<Record<string, Effect>> = {
  // Refuse a request (answer 401, 403, 400, 429, ... instead of the backend).
  'validate-jwt': 'refuses',
  'validate-azure-ad-token': 'refuses',
  'validate-client-certificate': 'refuses',
  'ip-filter': 'refuses',
  'check-header': 'refuses',
  'rate-limit': 'refuses',
  'rate-limit-by-key': 'refuses',
  quota: 'refuses',
  'quota-by-key': 'refuses',
  'limit-concurrency': 'refuses',
  'azure-openai-token-limit': 'refuses',
  'llm-token-limit': 'refuses',
  'llm-content-safety': 'refuses',
  'validate-content': 'refuses',
  'validate-parameters': 'refuses',
  'validate-headers': 'refuses',
  'validate-status-code': 'refuses',
  'validate-graphql-request': 'refuses',
  'validate-odata-request': 'refuses',
  // Answer in place of the backend, or refuse, and add headers.
  cors: 'refuses-or-changes',
  'return-response': 'refuses-or-changes',
  'mock-response': 'refuses-or-changes',
  'cache-lookup': 'refuses-or-changes',
  'azure-openai-semantic-cache-lookup': 'refuses-or-changes',
  'llm-semantic-cache-lookup': 'refuses-or-changes',
  // Change the request, where it goes, or the response.
  'set-header': 'changes',
  'set-query-parameter': 'changes',
  'set-body': 'changes',
  'set-method': 'changes',
  'set-status': 'changes',
  'rewrite-uri': 'changes',
  'set-backend-service': 'changes',
  'forward-request': 'changes',
  'authentication-basic': 'changes',
  'authentication-certificate': 'changes',
  'authentication-managed-identity': 'changes',
  'authentication-token': 'changes',
  'authentication-token-store': 'changes',
  'find-and-replace': 'changes',
  'json-to-xml': 'changes',
  'xml-to-json': 'changes',
  'redirect-content-urls': 'changes',
  jsonp: 'changes',
  proxy: 'changes',
  'set-url': 'changes',
  'invoke-dapr-binding': 'changes',
  'publish-to-dapr': 'changes',
  // Hold other policies, which may do either.
  choose: 'contains',
  retry: 'contains',
  wait: 'contains',
  'include-fragment': 'contains',
  block: 'contains',
  // Leave the request and the response as they are (they log, measure, cache or set variables).
  'set-variable': 'passes',
  trace: 'passes',
  'log-to-eventhub': 'passes',
  'emit-metric': 'passes',
  'azure-openai-emit-token-metric': 'passes',
  'llm-emit-token-metric': 'passes',
  'set-request-metric-dimension-value': 'passes',
  'send-one-way-request': 'passes',
  'send-request': 'passes',
  'invoke-request': 'passes',
  'publish-event': 'passes',
  'get-authorization-context': 'passes',
  'cache-store': 'passes',
  'cache-store-value': 'passes',
  'cache-lookup-value': 'passes',
  'cache-remove-value': 'passes',
  'azure-openai-semantic-cache-store': 'passes',
  'llm-semantic-cache-store': 'passes',
};

const EFFECT_NOTES: Record<Effect, string> = {
  refuses: 'in Azure it refuses requests; here every request passes it',
  'refuses-or-changes':
    'in Azure it refuses or answers requests and changes responses; here requests pass it unchanged',
  changes: 'in Azure it changes requests or responses; here they pass it unchanged',
  contains: 'it holds policies that in Azure may refuse or change requests; here none of them runs',
  passes: '',
};

/** For an element the table does not know. */
const UNKNOWN_NOTE =
  'an element the local gateway does not know: in Azure it may refuse or change requests';

/** One occurrence of an element the gateway does not run. */
export interface SkippedElement {
  readonly kind: 'skipped';
  readonly element: string;
  readonly at: SourceLocation;
  /** Why, for example "its <value> is a policy expression (@(DateTime.UtcNow))". */
  readonly reason: string;
}

/** What an element does in Azure, when it refuses or changes requests (or may); undefined otherwise. */
export function effectNote(element: string): string | undefined {
  if (!Object.hasOwn(ELEMENT_EFFECTS, element)) return UNKNOWN_NOTE;
  return EFFECT_NOTES[ELEMENT_EFFECTS[element]!] || undefined;
}

/**
 * The start-up line for a skipped element:
 * `apim/policies/api.xml:21: <validate-jwt> not run locally (...); in Azure it refuses requests; ...`.
 */
export function describeSkipped(skipped: SkippedElement): string {
  const note = effectNote(skipped.element);
  return (
    `${formatLocation(skipped.at)}: <${skipped.element}> not run locally (${skipped.reason})` +
    (note ? `; ${note}` : '')
  );
}
