import { describe, expect, it } from 'vitest';
import { PolicyFailure } from '../../../../scripts/local/gateway/failure';
import { callerAddress } from '../../../../scripts/local/gateway/policies/ip-filter';
import { useGatewayHarness } from '../harness';
import { compileOne, execution, failureOf } from './support';

/** `ip-filter` against learn.microsoft.com/azure/api-management/ip-filter-policy. */

const h = useGatewayHarness();

function from(address: string) {
  const context = execution();
  Object.assign(context.state.request, { clientAddress: address });
  return context;
}

const allow = compileOne(
  '<ip-filter action="allow"><address>13.66.201.169</address><address-range from="10.0.0.0" to="10.0.0.255" /><address>2001:db8::1</address></ip-filter>',
  'api',
);

describe('ip-filter', () => {
  it('action="allow" lets through only the listed addresses and ranges', async () => {
    for (const address of [
      '13.66.201.169',
      '10.0.0.0',
      '10.0.0.255',
      '::ffff:10.0.0.7',
      '2001:db8::1',
    ]) {
      await allow.run(from(address));
    }
    const failure = (await failureOf(allow, from('10.0.1.0'))) as PolicyFailure;
    expect([failure.source, failure.reason, failure.response.status]).toEqual([
      'ip-filter',
      'CallerIpNotAllowed',
      403,
    ]);
    expect(JSON.parse(failure.response.body.toString())).toEqual({
      statusCode: 403,
      message: 'Caller IP address 10.0.1.0 is not allowed. Access denied.',
    });
  });

  it('action="forbid" refuses the listed addresses (CallerIpBlocked) and lets others through', async () => {
    const forbid = compileOne(
      '<ip-filter action="forbid"><address>127.0.0.1</address></ip-filter>',
      'api',
    );
    const failure = (await failureOf(forbid, from('127.0.0.1'))) as PolicyFailure;
    expect([failure.reason, failure.response.status]).toEqual(['CallerIpBlocked', 403]);
    expect(JSON.parse(failure.response.body.toString())).toMatchObject({
      message: 'Caller IP address is blocked. Access denied.',
    });
    await forbid.run(from('127.0.0.2'));
  });

  it('compares the connection address through the gateway: a loopback caller outside the list is refused', async () => {
    const dir = h.apimCopy((file, text) =>
      file === 'policies/api.xml'
        ? text.replace(
            '<inbound>\n    <base />',
            '<inbound>\n    <base />\n    <ip-filter action="allow"><address>192.0.2.1</address></ip-filter>',
          )
        : text,
    );
    const gateway = await h.gateway({ apimDir: dir });
    const reply = await h.call('/api/hello', gateway);
    // api.xml's on-error replaces the body; the status stays.
    expect(reply.status).toBe(403);
    expect(callerAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
  });

  it.each([
    [
      'an action it does not know',
      '<ip-filter action="deny"><address>1.2.3.4</address></ip-filter>',
      /allow or forbid/,
    ],
    ['no address', '<ip-filter action="allow" />', /at least one/],
    [
      'an address that is none',
      '<ip-filter action="allow"><address>1.2.3</address></ip-filter>',
      /not an IP address/,
    ],
  ])('names and skips %s', (_what, xml, reason) => {
    expect(() => compileOne(xml, 'api')).toThrow(reason);
  });
});
