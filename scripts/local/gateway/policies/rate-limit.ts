import { PolicyFailure } from '../failure';
import { apimResponse } from '../messages';
import { policyElement } from './element';

/**
 * `rate-limit` (learn.microsoft.com/azure/api-management/rate-limit-policy): at most `calls`
 * calls per subscription in any `renewal-period` seconds (a sliding window; at most 300 s).
 * Rejected calls get 429 `{"statusCode":429,"message":"Rate limit is exceeded. Try again in N
 * seconds."}` with `Retry-After`, and go to on-error. API Management counts approximately across
 * its nodes; this counts exactly, in this process. Product, API and operation scope only.
 */

/** The longest `renewal-period` API Management accepts, in seconds. */
export const MAX_RENEWAL_PERIOD_SECONDS = 300;

export interface RateLimitConfig {
  readonly calls: number;
  readonly renewalPeriodSeconds: number;
  /**
   * Per subscription: the times of the last `calls` calls let through, as a ring (`next` is the
   * oldest once it is full). O(1) per call, memory at most `calls` times per subscription.
   */
  readonly windows: Map<string, { readonly times: number[]; next: number }>;
}

/**
 * Counts one call; the seconds to wait when it is over the limit, else undefined. A call goes
 * through when fewer than `calls` calls went through in the last period, that is when the
 * `calls`-th most recent one is at least a period old. Rejected calls are not counted.
 */
export function admit(
  config: RateLimitConfig,
  subscriptionId: string,
  now: number,
): number | undefined {
  const period = config.renewalPeriodSeconds * 1000;
  let window = config.windows.get(subscriptionId);
  if (!window) {
    window = { times: [], next: 0 };
    config.windows.set(subscriptionId, window);
  }
  if (window.times.length < config.calls) {
    window.times.push(now);
    return undefined;
  }
  const oldest = window.times[window.next]!;
  if (now - oldest >= period) {
    window.times[window.next] = now;
    window.next = (window.next + 1) % config.calls;
    return undefined;
  }
  return Math.max(1, Math.ceil((oldest + period - now) / 1000));
}

export default policyElement<RateLimitConfig>({
  name: 'rate-limit',
  sections: ['inbound'],
  scopes: ['product', 'api'],
  attributes: ['calls', 'renewal-period'],
  parse(element, attributes, { reader }) {
    const calls = reader.wholeNumber(element, attributes, 'calls');
    const renewalPeriodSeconds = reader.wholeNumber(element, attributes, 'renewal-period', {
      max: MAX_RENEWAL_PERIOD_SECONDS,
    });
    reader.noChildren(element);
    return { calls, renewalPeriodSeconds, windows: new Map() };
  },
  execute(config, { state, services }) {
    const retryAfter = admit(config, state.subscriptionId, services.now());
    if (retryAfter === undefined) return;
    throw new PolicyFailure(
      'rate-limit',
      'RateLimitExceeded',
      apimResponse(429, `Rate limit is exceeded. Try again in ${retryAfter} seconds.`, {
        'Retry-After': String(retryAfter),
      }),
    );
  },
});
