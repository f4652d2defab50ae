import { API_ON_ERROR_BODY } from '../../scripts/azd/smoke-test/builtin-errors';
import { describe, expect, it } from 'vitest';
import {
  POLICY_FILES,
  backendHeaderProblems,
  backendProblems,
  baseProblems,
  clientIdentityHeaderProblems,
  expressionProblems,
  forwardTimeoutProblems,
  managedIdentityProblems,
  notRunLocallyProblems,
  onErrorProblems,
  openingCommentProblems,
  readApim,
  schemaErrors,
  subscriptionKeyProblems,
} from './policy-checks';

const api = readApim('policies/api.xml');
const product = readApim('policies/product.xml');

describe.each(POLICY_FILES)('%s', (file) => {
  const xml = readApim(file);

  it('validates against the API Management policy schemas', async () => {
    expect(await schemaErrors(xml, file)).toEqual([]);
  });

  it('opens with a comment on its intent', () => {
    expect(openingCommentProblems(xml)).toEqual([]);
  });

  it('keeps exactly one <base /> in every section', () => {
    expect(baseProblems(xml)).toEqual([]);
  });

  it('uses no policy expressions', () => {
    expect(expressionProblems(xml)).toEqual([]);
  });

  it('holds nothing the local gateway does not run', () => {
    expect(notRunLocallyProblems(xml, file)).toEqual([]);
  });
});

describe('policies/api.xml', () => {
  it('authenticates with the managed identity for {{api-app-client-id}}', () => {
    expect(managedIdentityProblems(api)).toEqual([]);
  });

  it('removes the subscription key from the header and the query', () => {
    expect(subscriptionKeyProblems(api)).toEqual([]);
  });

  it('drops client-sent Authorization and principal headers before the token is set', () => {
    expect(clientIdentityHeaderProblems(api)).toEqual([]);
  });

  it('sends requests to the function-app backend', () => {
    expect(backendProblems(api)).toEqual([]);
  });

  it('removes the headers that describe the backend', () => {
    expect(backendHeaderProblems(api)).toEqual([]);
  });

  it('answers errors with a fixed problem body that no cache keeps', () => {
    expect(onErrorProblems(api)).toEqual([]);
  });

  it('calls the backend with an explicit timeout within the Consumption tier cap', () => {
    expect(forwardTimeoutProblems(api)).toEqual([]);
  });
});

describe('policies/product.xml', () => {
  it('rate limits each subscription with a policy the Consumption tier supports', () => {
    const limit = /<rate-limit\s+calls="(\d+)"\s+renewal-period="(\d+)"\s*\/>/.exec(product);
    expect(limit).not.toBeNull();
    expect(Number(limit![1])).toBeGreaterThan(0);
    // API Management refuses a renewal-period over 300 s; a short one keeps bursts short.
    expect(Number(limit![2])).toBeLessThanOrEqual(10);
    // rate-limit-by-key and quota-by-key are not available on the Consumption tier.
    expect(product).not.toMatch(/<(rate-limit-by-key|quota-by-key)\b/);
  });

  it('caps the calls a subscription can make (and cost) with a quota', () => {
    const quota = /<quota\s+calls="(\d+)"\s+renewal-period="(\d+)"\s*\/>/.exec(product);
    expect(quota).not.toBeNull();
    expect(Number(quota![1])).toBeGreaterThan(0);
    expect(Number(quota![2])).toBeGreaterThan(0);
  });
});

