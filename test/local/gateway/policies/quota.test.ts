import { describe, expect, it } from 'vitest';
import { consume, type QuotaConfig } from '../../../../scripts/local/gateway/policies/quota';
import { PolicyFailure } from '../../../../scripts/local/gateway/failure';
import { compileOne, execution, failureOf } from './support';

const config = (calls: number, seconds: number): QuotaConfig => ({
  calls,
  renewalPeriodSeconds: seconds,
  counters: new Map(),
});

describe('quota counts per subscription in fixed periods from its start (quota-policy.md)', () => {
  it('renews at the end of each period, not a period after each call', () => {
    const quota = config(2, 100);
    const at = (seconds: number) => consume(quota, 'sub', seconds * 1000);
    expect(at(0)).toBeUndefined();
    expect(at(1)).toBeUndefined();
    expect(at(2)).toBe(98);
    expect(at(99)).toBe(1);
    expect(at(100)).toBeUndefined();
    expect(at(150)).toBeUndefined();
    expect(at(199)).toBe(1);
  });

  it('never renews with renewal-period 0 (a lifetime quota)', () => {
    const quota = config(1, 0);
    expect(consume(quota, 'sub', 0)).toBeUndefined();
    expect(consume(quota, 'sub', 10 ** 12)).toBe(0);
  });

  it('answers 403 with Retry-After and the time to renewal', async () => {
    const statement = compileOne('<quota calls="1" renewal-period="3700" />', 'product');
    const run = execution({ now: () => 0 });
    await statement.run(run);
    const failure = (await failureOf(statement, run)) as PolicyFailure;
    expect(failure).toBeInstanceOf(PolicyFailure);
    expect(failure.response.status).toBe(403);
    expect(failure.response.headers.get('retry-after')).toEqual(['3700']);
    expect(JSON.parse(failure.response.body.toString())).toEqual({
      statusCode: 403,
      message: 'Out of call volume quota. Quota will be replenished in 01:01:40.',
    });
  });

  it.each([
    ['at API scope', '<quota calls="5" renewal-period="60" />', 'api', /not allowed at api scope/],
    ['bandwidth', '<quota bandwidth="100" renewal-period="60" />', 'product', /"bandwidth"/],
    ['no calls', '<quota renewal-period="60" />', 'product', /"calls"/],
    [
      'an <api> child',
      '<quota calls="5" renewal-period="60"><api name="x" calls="1" /></quota>',
      'product',
      /<api> inside <quota>/,
    ],
  ] as const)('does not run %s (names it at start instead)', (_what, xml, scope, message) => {
    expect(() => compileOne(xml, scope)).toThrow(message);
  });
});
