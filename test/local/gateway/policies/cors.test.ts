import { describe, expect, it } from 'vitest';
import { PolicyAnswer } from '../../../../scripts/local/gateway/failure';
import cors, { normalizeOrigin } from '../../../../scripts/local/gateway/policies/cors';
import { parsePolicy } from '../../../../scripts/local/gateway/policy';
import { KEY, addOperations, operation, useGatewayHarness } from '../harness';
import { request, type Reply } from '../support';
import { compileOne, execution, failureOf } from './support';

/**
 * `cors` against learn.microsoft.com/azure/api-management/cors-policy: preflight answered by the
 * cors policies alone, simple cross-origin requests, terminate-unmatched-request either way.
 */

const h = useGatewayHarness();
const APP = 'https://app.example.com';
const OTHER = 'https://other.example.net';

function corsXml(attributes: string, origin: string, extra = ''): string {
  return [
    `    <cors${attributes}>`,
    `      <allowed-origins><origin>${origin}</origin></allowed-origins>`,
    extra,
    '      <allowed-headers><header>Content-Type</header><header>X-Trace</header></allowed-headers>',
    '    </cors>',
  ].join('\n');
}

/** A gateway whose api.xml (and product.xml when given) holds `cors` first in inbound. */
async function gatewayWith(api: string, product?: string, paths?: Record<string, unknown>) {
  const dir = h.apimCopy((file, text) => {
    if (file === 'policies/api.xml') return text.replace('<inbound>', `<inbound>\n${api}`);
    if (file === 'policies/product.xml' && product)
      return text.replace('<inbound>\n    <base />', `<inbound>\n    <base />\n${product}`);
    if (file === 'openapi.yaml' && paths) return addOperations(text, paths);
    return text;
  });
  return h.gateway({ apimDir: dir });
}

function preflight(
  url: string,
  origin: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<Reply> {
  return request(url, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': method, ...headers },
  });
}

function corsHeaders(reply: Reply): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(reply.headers).filter(([name]) => name.startsWith('access-control-')),
  );
}