/** Each check must catch a policy that breaks it: [what, file text, check, expected problem]. */
const mutations: [string, string, (xml: string) => string[], RegExp][] = [
  [
    'authentication-managed-identity removed',
    api.replace(/\s*<authentication-managed-identity[^>]*\/>/, ''),
    managedIdentityProblems,
    /missing/,
  ],
  [
    'resource is an object id',
    api.replace(
      'resource="{{api-app-client-id}}"',
      'resource="b1e2c3d4-1111-4a2b-8c3d-4e5f60718293"',
    ),
    managedIdentityProblems,
    /resource is "b1e2c3d4/,
  ],
  [
    'resource is the ARM audience',
    api.replace('resource="{{api-app-client-id}}"', 'resource="https://management.azure.com/"'),
    managedIdentityProblems,
    /management\.azure\.com/,
  ],
  [
    'resource is another named value',
    api.replace('resource="{{api-app-client-id}}"', 'resource="{{api-app-object-id}}"'),
    managedIdentityProblems,
    /expected "\{\{api-app-client-id\}\}"/,
  ],
  [
    'errors ignored',
    api.replace(
      'resource="{{api-app-client-id}}"',
      'resource="{{api-app-client-id}}" ignore-error="true"',
    ),
    managedIdentityProblems,
    /ignores errors/,
  ],
  [
    'token moved to outbound',
    api
      .replace(/\s*<authentication-managed-identity[^>]*\/>/, '')
      .replace(
        '<outbound>',
        '<outbound>\n    <authentication-managed-identity resource="{{api-app-client-id}}" />',
      ),
    managedIdentityProblems,
    /not in <inbound>/,
  ],
  [
    'subscription key header kept',
    api.replace(/\s*<set-header name="Ocp-Apim-Subscription-Key"[^>]*\/>/, ''),
    subscriptionKeyProblems,
    /Ocp-Apim-Subscription-Key header/,
  ],
  [
    'subscription key query parameter kept',
    api.replace(/\s*<set-query-parameter name="subscription-key"[^>]*\/>/, ''),
    subscriptionKeyProblems,
    /subscription-key query/,
  ],
  [
    'client Authorization header kept',
    api.replace(/\s*<set-header name="Authorization"[^>]*\/>/, ''),
    clientIdentityHeaderProblems,
    /Authorization header is not deleted/,
  ],
  [
    'client Authorization deleted after the token is set (would delete the token)',
    api
      .replace(/\s*<set-header name="Authorization"[^>]*\/>/, '')
      .replace(
        /(<authentication-managed-identity[^>]*\/>)/,
        '$1\n    <set-header name="Authorization" exists-action="delete" />',
      ),
    clientIdentityHeaderProblems,
    /after authentication-managed-identity/,
  ],
  [
    'principal header kept',
    api.replace(/\s*<set-header name="X-MS-CLIENT-PRINCIPAL-ID"[^>]*\/>/, ''),
    clientIdentityHeaderProblems,
    /X-MS-CLIENT-PRINCIPAL-ID/,
  ],
  [
    'backend by URL',
    api.replace(
      '<set-backend-service backend-id="function-app" />',
      '<set-backend-service base-url="https://example.net/api" />',
    ),
    backendProblems,
    /backend-id="function-app"/,
  ],
  [
    'X-Powered-By kept',
    api.replace(/\s*<set-header name="X-Powered-By"[^>]*\/>/, ''),
    backendHeaderProblems,
    /X-Powered-By/,
  ],
  [
    'backend section left without <base /> and without forward-request',
    api.replace(/<forward-request[^>]*\/>/, '<set-header name="X" exists-action="delete" />'),
    baseProblems,
    /<backend> has 0 <base \/>/,
  ],
  [
    'forward-request without a timeout',
    api.replace(/<forward-request[^>]*\/>/, '<forward-request />'),
    forwardTimeoutProblems,
    /no timeout/,
  ],
  [
    'forward-request timeout at the Consumption cap',
    api.replace(/timeout="\d+"/, 'timeout="30"'),
    forwardTimeoutProblems,
    /not below the Consumption cap/,
  ],
  [
    'on-error responses cacheable',
    api.replace(/\s*<set-header name="Cache-Control"[\s\S]*?<\/set-header>/, ''),
    onErrorProblems,
    /Cache-Control: no-store/,
  ],
  [
    'on-error body echoes the error',
    api.replace(/<set-body>[^<]*<\/set-body>/, '<set-body>@(context.LastError.Message)</set-body>'),
    onErrorProblems,
    /leak/,
  ],
  [
    'on-error body names the backend',
    api.replace(
      /<set-body>[^<]*<\/set-body>/,
      '<set-body>{"type":"about:blank","title":"The backend at func-x.azurewebsites.net failed"}</set-body>',
    ),
    onErrorProblems,
    /leak/,
  ],
  [
    'on-error body has a detail',
    api.replace(
      /<set-body>[^<]*<\/set-body>/,
      '<set-body>{"type":"about:blank","title":"Error","detail":"timed out after 30 s"}</set-body>',
    ),
    onErrorProblems,
    /detail/,
  ],
  [
    'on-error body is plain text',
    api.replace(/<set-body>[^<]*<\/set-body>/, '<set-body>Something went wrong</set-body>'),
    onErrorProblems,
    /not JSON/,
  ],
  [
    'on-error without problem+json',
    api.replace('<value>application/problem+json</value>', '<value>text/plain</value>'),
    onErrorProblems,
    /Content-Type/,
  ],
  [
    '<base /> removed from outbound',
    api.replace(/(<outbound>)\s*<base \/>/, '$1'),
    baseProblems,
    /<outbound> has 0/,
  ],
  [
    'on-error section removed',
    product.replace(/\s*<on-error>[\s\S]*<\/on-error>/, ''),
    baseProblems,
    /<on-error> is missing/,
  ],
  ['no opening comment', api.replace(/^<!--[\s\S]*?-->\s*/, ''), openingCommentProblems, /comment/],
  [
    'policy expression',
    api.replace(
      'resource="{{api-app-client-id}}"',
      'resource="@(context.Variables.GetValueOrDefault<string>(&quot;r&quot;))"',
    ),
    expressionProblems,
    /expression/,
  ],
];

