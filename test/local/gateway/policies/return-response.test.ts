import { describe, expect, it } from 'vitest';
import { useGatewayHarness } from '../harness';

/** `return-response` against learn.microsoft.com/azure/api-management/return-response-policy. */

const h = useGatewayHarness();

async function gatewayWithInbound(xml: string) {
  const dir = h.apimCopy((file, text) =>
    file === 'policies/api.xml'
      ? text.replace('<inbound>\n    <base />', `<inbound>\n    <base />\n${xml}`)
      : text,
  );
  return h.gateway({ apimDir: dir });
}

describe('return-response', () => {
  it('answers with its status, headers and body; the backend, outbound and on-error do not run', async () => {
    const gateway = await gatewayWithInbound(
      [
        '    <return-response>',
        '      <set-status code="401" reason="Unauthorized" />',
        '      <set-header name="WWW-Authenticate" exists-action="override">',
        '        <value>Bearer error="invalid_token"</value>',
        '      </set-header>',
        '      <set-body>{"error":"invalid_token"}</set-body>',
        '    </return-response>',
      ].join('\n'),
    );
    const before = h.echo.requests.length;
    const reply = await h.call('/api/hello', gateway);
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(reply.text).toBe('{"error":"invalid_token"}');
    // on-error would have set application/problem+json and its problem body.
    expect(reply.headers['content-type']).toBeUndefined();
    expect(h.echo.requests.length).toBe(before);
    expect(gateway.notRunLocally).toEqual([]);
  });

  it('answers 200 with no body by default', async () => {
    const gateway = await gatewayWithInbound('    <return-response />');
    const reply = await h.call('/api/hello', gateway);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('');
  });

  it('names at start a response variable, which needs send-request, and the call goes on', async () => {
    const gateway = await gatewayWithInbound(
      '    <return-response response-variable-name="fromSendRequest" />',
    );
    expect(gateway.notRunLocally.join('\n')).toMatch(
      /<return-response> not run locally \(attribute "response-variable-name"/,
    );
    expect((await h.call('/api/hello', gateway)).status).toBe(200);
  });
});
