/** The parts of a retry policy that shape its delays. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  baseDelayMs: number;
  /** Upper bound of every delay, jitter included. */
  maxDelayMs: number;
  /** Relative spread: 0.2 draws each delay within ±20 % of its exponential value. */
  jitter: number;
}

/**
 * The wait before retry `k` (k = 0 for the first retry):
 * `min(maxDelayMs, min(maxDelayMs, baseDelayMs·2^k) · (1 + jitter·(2·random() − 1)))`.
 * `random` returns a number in [0, 1).
 */
export function backoffDelay(k: number, options: BackoffOptions, random: () => number): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** k);
  return Math.min(options.maxDelayMs, exponential * (1 + options.jitter * (2 * random() - 1)));
}

/** `random` for deterministic delays: the middle of the jitter band. */
export const middleOfBand = (): number => 0.5;
