/*
 * zod pieces every kind's `configSchema` shares: the bridge-level settings of a `backends.<name>`
 * entry (`critical`, `enabled`), the `throttle` and `breaker` settings, and URL checks whose errors
 * say what was expected.
 */
import { z } from 'zod';
import type { BreakerRuleOptions } from '../../reliability/breaker-rule-options.js';

export const EXPECTED_URL = 'expected a URL';

/** A URL string whose scheme is one of `protocols` (e.g. `['ws:', 'wss:']`). */
export function urlSetting(protocols: readonly string[]) {
  const expected = `expected a ${protocols.map((p) => `${p}//`).join(' or ')} URL`;
  return z.string({ error: EXPECTED_URL }).superRefine((value, context) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      context.addIssue({ code: 'custom', message: EXPECTED_URL });
      return;
    }
    if (!protocols.includes(url.protocol)) context.addIssue({ code: 'custom', message: expected });
  });
}

/** Settings of every `backends.<name>` entry, whatever its kind. */
export const commonBackendSettings = {
  /** A critical backend that fails makes the whole health report `fail`. */
  critical: z.boolean({ error: 'expected true or false' }).optional(),
  /** `false` leaves the backend out. */
  enabled: z.boolean({ error: 'expected true or false' }).optional(),
};

/**
 * `throttle`: client-side adaptive throttling of an HTTP or MCP backend (see backend-throttle.ts),
 * `{ k, windowMs, minimumRequests }` or `false` to turn it off. On by default.
 */
export const throttleSetting = z
  .union([
    z.literal(false),
    z.strictObject({
      k: z.number().positive().optional(),
      windowMs: z.number().positive().optional(),
      minimumRequests: z.number().int().min(0).optional(),
    }),
  ])
  .optional();

/** `options`: passed to the backend's factory (timeouts, breaker, retry, …). */
export const backendOptionsSetting = z
  .record(z.string(), z.unknown(), { error: 'expected an object' })
  .optional();

const positiveInteger = z
  .number({ error: 'expected a positive integer' })
  .int({ error: 'expected a positive integer' })
  .positive({ error: 'expected a positive integer' });
const positiveMs = z
  .number({ error: 'expected a positive number of milliseconds' })
  .positive({ error: 'expected a positive number of milliseconds' });

/** `breaker.rule.window`: the last `size` calls, or the last `ms` milliseconds. */
const slidingWindowSetting = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('count'), size: positiveInteger }),
    z.strictObject({ kind: z.literal('time'), ms: positiveMs }),
  ],
  { error: "expected { kind: 'count', size } or { kind: 'time', ms }" },
);

/** `breaker.rule`: the breaker's trip rule, exactly `createCircuitBreaker`'s `rule` option. */
export const breakerRuleSetting: z.ZodType<BreakerRuleOptions> = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('consecutive') }),
    z.strictObject({
      kind: z.literal('failureRate'),
      failureRateThreshold: z
        .number({ error: 'expected a number in (0, 1]' })
        .positive({ error: 'expected a number in (0, 1]' })
        .max(1, { error: 'expected a number in (0, 1]' })
        .optional(),
      minimumCalls: positiveInteger.optional(),
      window: slidingWindowSetting.optional(),
    }),
  ],
  { error: "expected { kind: 'consecutive' } or { kind: 'failureRate', … }" },
);

/**
 * `breaker`: the backend's circuit breaker — its trip `rule` (default: the kind's, see
 * `BackendKindPlugin.defaultBreakerRule`; the consecutive rule when `failureThreshold` is given),
 * `failureThreshold` (the consecutive rule's), and the OPEN / HALF_OPEN settings. Each kind's own
 * defaults apply to what is left out.
 */
export const breakerSetting = z
  .strictObject(
    {
      rule: breakerRuleSetting.optional(),
      failureThreshold: positiveInteger.optional(),
      resetTimeoutMs: positiveMs.optional(),
      halfOpenMaxCalls: positiveInteger.optional(),
      successThreshold: positiveInteger.optional(),
      resetJitter: z
        .number({ error: 'expected a number in [0, 1)' })
        .min(0, { error: 'expected a number in [0, 1)' })
        .lt(1, { error: 'expected a number in [0, 1)' })
        .optional(),
    },
    { error: 'expected an object' },
  )
  .optional();

export type BreakerSetting = z.infer<typeof breakerSetting>;

/**
 * `breaker` with its `rule` filled: the given one; else the consecutive rule when a
 * `failureThreshold` is given (the only rule that reads it: a threshold is never silently ignored);
 * else the kind's `defaultRule`.
 */
export function withBreakerRule<B extends { rule?: BreakerRuleOptions; failureThreshold?: number }>(
  breaker: B | undefined,
  defaultRule: BreakerRuleOptions,
): B & { rule: BreakerRuleOptions } {
  const implied: BreakerRuleOptions | undefined =
    breaker?.failureThreshold === undefined ? undefined : { kind: 'consecutive' };
  return { ...(breaker ?? ({} as B)), rule: breaker?.rule ?? implied ?? defaultRule };
}
