/**
 * Observes on the first deployment what no capture has shown yet: whether API Management's
 * built-in errors (SubscriptionKeyNotFound, SubscriptionKeyInvalid, OperationNotFound) go through
 * the API's on-error section, so that a client gets the API's on-error problem rather than API
 * Management's own `{"statusCode", "message"}`. The documentation
 * (MicrosoftDocs/azure-docs `articles/api-management/api-management-error-handling-policies.md`)
 * lists these errors and says that on-error "can be used at any scope", but not that a request
 * refused before its product (or operation) is known runs the API scope's on-error. So this is a
 * NOTE, never a failure of `postdeploy`: what it rests on is undocumented. The refusals themselves
 * (401 without a valid key) are documented and are checked, and fail, elsewhere
 * (`apim-rejects-missing-key`, `apim-rejects-wrong-key`).
 * The local gateway, docs/local-gateway.md and apim/openapi.yaml assume the on-error body; when
 * the note says otherwise, they are wrong and the note says what API Management answered instead.
 */

/** The body apim/policies/api.xml's on-error section sets (test/apim holds them equal). */
export const API_ON_ERROR_BODY = {
  type: 'about:blank',
  title: 'The request could not be completed.',
  code: 'gateway_error',
} as const;

export const BUILT_IN_ERRORS_CHECK = 'apim-builtin-errors-use-on-error';

/** What the observation needs from the smoke test: a call, the gateway's URLs, and a NOTE line. */
export interface BuiltInErrorProbe {
  call(
    url: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: string; error?: string }>;
  /** The URL of `operation` under the API on API Management's gateway. */
  gateway(operation: string): string;
  /** Reports what was seen as a NOTE line, which never fails the smoke test. */
  note(line: string): void;
  readonly wrongKey: string;
}

/** Why an answer is not the on-error problem with `status`, or undefined when it is. */
function mismatch(
  answer: { status: number; headers: Headers; body: string; error?: string },
  status: number,
): string | undefined {
  if (answer.error !== undefined) return `no response (${answer.error})`;
  if (answer.status !== status) return `status ${answer.status}, expected ${status}`;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    body = undefined;
  }
  if (JSON.stringify(body) !== JSON.stringify(API_ON_ERROR_BODY)) {
    const own =
      typeof body === 'object' && body !== null && 'statusCode' in body && 'message' in body;
    return own
      ? "API Management's own body: built-in errors skip on-error"
      : `an unexpected body (${answer.body.slice(0, 40)})`;
  }
  const type = answer.headers.get('content-type') ?? '';
  if (!type.includes('application/problem+json')) return `Content-Type ${type || '(none)'}`;
  if (!(answer.headers.get('cache-control') ?? '').includes('no-store')) {
    return 'no Cache-Control: no-store';
  }
  return undefined;
}

export async function checkBuiltInErrors(probe: BuiltInErrorProbe): Promise<void> {
  const cases: [string, string, Record<string, string>, number][] = [
    ['no key', 'hello', {}, 401],
    ['a wrong key', 'hello', { 'Ocp-Apim-Subscription-Key': probe.wrongKey }, 401],
    ['no such operation', 'smoke-test-no-such-operation', {}, 404],
  ];
  const problems: string[] = [];
  for (const [what, operation, headers, status] of cases) {
    const problem = mismatch(await probe.call(probe.gateway(operation), headers), status);
    if (problem !== undefined) problems.push(`${what}: ${problem}`);
  }
  probe.note(
    problems.length === 0
      ? `${BUILT_IN_ERRORS_CHECK}: no key, a wrong key and no such operation get 401, 401, 404 ` +
          "with the API's on-error problem and Cache-Control: no-store, as the local gateway assumes."
      : `${BUILT_IN_ERRORS_CHECK}: API Management's built-in errors do not answer as the local ` +
          `gateway assumes (${problems.join('; ')}). Not a failure: the documentation does not ` +
          "say which body they get; docs/local-gateway.md's model of built-in errors is wrong " +
          'for this deployment.',
  );
}
