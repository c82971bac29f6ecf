import type { BreakerState } from '../../machines/breaker.machine.js';

/** A circuit breaker refused a call without running it. */
export class BrokenCircuitError extends Error {
  override readonly name = 'BrokenCircuitError';
  /** Whole milliseconds until the breaker will admit a call again (0 when HALF_OPEN). */
  readonly retryAfterMs: number;
  constructor(
    /** Name of the breaker that refused the call. */
    readonly breaker: string,
    /** The breaker's state when it refused: OPEN, or HALF_OPEN with every trial slot taken. */
    readonly state: BreakerState,
    /** Milliseconds until the breaker will admit a call again; rounded up to a whole number. */
    retryAfterMs: number,
  ) {
    const whole = Math.max(0, Math.ceil(retryAfterMs));
    super(
      state === 'OPEN'
        ? `Circuit breaker "${breaker}" is OPEN; it admits a trial call in ${whole} ms`
        : `Circuit breaker "${breaker}" is HALF_OPEN and all its trial slots are taken`,
    );
    this.retryAfterMs = whole;
  }
}

/** A call was not admitted because its breaker was stopped. */
export class BreakerStoppedError extends Error {
  override readonly name = 'BreakerStoppedError';
  constructor(readonly breaker: string) {
    super(`Circuit breaker "${breaker}" is stopped`);
  }
}

/**
 * A `BrokenCircuitError` for a whole refusal period, shared by every call refused in it: built once
 * (without a stack: it would only show the breaker's own frames), its `retryAfterMs`, `message` and
 * `stack` computed from `reopensAt` when read. Cheap fast-fail during an outage: no error built per
 * refusal.
 */
export function refusalFor(
  breaker: string,
  state: BreakerState,
  reopensAt: number | null,
  clock: { now(): number },
): BrokenCircuitError {
  // V8 only: a refusal's stack would show this function alone; skipping its capture is cheaper.
  const V8Error = Error as { stackTraceLimit?: number };
  const stackTraceLimit = V8Error.stackTraceLimit;
  V8Error.stackTraceLimit = 0;
  let error: BrokenCircuitError;
  try {
    error = new BrokenCircuitError(breaker, state, 0);
  } finally {
    V8Error.stackTraceLimit = stackTraceLimit;
  }
  if (reopensAt === null) return error;
  const retryAfterMs = () => Math.max(0, Math.ceil(reopensAt - clock.now()));
  const message = () =>
    `Circuit breaker "${breaker}" is OPEN; it admits a trial call in ${retryAfterMs()} ms`;
  Object.defineProperties(error, {
    retryAfterMs: { get: retryAfterMs, enumerable: true, configurable: true },
    message: { get: message, configurable: true },
    stack: { get: () => `${error.name}: ${message()}`, configurable: true },
  });
  return error;
}
