import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import rateLimit, {
  admit,
  type RateLimitConfig,
} from '../../../../scripts/local/gateway/policies/rate-limit';
import { PolicyFailure } from '../../../../scripts/local/gateway/failure';
import { compileOne, execution, failureOf } from './support';

const config = (calls: number, seconds: number): RateLimitConfig => ({
  calls,
  renewalPeriodSeconds: seconds,
  windows: new Map(),
});

describe('rate-limit counts in a sliding window (rate-limit-policy.md), per subscription', () => {
  it('lets a call through once the oldest call in the window is renewal-period old', () => {
    const limit = config(2, 10);
    const at = (seconds: number) => admit(limit, 'sub', seconds * 1000);
    expect(at(0)).toBeUndefined();
    expect(at(5)).toBeUndefined();
    expect(at(9)).toBe(1); // the call at 0 leaves the window at 10
    expect(at(10)).toBeUndefined();
    // A fixed window restarted at 10 would let this through; the sliding one still holds 5 and 10.
    expect(at(12)).toBe(3);
    expect(at(15)).toBeUndefined();
  });

  it('agrees with counting every call in the last period, for any sequence of calls', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 60 }),
        (calls, seconds, gaps) => {
          const limit = config(calls, seconds);
          const admitted: number[] = [];
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            const inWindow = admitted.filter((at) => now - at < seconds * 1000).length;
            const expected = inWindow < calls;
            expect(admit(limit, 'sub', now) === undefined).toBe(expected);
            if (expected) admitted.push(now);
          }
        },
      ),
    );
  });

  it('does not count rejected calls, and counts each subscription apart', () => {
    const limit = config(1, 60);
    expect(admit(limit, 'a', 0)).toBeUndefined();
    for (let s = 1; s < 60; s += 10) expect(admit(limit, 'a', s * 1000)).toBeGreaterThan(0);
    expect(admit(limit, 'a', 60_000)).toBeUndefined();
    expect(admit(limit, 'b', 1000)).toBeUndefined();
  });

  it("answers 429 with API Management's body and Retry-After", async () => {
    const statement = compileOne('<rate-limit calls="1" renewal-period="30" />', 'product');
    const run = execution({ now: () => 1_000 });
    await statement.run(run);
    const failure = await failureOf(statement, run);
    expect(failure).toBeInstanceOf(PolicyFailure);
    const { response, reason } = failure as PolicyFailure;
    expect(reason).toBe('RateLimitExceeded');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toEqual(['30']);
    expect(JSON.parse(response.body.toString())).toEqual({
      statusCode: 429,
      message: 'Rate limit is exceeded. Try again in 30 seconds.',
    });
  });

  it.each([
    ['renewal-period over 300', '<rate-limit calls="5" renewal-period="301" />', /from 1 to 300/],
    ['no calls', '<rate-limit calls="0" renewal-period="60" />', /"calls"/],
    [
      'at global scope',
      '<rate-limit calls="5" renewal-period="60" />',
      /not allowed at global scope/,
    ],
  ])('does not run %s (names it at start instead)', (what, xml, message) => {
    expect(() => compileOne(xml, what === 'at global scope' ? 'global' : 'product')).toThrow(
      message,
    );
  });

  it('keeps its windows with the statement: two occurrences count apart', () => {
    const first = compileOne('<rate-limit calls="1" renewal-period="60" />', 'product');
    const second = compileOne('<rate-limit calls="1" renewal-period="60" />', 'product');
    expect(rateLimit.configOf(first)!.windows).not.toBe(rateLimit.configOf(second)!.windows);
  });
});
