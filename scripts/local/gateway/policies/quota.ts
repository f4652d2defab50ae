import { PolicyFailure } from '../failure';
import { apimResponse } from '../messages';
import { policyElement } from './element';

/**
 * `quota` (learn.microsoft.com/azure/api-management/quota-policy; all tiers, Consumption
 * included; product scope only): at most `calls` calls per subscription in each fixed
 * `renewal-period` (seconds; 0 for a lifetime quota), periods counted from the subscription's
 * start, which locally is the subscription's first call. Over it: 403 with `Retry-After`, and
 * on-error. `bandwidth` and the `<api>`/`<operation>` children are not implemented.
 */

export interface QuotaConfig {
  readonly calls: number;
  readonly renewalPeriodSeconds: number;
  /** Per subscription: when its periods started, and the calls in the current one. */
  readonly counters: Map<string, { readonly start: number; period: number; count: number }>;
}

function replenishedIn(seconds: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const hours = Math.floor(seconds / 3600);
  return `${pad(hours)}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

/** Counts one call; the seconds until the quota renews when it is used up, else undefined. */
export function consume(
  config: QuotaConfig,
  subscriptionId: string,
  now: number,
): number | undefined {
  let counter = config.counters.get(subscriptionId);
  if (!counter) {
    counter = { start: now, period: 0, count: 0 };
    config.counters.set(subscriptionId, counter);
  }
  const length = config.renewalPeriodSeconds * 1000;
  const period = length === 0 ? 0 : Math.floor((now - counter.start) / length);
  if (period !== counter.period) {
    counter.period = period;
    counter.count = 0;
  }
  if (counter.count < config.calls) {
    counter.count += 1;
    return undefined;
  }
  if (length === 0) return 0;
  return Math.max(1, Math.ceil((counter.start + (period + 1) * length - now) / 1000));
}

export default policyElement<QuotaConfig>({
  name: 'quota',
  sections: ['inbound'],
  scopes: ['product'],
  attributes: ['calls', 'renewal-period'],
  parse(element, attributes, { reader }) {
    const calls = reader.wholeNumber(element, attributes, 'calls');
    const renewalPeriodSeconds = reader.wholeNumber(element, attributes, 'renewal-period', {
      min: 0,
    });
    reader.noChildren(element);
    return { calls, renewalPeriodSeconds, counters: new Map() };
  },
  execute(config, { state, services }) {
    const renewsIn = consume(config, state.subscriptionId, services.now());
    if (renewsIn === undefined) return;
    const message =
      renewsIn === 0
        ? 'Out of call volume quota.'
        : `Out of call volume quota. Quota will be replenished in ${replenishedIn(renewsIn)}.`;
    throw new PolicyFailure(
      'quota',
      'QuotaExceeded',
      apimResponse(403, message, renewsIn === 0 ? {} : { 'Retry-After': String(renewsIn) }),
    );
  },
});
