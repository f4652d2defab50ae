import { describe, expect, it } from 'vitest';
import { useGatewayHarness } from '../harness';
import { compileOne } from './support';

/** `set-method` and `set-status` against their pages on learn.microsoft.com/azure/api-management. */

const h = useGatewayHarness();

describe('set-method', () => {
  it('sends the backend the new method', async () => {
    const dir = h.apimCopy((file, text) =>
      file === 'policies/api.xml'
        ? text.replace(
            '<inbound>\n    <base />',
            '<inbound>\n    <base />\n    <set-method>POST</set-method>',
          )
        : text,
    );
    const gateway = await h.gateway({ apimDir: dir });
    const reply = await h.call('/api/hello', gateway);
    expect(reply.status).toBe(200);
    expect(h.echo.requests.at(-1)!.method).toBe('POST');
  });

  it('names and skips a method that is no HTTP token', () => {
    expect(() => compileOne('<set-method>NOT A METHOD</set-method>', 'api')).toThrow(/HTTP method/);
  });
});

describe('set-status', () => {
  it('sets the status of the response in outbound', async () => {
    const dir = h.apimCopy((file, text) =>
      file === 'policies/api.xml'
        ? text.replace(
            '<outbound>\n    <base />',
            '<outbound>\n    <base />\n    <set-status code="202" reason="Accepted" />',
          )
        : text,
    );
    const gateway = await h.gateway({ apimDir: dir });
    expect((await h.call('/api/hello', gateway)).status).toBe(202);
  });

  it('is named and skipped in inbound, where the local gateway has no response yet', () => {
    expect(() => compileOne('<set-status code="202" reason="Accepted" />', 'api')).toThrow(
      /not run locally: the local gateway runs <set-status> in outbound/,
    );
  });

  it('names and skips a code outside 100 to 599', () => {
    expect(() =>
      compileOne('<return-response><set-status code="99" reason="x" /></return-response>', 'api'),
    ).toThrow(/"code" on <set-status> must be a whole number from 100 to 599/);
  });
});
