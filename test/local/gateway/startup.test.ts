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
  it('refuses a policy it does not implement, naming the element and its line', async () => {
    const dir = h.apimCopy((file, text) =>
      file === 'policies/api.xml'
        ? text.replace('<outbound>\n    <base />', '<outbound>\n    <base />\n    <cors />')
        : text,
    );
    const line =
      1 + fs.readFileSync(`${dir}/policies/api.xml`, 'utf8').split('\n').indexOf('    <cors />');
    const attempt = h.gateway({ apimDir: dir });
    await expect(attempt).rejects.toThrow(PolicyLoadError);
    await expect(attempt).rejects.toThrow(
      new RegExp(`policies/api\\.xml:${line}: <cors> is not implemented`),
    );
  });

  it('refuses a rate-limit renewal-period over 300 s, as API Management does', async () => {
    const dir = h.apimCopy((file, text) =>
      file === 'policies/product.xml'
        ? text.replace(/renewal-period="10"/, 'renewal-period="301"')
        : text,
    );
    await expect(h.gateway({ apimDir: dir })).rejects.toThrow(
      /policies\/product\.xml:\d+: "renewal-period" on <rate-limit> must be a whole number from 1 to 300, got "301"/,
    );
  });

  it('refuses a quota outside the product scope, as API Management does', async () => {
    const dir = h.apimCopy((file, text) =>
      file === 'policies/api.xml'
        ? text.replace(
            '<inbound>\n    <base />',
            '<inbound>\n    <base />\n    <quota calls="5" renewal-period="60" />',
          )
        : text,
    );
    await expect(h.gateway({ apimDir: dir })).rejects.toThrow(
      /<quota> is not allowed at api scope/,
    );
  });

  it('refuses a named value it does not have', async () => {
    await expect(h.gateway({ namedValues: {} })).rejects.toThrow(
      /\{\{api-app-client-id\}\}, which is not defined/,
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
    for (const line of requestLines) expect(line).toMatch(/^[A-Z]+ \/\S* \d{3} \d+ms$/);
    const all = h.logs.join('\n');
    for (const secret of [KEY, FAKE_TOKEN, 'client-secret-guess', 'x.y.z']) {
      expect(all).not.toContain(secret);
    }
    expect(all).not.toMatch(/subscription-key=/);
  });
});
