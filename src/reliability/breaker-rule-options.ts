/** The `rule` option of `createCircuitBreaker`: which strategy trips a CLOSED breaker. */
import type { BreakerRule, SlidingWindow } from '../../machines/breaker-rule.js';
import { checkNumber } from '../validate.js';

export type { BreakerRule, SlidingWindow };

/**
 * How a CLOSED breaker decides to trip.
 * - `{ kind: 'consecutive' }` (the default): `failureThreshold` failures in a row.
 * - `{ kind: 'failureRate', … }` (resilience4j's sliding window): the share of failed calls over the
 *   last `window.size` calls or the last `window.ms` milliseconds reaches `failureRateThreshold`, once
 *   the window holds `minimumCalls` calls. It trips a flapping backend that the consecutive rule never
 *   sees failing long enough in a row.
 */
export type BreakerRuleOptions =
  | { kind: 'consecutive' }
  | {
      kind: 'failureRate';
      /** Share of failed calls that trips, in (0, 1]. Default 0.5. */
      failureRateThreshold?: number;
      /** Calls in the window before it can trip. Default 10 (at most the count window's size). */
      minimumCalls?: number;
      /** Default `{ kind: 'count', size: 20 }`. */
      window?: SlidingWindow;
    };

/** Defaults of the failure-rate rule. */
export const FAILURE_RATE_DEFAULTS = {
  failureRateThreshold: 0.5,
  minimumCalls: 10,
  window: { kind: 'count', size: 20 },
} as const satisfies Required<Omit<Extract<BreakerRuleOptions, { kind: 'failureRate' }>, 'kind'>>;

/** Validates `rule` and fills its defaults. */
export function resolveBreakerRule(rule: BreakerRuleOptions | undefined): BreakerRule {
  if (rule === undefined || rule.kind === 'consecutive') return { kind: 'consecutive' };
  if (rule.kind !== 'failureRate')
    throw new RangeError(
      `rule.kind must be 'consecutive' or 'failureRate', got ${String((rule as { kind?: unknown }).kind)}`,
    );
  const source = rule.window ?? FAILURE_RATE_DEFAULTS.window;
  let window: SlidingWindow;
  if (source.kind === 'count') {
    window = {
      kind: 'count',
      size: checkNumber('rule.window.size', source.size, { positive: true, integer: true }),
    };
  } else if (source.kind === 'time') {
    window = { kind: 'time', ms: checkNumber('rule.window.ms', source.ms, { positive: true }) };
  } else {
    throw new RangeError(`rule.window.kind must be 'count' or 'time'`);
  }
  const minimumCalls = checkNumber(
    'rule.minimumCalls',
    rule.minimumCalls ?? FAILURE_RATE_DEFAULTS.minimumCalls,
    {
      positive: true,
      integer: true,
    },
  );
  const failureRateThreshold = checkNumber(
    'rule.failureRateThreshold',
    rule.failureRateThreshold ?? FAILURE_RATE_DEFAULTS.failureRateThreshold,
    { positive: true, max: 1 },
  );
  return {
    kind: 'failureRate',
    failureRateThreshold,
    minimumCalls: window.kind === 'count' ? Math.min(minimumCalls, window.size) : minimumCalls,
    window,
  };
}
