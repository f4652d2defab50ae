import { describe, expect, it } from 'vitest';
import { KEY, useGatewayHarness } from '../harness';
import { request } from '../support';
import { compileOne } from './support';

/** `rewrite-uri` against learn.microsoft.com/azure/api-management/rewrite-uri-policy. */

const h = useGatewayHarness();

async function gatewayWith(rewrite: string) {
  const dir = h.apimCopy((file, text) =>
    file === 'policies/api.xml'
      ? text.replace('<inbound>\n    <base />', `<inbound>\n    <base />\n    ${rewrite}`)
      : text,
  );
  return h.gateway({ apimDir: dir });
}

describe('rewrite-uri', () => {
  it('sends the backend the template path and query, with the unmatched incoming parameters by default', async () => {
    const gateway = await gatewayWith(
      '<rewrite-uri template="/v2/greeting?lang=en&amp;name=fixed" />',
    );
    const reply = await request(
      `${gateway.url}/api/hello?name=Ada&extra=1&subscription-key=${KEY}`,
    );
    expect(reply.status).toBe(200);
    // The template's name wins; extra is copied; the key never reaches the backend.
    expect(h.echo.requests.at(-1)!.url).toBe('/api/v2/greeting?lang=en&name=fixed&extra=1');
  });

  it('drops the incoming parameters with copy-unmatched-params="false"', async () => {
    const gateway = await gatewayWith(
      '<rewrite-uri template="/put" copy-unmatched-params="false" />',
    );
    await h.call('/api/hello?a=b&c=d', gateway);
    expect(h.echo.requests.at(-1)!.url).toBe('/api/put');
  });

  it('names and skips a template with {parameters}', () => {
    expect(() => compileOne('<rewrite-uri template="/artists/{id}" />', 'api')).toThrow(
      /not run locally: the template "\/artists\/\{id\}" has \{parameters\}/,
    );
  });
});
