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

/** `options`: passed to the backend's factory (timeouts, breaker, retry, …). */
export const backendOptionsSetting = z
  .record(z.string(), z.unknown(), { error: 'expected an object' })
  .optional();
