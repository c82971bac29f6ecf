/*
 * The breaker rule each built-in backend kind uses by default (`BackendKindPlugin.defaultBreakerRule`),
 * chosen from the storm tables (`npx tsx bench/storm-report.ts`; README, "In production"). The
 * standalone `createCircuitBreaker` keeps the contract's consecutive rule.
 */
import type { BreakerRuleOptions } from '../../reliability/breaker-rule-options.js';

/** `failureThreshold` failures in a row: connection-oriented kinds (`websocket`, `webmcp-page`). */
export const CONSECUTIVE_RULE: BreakerRuleOptions = Object.freeze({ kind: 'consecutive' });

/**
 * 50 % of the last 100 calls failed, once 20 calls are in the window: request/response kinds (`http`,
 * `mcp`), where a backend that fails part of its calls — flapping, or failing at random — is the
 * common case that the consecutive rule never sees. The window is long enough for the adaptive
 * throttle to act first on an overloaded backend: with a 20-call window the onset of overload (half
 * the calls failing before the throttle has seen 20 answers) tripped the breaker for 30 s, and the
 * backend served 7 calls/s instead of 500 (storm table B).
 */
export const FAILURE_RATE_RULE: BreakerRuleOptions = Object.freeze({
  kind: 'failureRate',
  failureRateThreshold: 0.5,
  minimumCalls: 20,
  window: Object.freeze({ kind: 'count', size: 100 }),
});
