import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PolicyLoadError } from '../../../scripts/local/gateway/errors';
import {
  gatewayCurl,
  managedIdentityCredentialFromEnv,
} from '../../../scripts/local/gateway/server';
import { PortInUseError } from '../../../scripts/local/shared/ports';
import { KEY, useGatewayHarness } from './harness';
import { FAKE_TOKEN, request } from './support';

const h = useGatewayHarness();

describe('start-up', () => {
  it('names once at start each element it does not run, and still answers', async () => {
    const added = [
      '    <validate-jwt header-name="Authorization" failed-validation-httpcode="401">',
      '      <openid-config url="https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration" />',
      '    </validate-jwt>',
      '    <set-header name="X-Requested-At" exists-action="override">',
      '      <value>@(DateTime.UtcNow.ToString())</value>',
      '    </set-header>',
      '    <trace source="api" severity="information"><message>seen</message></trace>',
    ];
    const dir = h.apimCopy((file, text) =>
      file === 'policies/api.xml'
        ? text.replace('<inbound>\n    <base />', `<inbound>\n    <base />\n${added.join('\n')}`)
        : text,
    );
    const lines = fs.readFileSync(`${dir}/policies/api.xml`, 'utf8').split('\n');
    const lineOf = (start: string) => 1 + lines.findIndex((line) => line.startsWith(start));
    const gateway = await h.gateway({ apimDir: dir });
    const file = 'policies/api\\.xml';
    expect(gateway.notRunLocally).toHaveLength(3);
    const [jwt, header, trace] = gateway.notRunLocally;
    expect(jwt).toMatch(
      new RegExp(
        `${file}:${lineOf('    <validate-jwt')}: <validate-jwt> not run locally \\(the local gateway does not implement it\\); in Azure it refuses requests`,
      ),
    );
    expect(header).toMatch(
      new RegExp(
        `${file}:${lineOf('    <set-header name="X-Requested-At"')}: <set-header> not run locally \\(.*policy expression \\(@\\(DateTime\\.UtcNow\\.ToString\\(\\)\\)\\).*\\(line ${lineOf('      <value>@(')}\\)\\); in Azure it changes requests`,
      ),
    );
    // An element that only observes is named without a claim that it refuses or changes anything.
    expect(trace).toMatch(
      new RegExp(`${file}:${lineOf('    <trace')}: <trace> not run locally \\([^)]*\\)$`),
    );

    for (let i = 0; i < 3; i += 1) {
      const reply = await h.call('/api/hello', gateway);
      expect(reply.status).toBe(200);
    }
    // Named once, at start: not again per request.
    for (const line of gateway.notRunLocally) {
      expect(h.logs.filter((logged) => logged === line)).toHaveLength(1);
    }
    expect(JSON.stringify(h.echo.requests.at(-1)?.headers)).not.toContain('x-requested-at');
  });

  it.each([
    [
      'a rate-limit renewal-period over 300 s, which API Management refuses',
      'policies/product.xml',
      (text: string) => text.replace(/renewal-period="10"/, 'renewal-period="301"'),
      /policies\/product\.xml:\d+: <rate-limit> not run locally \("renewal-period" on <rate-limit> must be a whole number from 1 to 300, got "301"\); in Azure it refuses requests/,
    ],
    [
      'a quota outside the product scope, which API Management refuses',
      'policies/api.xml',
      (text: string) =>
        text.replace(
          '<inbound>\n    <base />',
          '<inbound>\n    <base />\n    <quota calls="5" renewal-period="60" />',
        ),
      /policies\/api\.xml:\d+: <quota> not run locally \(<quota> is not allowed at api scope/,
    ],
  ])('skips and names %s', async (_what, target, edit, expected) => {
    const dir = h.apimCopy((file, text) => (file === target ? edit(text) : text));
    const gateway = await h.gateway({ apimDir: dir });
    expect(gateway.notRunLocally.join('\n')).toMatch(expected);
    expect((await h.call('/api/hello', gateway)).status).toBe(200);
  });

  it('skips and names an element whose named value is not defined, and warns what that leaves out', async () => {
    const gateway = await h.gateway({ namedValues: {} });
    expect(gateway.notRunLocally.join('\n')).toMatch(
      /<authentication-managed-identity> not run locally \(.*\{\{api-app-client-id\}\}, which is not defined/,
    );
    expect(gateway.warnings.join('\n')).toMatch(/no authentication-managed-identity/);
  });

  it('still refuses a document the policy schema refuses, naming its line', async () => {
    const dir = h.apimCopy((file, text) =>
      file === 'policies/api.xml'
        ? text.replace('<outbound>', '<outbond>').replace('</outbound>', '</outbond>')
        : text,
    );
    const attempt = h.gateway({ apimDir: dir });
    await expect(attempt).rejects.toThrow(PolicyLoadError);
    await expect(attempt).rejects.toThrow(
      /policies\/api\.xml:\d+: <outbond> is not a policy section/,
    );
  });

  it('names the port variable when the port is taken', async () => {
    const attempt = h.gateway({ port: h.main.port, portVariable: 'GATEWAY_PORT' });
    await expect(attempt).rejects.toThrow(PortInUseError);
    await expect(attempt).rejects.toThrow(/GATEWAY_PORT/);
  });

  it.each([
    [{ subscriptionKey: ' ' }, /subscriptionKey/],
    [{ allAccessKey: '' }, /allAccessKey/],
    [{ functionsBaseUrl: 'http://127.0.0.1:7071/api' }, /functionsBaseUrl/],
    [{ functionsBaseUrl: 'https://example.net' }, /functionsBaseUrl/],
    [{ backendTimeoutMs: 0 }, /backendTimeoutMs/],
  ])('refuses bad options %j', async (overrides, message) => {
    await expect(h.gateway(overrides)).rejects.toThrow(message);
  });

  it('needs IDENTITY_ENDPOINT and IDENTITY_HEADER for the managed identity, naming the missing one', () => {
    expect(() => managedIdentityCredentialFromEnv({})).toThrow(/^IDENTITY_ENDPOINT is not set/);
    expect(() =>
      managedIdentityCredentialFromEnv({ IDENTITY_ENDPOINT: 'http://127.0.0.1:1/msi/apim/token' }),
    ).toThrow(/^IDENTITY_HEADER is not set/);
  });

  it('warns when the policies would let the subscription key through, and strips it anyway', async () => {
    const leaky = await h.gateway({
      apimDir: h.apimCopy((file, text) =>
        file === 'policies/api.xml'
          ? text
              .replace(/\s*<set-header name="Ocp-Apim-Subscription-Key"[^>]*\/>/, '')
              .replace(/\s*<set-query-parameter name="subscription-key"[^>]*\/>/, '')
          : text,
      ),
    });
    expect(leaky.warnings.join('\n')).toMatch(/Ocp-Apim-Subscription-Key header/);
    expect(leaky.warnings.join('\n')).toMatch(/subscription-key query parameter/);
    expect(h.main.warnings).toEqual([]);
    expect(h.main.notRunLocally).toEqual([]);
    const reply = await request(`${leaky.url}/api/hello?subscription-key=${KEY}`, {
      headers: { 'Ocp-Apim-Subscription-Key': KEY },
    });
    expect(reply.status).toBe(200);
    expect(JSON.stringify(h.echo.requests)).not.toContain(KEY);
  });

  it('warns when forward-request would wait longer than the Consumption tier lets a request run', async () => {
    for (const [edit, waits] of [
      [(text: string) => text.replace(/ timeout="\d+"/, ''), '300 (the default)'],
      [(text: string) => text.replace(/timeout="\d+"/, 'timeout="30"'), '30'],
    ] as const) {
      const slow = await h.gateway({
        apimDir: h.apimCopy((file, text) => (file === 'policies/api.xml' ? edit(text) : text)),
      });
      expect(slow.warnings.join('\n')).toMatch(
        new RegExp(
          `forward-request at \\S+api\\.xml:\\d+ waits ${waits.replace(/[()]/g, '\\$&')} s .* 30 s`,
        ),
      );
    }
  });

  it('prints a curl that quotes the key for the shell, or names its variable', () => {
    expect(
      gatewayCurl('http://127.0.0.1:7073', { variable: 'LOCAL_SUBSCRIPTION_KEY' }, 'hello'),
    ).toBe(
      'curl -i -H "Ocp-Apim-Subscription-Key: $LOCAL_SUBSCRIPTION_KEY" http://127.0.0.1:7073/api/hello',
    );
    expect(gatewayCurl('http://127.0.0.1:7073', "it's")).toBe(
      `curl -i -H 'Ocp-Apim-Subscription-Key: it'\\''s' http://127.0.0.1:7073/api/whoami`,
    );
  });
});

describe('logs', () => {
  it('one line per request (method, path, status, duration), never a key, token or header value', async () => {
    await h.call('/api/hello');
    await h.call(`/api/hello?subscription-key=${KEY}`);
    await request(`${h.main.url}/api/whoami`, {
      headers: {
        'Ocp-Apim-Subscription-Key': 'client-secret-guess',
        Authorization: 'Bearer x.y.z',
      },
    });
    const requestLines = h.logs.filter((line) => /^[A-Z]+ \//.test(line));
    expect(requestLines.length).toBeGreaterThanOrEqual(3);
    // Method, path, status, the failure's source and reason (or -), duration.
    for (const line of requestLines) expect(line).toMatch(/^[A-Z]+ \/\S* \d{3} (-|.+) \d+ms$/);
    // Nothing else: a failure's reason is in its request line, not on a line of its own.
    const requestLine = /^[A-Z]+ \S+ \d{3} /;
    expect(
      h.logs.filter(
        (line) =>
          !requestLine.test(line) &&
          !line.startsWith('warning: ') &&
          !/^\S+:\d+: <[a-z-]+> not run locally /.test(line),
      ),
    ).toEqual([]);
    const all = h.logs.join('\n');
    for (const secret of [KEY, FAKE_TOKEN, 'client-secret-guess', 'x.y.z']) {
      expect(all).not.toContain(secret);
    }
    expect(all).not.toMatch(/subscription-key=/);
  });
});
