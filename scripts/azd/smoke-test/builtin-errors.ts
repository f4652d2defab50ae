/**
 * Settles on the first deployment what API Management's documentation says but no capture has
 * shown: its built-in errors (SubscriptionKeyNotFound, SubscriptionKeyInvalid, OperationNotFound)
 * go through the on-error sections that apply (api-management-error-handling-policies.md), so a
 * client gets the API's on-error problem, not API Management's own `{"statusCode", "message"}`.
 * The local gateway, docs/local-gateway.md and apim/openapi.yaml rely on it; if this check fails,
 * they are wrong and the detail says what API Management answered instead.
 */

/** The body apim/policies/api.xml's on-error section sets (test/apim holds them equal). */
export const API_ON_ERROR_BODY = {
  type: 'about:blank',
  title: 'The request could not be completed.',
  code: 'gateway_error',
} as const;

export const BUILT_IN_ERRORS_CHECK = 'apim-builtin-errors-use-on-error';

/** What the check needs from the smoke test: a call, the gateway's URLs, and a result line. */
export interface BuiltInErrorProbe {
  call(
    url: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: string; error?: string }>;
  /** The URL of `operation` under the API on API Management's gateway. */
  gateway(operation: string): string;
  record(name: string, ok: boolean, detail: string): void;
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
  // The detail is cut at 160 characters: the first problems, briefly, are what matters.
  probe.record(
    BUILT_IN_ERRORS_CHECK,
    problems.length === 0,
    problems.length === 0
      ? "no key, a wrong key and no such operation get 401, 401, 404 with the API's on-error problem, no-store"
      : problems.join('; '),
  );
}