/** The shipped files stay strict: [what, file, file text] the local gateway would not fully run. */
const notRunLocally: [string, (typeof POLICY_FILES)[number], string, RegExp][] = [
  [
    'an element it does not implement',
    'policies/api.xml',
    api.replace(
      '<inbound>\n    <base />',
      '<inbound>\n    <base />\n    <validate-jwt header-name="Authorization"><openid-config url="https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration" /></validate-jwt>',
    ),
    /apim\/policies\/api\.xml:\d+: <validate-jwt> not run locally .*refuses requests/,
  ],
  [
    'a policy expression',
    'policies/product.xml',
    product.replace('calls="100"', 'calls="@(100)"'),
    /apim\/policies\/product\.xml:\d+: <rate-limit> not run locally .*policy expression/,
  ],
];

describe('the strictness check catches what the local gateway would skip', () => {
  it.each(notRunLocally)('%s', (_what, file, mutated, expected) => {
    expect(mutated).not.toBe(readApim(file));
    expect(notRunLocallyProblems(mutated, file).join('\n')).toMatch(expected);
  });
});

describe('the checks catch broken policies', () => {
  it.each(mutations)('%s', (_what, mutated, check, expected) => {
    const problems = check(mutated);
    expect(problems.join('\n')).toMatch(expected);
  });

  it('every mutation changed the file it starts from', () => {
    for (const [what, mutated] of mutations) {
      expect(mutated !== api && mutated !== product, what).toBe(true);
    }
  });
});

const schemaMutations: [string, string, RegExp][] = [
  [
    'misspelt element',
    api.replace('<set-backend-service', '<set-backend-servise'),
    /set-backend-servise/,
  ],
  [
    'misspelt attribute',
    api.replace('exists-action="delete"', 'exists-acton="delete"'),
    /exists-acton/,
  ],
  ['invalid enum value', api.replace('exists-action="delete"', 'exists-action="remove"'), /remove/],
  [
    'unknown section',
    api.replace('<backend>', '<backends>').replace('</backend>', '</backends>'),
    /backends/,
  ],
];

describe('the schema check catches invalid policies', () => {
  it.each(schemaMutations)('%s', async (_what, mutated, expected) => {
    expect(mutated).not.toBe(api);
    const errors = await schemaErrors(mutated, 'policies/api.xml');
    expect(errors.join('\n')).toMatch(expected);
    expect(errors.join('\n')).toMatch(/policies\/api\.xml:\d+/);
  });
});

describe('the smoke test', () => {
  it("expects exactly the body api.xml's on-error section sets", () => {
    const body = /<on-error>[\s\S]*<set-body>([^<]*)<\/set-body>/.exec(api);
    expect(JSON.parse(body![1]!)).toEqual(API_ON_ERROR_BODY);
  });
});
