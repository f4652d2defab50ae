import { describe, expect, it } from 'vitest';
import {
  INVALID,
  KEY,
  MISSING,
  ON_ERROR_BODY,
  PROBLEM_JSON,
  useGatewayHarness,
  withoutOnErrorBody,
} from './harness';
import { request } from './support';

const h = useGatewayHarness();

const cases: [string, Record<string, string | string[]>, string, string][] = [
  ['no key', {}, '/api/hello', MISSING],
  ['a wrong key in the header', { 'Ocp-Apim-Subscription-Key': 'wrong' }, '/api/hello', INVALID],
  ['an empty key', { 'Ocp-Apim-Subscription-Key': '' }, '/api/whoami', INVALID],
  [
    'a key that is a prefix of the right one',
    { 'Ocp-Apim-Subscription-Key': KEY.slice(0, -1) },
    '/api/hello',
    INVALID,
  ],
  ['the key twice', { 'Ocp-Apim-Subscription-Key': [KEY, KEY] }, '/api/hello', INVALID],
  ['a wrong key in the query', {}, '/api/hello?subscription-key=wrong', INVALID],
  ['the key under another name', { 'X-Subscription-Key': KEY }, `/api/hello?key=${KEY}`, MISSING],
];

describe('a missing or invalid subscription key', () => {
  it.each(cases)(
    '%s -> 401 through the API on-error, backend and identity not called',
    async (_what, headers, route) => {
      const before = h.echo.requests.length;
      const scopes = h.credential.scopes.length;
      const reply = await request(`${h.main.url}${route}`, { headers });
      expect(reply.status).toBe(401);
      expect(reply.headers['content-type']).toBe(PROBLEM_JSON);
      expect(reply.headers['cache-control']).toBe('no-store');
      expect(reply.json()).toEqual(ON_ERROR_BODY);
      expect(reply.headers['www-authenticate']).toBe(
        `AzureApiManagementKey realm="${h.main.url}/api",name="Ocp-Apim-Subscription-Key",type="header"`,
      );
      expect(h.echo.requests.length).toBe(before);
      expect(h.credential.scopes.length).toBe(scopes);
    },
  );

  it.each(cases)(
    "%s -> API Management's own 401 where no on-error changes it",
    async (_what, headers, route, message) => {
      const bare = await h.gateway({ apimDir: h.apimCopy(withoutOnErrorBody) });
      const reply = await request(`${bare.url}${route}`, { headers });
      expect(reply.status).toBe(401);
      expect(reply.headers['content-type']).toBe('application/json');
      expect(reply.json()).toEqual({ statusCode: 401, message });
      expect(reply.headers['www-authenticate']).toBe(
        `AzureApiManagementKey realm="${bare.url}/api",name="Ocp-Apim-Subscription-Key",type="header"`,
      );
    },
  );

  it('runs no product on-error: without a valid subscription the product is unknown', async () => {
    const marked = await h.gateway({
      apimDir: h.apimCopy((file, text) =>
        file === 'policies/product.xml'
          ? text
              .replace(/calls="100"/, 'calls="1"')
              .replace(
                /<on-error>\s*<base \/>/,
                '<on-error>\n    <base />\n    <set-header name="X-Product-On-Error" exists-action="override"><value>ran</value></set-header>',
              )
          : text,
      ),
    });
    const rejected = await request(`${marked.url}/api/hello`);
    expect(rejected.status).toBe(401);
    expect(rejected.headers['x-product-on-error']).toBeUndefined();
    // With the product's key, a failure inside the pipeline does run the product's on-error.
    expect((await h.call('/api/hello', marked)).status).toBe(200);
    const limited = await h.call('/api/hello', marked);
    expect(limited.status).toBe(429);
    expect(limited.headers['x-product-on-error']).toBe('ran');
  });
});

describe('the key names', () => {
  it("come from the API's subscriptionKeyParameterNames, not from OpenAPI securitySchemes (API Management ignores them on import)", async () => {
    const renamed = await h.gateway({
      apimDir: h.apimCopy((file, text) =>
        file === 'openapi.yaml'
          ? text
              .replace('name: Ocp-Apim-Subscription-Key', 'name: X-Other-Key')
              .replace('name: subscription-key', 'name: other-key')
          : text,
      ),
    });
    expect((await h.call('/api/hello', renamed)).status).toBe(200);
    const other = await request(`${renamed.url}/api/hello?other-key=${KEY}`, {
      headers: { 'X-Other-Key': KEY },
    });
    expect(other.status).toBe(401);
  });
});

describe('product-scoped and all-access subscriptions', () => {
  it('the product policies (rate limit) apply to the product key, not to the all-access key', async () => {
    const allAccessKey = 'all-access-key-for-this-test';
    const limited = await h.gateway({
      allAccessKey,
      apimDir: h.apimCopy((file, text) =>
        file === 'policies/product.xml' ? text.replace(/calls="100"/, 'calls="1"') : text,
      ),
    });
    const withProductKey = () => h.call('/api/hello', limited);
    const withAllAccessKey = () =>
      request(`${limited.url}/api/hello`, {
        headers: { 'Ocp-Apim-Subscription-Key': allAccessKey },
      });
    expect((await withProductKey()).status).toBe(200);
    expect((await withProductKey()).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await withAllAccessKey()).status).toBe(200);
  });

  it('refuses an all-access key equal to the product key', async () => {
    await expect(h.gateway({ allAccessKey: KEY })).rejects.toThrow(/allAccessKey/);
  });
});
