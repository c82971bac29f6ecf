/*
 * zod pieces every kind's `configSchema` shares: the bridge-level settings of a `backends.<name>`
 * entry (`critical`, `enabled`) and URL checks whose errors say what was expected.
 */
import { z } from 'zod';

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
