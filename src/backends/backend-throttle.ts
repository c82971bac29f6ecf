/*
 * Adaptive throttling of one backend (see reliability/throttle.ts), as the HTTP and MCP backends use
 * it: asked before each attempt (never while the breaker is OPEN: the breaker already refuses, and a
 * refused call tells the throttle nothing), told after each attempt that reached the backend whether
 * the backend accepted it. Only overload signals count as not accepted: HTTP 429 and 503, timeouts,
 * refused connections. Any other answer, errors included, shows the backend serving.
 */
import type { Clock } from '../clock.js';
import { type AdaptiveThrottle, createAdaptiveThrottle, ThrottledError } from '../reliability/throttle.js';

/** `throttle` in a backend's config: the throttle's `k` and `windowMs`, or `false` to turn it off. */
export type BackendThrottleConfig = { k?: number; windowMs?: number; minimumRequests?: number } | false;

/**
 * Defaults of a backend's throttle: k = 1.05, a one-minute window, and no local rejection before the
 * window holds 20 requests (one failed call of a quiet backend must not halve its traffic). k = 1.05,
 * not the SRE book's 2, from the storm tables (table B): an overloaded backend then receives about
 * 1.05× its capacity and serves all of it, where k = 2 sends it 2× — and the failures of that excess
 * trip the breaker, which then refuses everything for 30 s. The load settles at k × accepts, so a
 * target of ≤ 1.1× needs k below 1.1 (at 1.1 exactly it sits on the limit). The price: the throttle
 * starts refusing once more than 1 − 1/k (4.8 %) of the requests in the window were refused for
 * overload (429, 503, timeouts).
 */
export const BACKEND_THROTTLE_DEFAULTS = { k: 1.05, windowMs: 60_000, minimumRequests: 20 } as const;

/** What a health line and the metrics show of a throttle. */
export interface ThrottleState {
  /** Whether the throttle currently rejects requests locally. */
  throttling: boolean;
  /** Probability that the next request is rejected locally, in [0, 1). */
  rejectProbability: number;
}

export interface BackendThrottle {
  /** Undefined when the attempt may go; the error to reject it with otherwise. */
  refusal(breakerOpen: boolean): ThrottledError | undefined;
  /** An attempt reached the backend and ended with `error` (undefined: it succeeded). */
  record(error: unknown): void;
  state(): ThrottleState;
}

/** Whether `error` says the backend is overloaded or unreachable (429, 503, a timeout, a refused connection). */
export function isOverloadSignal(error: unknown): boolean {
  const e = error as { name?: unknown; status?: unknown; cause?: unknown; code?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'HttpStatusError') return e.status === 429 || e.status === 503;
  if (typeof e.name === 'string' && /TimeoutError$/.test(e.name)) return true;
  for (let cause: unknown = e, depth = 0; cause && depth < 4; depth++) {
    if ((cause as { code?: unknown }).code === 'ECONNREFUSED') return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/** The throttle of backend `name`, or undefined when `config` is `false`. */
export function createBackendThrottle(
  name: string,
  config: BackendThrottleConfig | undefined,
  deps: { clock: Clock; random: () => number },
): BackendThrottle | undefined {
  if (config === false) return undefined;
  const throttle: AdaptiveThrottle = createAdaptiveThrottle({
    k: config?.k ?? BACKEND_THROTTLE_DEFAULTS.k,
    windowMs: config?.windowMs ?? BACKEND_THROTTLE_DEFAULTS.windowMs,
    // Below it nothing is refused (a request counts once its outcome is recorded).
    minimumRequests: config?.minimumRequests ?? BACKEND_THROTTLE_DEFAULTS.minimumRequests,
    clock: deps.clock,
    random: deps.random,
  });
  // The hint: one slice of the window, about when the accepts counted so far start to age out.
  const retryAfterMs = Math.ceil((config?.windowMs ?? BACKEND_THROTTLE_DEFAULTS.windowMs) / 20);
  return {
    refusal(breakerOpen) {
      if (breakerOpen || throttle.admit()) return undefined;
      return new ThrottledError(name, throttle.snapshot().rejectProbability, retryAfterMs);
    },
    record(error) {
      throttle.record(error === undefined || !isOverloadSignal(error));
    },
    state() {
      const { throttling, rejectProbability } = throttle.snapshot();
      return { throttling, rejectProbability };
    },
  };
}