describe('a preflight (OPTIONS with Origin and Access-Control-Request-Method)', () => {
  it('is answered by cors alone when origin, method and headers are allowed: empty 200, no key, no backend', async () => {
    const gateway = await gatewayWith(
      corsXml(
        ' allow-credentials="true"',
        `${APP}/`,
        '      <allowed-methods preflight-result-max-age="300"><method>GET</method><method>DELETE</method></allowed-methods>',
      ),
    );
    const before = h.echo.requests.length;
    const reply = await preflight(`${gateway.url}/api/hello`, APP, 'DELETE', {
      'Access-Control-Request-Headers': 'content-type, X-Trace',
    });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('');
    expect(corsHeaders(reply)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'DELETE',
      'access-control-allow-headers': 'content-type,x-trace',
      'access-control-max-age': '300',
    });
    expect(h.echo.requests.length).toBe(before);
  });

  it.each([
    ['an origin not allowed', OTHER, 'GET', {}],
    ['a method not allowed (GET and POST only by default)', APP, 'DELETE', {}],
    ['a header not allowed', APP, 'GET', { 'Access-Control-Request-Headers': 'X-Secret' }],
  ])(
    'with %s ends at once with an empty 200 without CORS headers (terminate-unmatched-request defaults to true)',
    async (_what, origin, method, headers) => {
      const gateway = await gatewayWith(corsXml('', APP));
      const reply = await preflight(`${gateway.url}/api/hello`, origin, method, headers);
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('');
      expect(corsHeaders(reply)).toEqual({});
    },
  );

  it('with terminate-unmatched-request="false" tries the next in-scope cors, and ends empty when none matches', async () => {
    // api.xml's cors comes before its <base />, so it runs before the product's.
    const gateway = await gatewayWith(
      corsXml(' terminate-unmatched-request="false"', APP),
      corsXml('', OTHER),
    );
    const withKey = `${gateway.url}/api/hello?subscription-key=${KEY}`;
    expect(corsHeaders(await preflight(withKey, APP))['access-control-allow-origin']).toBe(APP);
    // The API's cors does not match and does not terminate: the product's (next) does.
    expect(corsHeaders(await preflight(withKey, OTHER))['access-control-allow-origin']).toBe(OTHER);
    // Without a key (a browser's preflight) the product is unknown and its cors does not apply:
    // no cors matches, an empty 200.
    const withoutKey = await preflight(`${gateway.url}/api/hello`, OTHER);
    expect(withoutKey.status).toBe(200);
    expect(withoutKey.text).toBe('');
    expect(corsHeaders(withoutKey)).toEqual({});
  });

  it('goes to the API when it defines an OPTIONS operation there', async () => {
    const gateway = await gatewayWith(corsXml('', APP), undefined, {
      '/preflight-here': operation('options', 'customPreflight'),
    });
    const reply = await request(`${gateway.url}/api/preflight-here`, {
      method: 'OPTIONS',
      headers: {
        Origin: APP,
        'Access-Control-Request-Method': 'GET',
        'Ocp-Apim-Subscription-Key': KEY,
      },
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toMatchObject({ method: 'OPTIONS', url: '/api/preflight-here' });
  });

  it('to a path with no operation, or without cors, is a 404 as before', async () => {
    const gateway = await gatewayWith(corsXml('', APP));
    expect((await preflight(`${gateway.url}/api/nothing-here`, APP)).status).toBe(404);
    expect((await preflight(`${h.main.url}/api/hello`, APP)).status).toBe(404);
  });
});

describe('a cross-origin request', () => {
  it('from an allowed origin gets Access-Control-Allow-Origin, -Credentials and -Expose-Headers on its response', async () => {
    const gateway = await gatewayWith(
      corsXml(
        ' allow-credentials="true"',
        APP,
        '      <expose-headers><header>X-Backend-Kept</header></expose-headers>',
      ).replace('</cors>', '  </cors>'),
    );
    const reply = await request(`${gateway.url}/api/hello`, {
      headers: { Origin: APP, 'Ocp-Apim-Subscription-Key': KEY },
    });
    expect(reply.status).toBe(200);
    expect(corsHeaders(reply)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'X-Backend-Kept',
    });
  });

  it.each([' terminate-unmatched-request="true"', ''])(
    'GET from an origin not allowed ends with an empty 200 when terminate-unmatched-request is true (the default) [%s]',
    async (attribute) => {
      const gateway = await gatewayWith(corsXml(attribute, APP));
      const before = h.echo.requests.length;
      const reply = await request(`${gateway.url}/api/hello`, {
        headers: { Origin: OTHER, 'Ocp-Apim-Subscription-Key': KEY },
      });
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('');
      expect(corsHeaders(reply)).toEqual({});
      expect(h.echo.requests.length).toBe(before);
    },
  );

  it('GET from an origin not allowed goes on without CORS headers when terminate-unmatched-request is false', async () => {
    const gateway = await gatewayWith(corsXml(' terminate-unmatched-request="false"', APP));
    const reply = await request(`${gateway.url}/api/hello`, {
      headers: { Origin: OTHER, 'Ocp-Apim-Subscription-Key': KEY },
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toMatchObject({ url: '/api/hello' });
    expect(corsHeaders(reply)).toEqual({});
  });

  it('without Origin is untouched', async () => {
    const gateway = await gatewayWith(corsXml('', APP));
    const reply = await h.call('/api/hello', gateway);
    expect(reply.status).toBe(200);
    expect(corsHeaders(reply)).toEqual({});
  });
});

describe('the cors statement', () => {
  const statement = compileOne(corsXml(' terminate-unmatched-request="true"', APP), 'api');

  it('ends only GET and HEAD from an origin not allowed; other methods go on without headers', async () => {
    for (const method of ['GET', 'HEAD']) {
      const context = execution();
      Object.assign(context.state.request, { method });
      context.state.request.headers.set('Origin', [OTHER]);
      const answer = await failureOf(statement, context);
      expect(answer).toBeInstanceOf(PolicyAnswer);
      expect((answer as PolicyAnswer).response).toMatchObject({ status: 200 });
    }
    const post = execution();
    Object.assign(post.state.request, { method: 'POST' });
    post.state.request.headers.set('Origin', [OTHER]);
    await statement.run(post);
    expect(post.state.finalHeaders.names()).toEqual([]);
  });

  it('applies once per request: only the first cors of inbound counts', async () => {
    const second = compileOne(corsXml('', OTHER), 'api');
    const context = execution();
    context.state.request.headers.set('Origin', [APP]);
    await statement.run(context);
    await second.run(context);
    expect(context.state.finalHeaders.get('Access-Control-Allow-Origin')).toEqual([APP]);
  });

  it('reads allowed-methods absent as GET and POST, and * as any', () => {
    expect(cors.configOf(statement)).toMatchObject({ methods: ['GET', 'POST'], maxAgeSeconds: 0 });
    const any = compileOne(
      corsXml('', '*', '      <allowed-methods><method>*</method></allowed-methods>'),
      'api',
    );
    expect(cors.configOf(any)).toMatchObject({ origins: '*', methods: '*' });
  });
});

describe('origins', () => {
  it.each([
    ['https://app.example.com', 'https://app.example.com:443'],
    ['https://app.example.com:443/', 'https://app.example.com:443'],
    ['HTTP://LOCALHOST:8080/', 'http://localhost:8080'],
    ['http://example.com/', 'http://example.com:80'],
    ['https://app.example.com/path', undefined],
    ['app.example.com', undefined],
    ['ftp://app.example.com', undefined],
  ])('%s is %s', (value, normalized) => {
    expect(normalizeOrigin(value)).toBe(normalized);
  });
});

describe('what the gateway does not run, it names', () => {
  it.each([
    [
      'a second cors in a section',
      `${corsXml('', APP)}\n${corsXml('', OTHER)}`,
      'only be used once',
    ],
    ['a wildcard among origins', corsXml('', '*</origin><origin>https://a.example'), 'single *'],
    ['an origin that is no URI', corsXml('', 'app.example.com'), 'not an origin URI'],
    ['an expression', corsXml(' allow-credentials="@(true)"', APP), 'policy expression'],
    [
      'no allowed-origins',
      '    <cors><allowed-headers><header>a</header></allowed-headers></cors>',
      'needs <allowed-origins>',
    ],
  ])('%s', (_what, xml, reason) => {
    const document = parsePolicy(
      `<policies>\n  <inbound>\n${xml}\n  </inbound>\n</policies>`,
      'test.xml',
      { namedValues: {}, backendIds: ['function-app'] },
      'api',
    );
    expect(document.skipped.map((skipped) => skipped.reason).join('\n')).toContain(reason);
  });
});
