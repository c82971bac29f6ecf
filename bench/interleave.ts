/*
 * Interleaved timing: every case runs once per round, rounds repeated, so a load spike on a busy
 * machine falls on all cases alike instead of on whichever ran at that moment. Reported as the median
 * of the per-round figures with their spread (25th–75th percentile).
 */

export interface TimedCase {
  name: string;
  run: () => Promise<unknown> | unknown;
}

export interface Spread {
  median: number;
  p25: number;
  p75: number;
}

/** Nanoseconds per awaited call of `run` over `ops` calls. */
export async function nsPerCall(run: () => Promise<unknown> | unknown, ops: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await run();
  return Number(process.hrtime.bigint() - start) / ops;
}

/** Per-round ns per call of every case: `samples[case][round]`. */
export async function interleaved(
  cases: readonly TimedCase[],
  options: { rounds: number; ops: number; warmup: number },
): Promise<number[][]> {
  for (const c of cases) await nsPerCall(c.run, options.warmup);
  const samples = cases.map(() => [] as number[]);
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, c] of cases.entries()) samples[i]?.push(await nsPerCall(c.run, options.ops));
  }
  return samples;
}

const quantile = (sorted: readonly number[], q: number): number => {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
};

/** Median and quartiles of `values`. */
export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p25: quantile(sorted, 0.25), p75: quantile(sorted, 0.75) };
}

/** Round-by-round differences `a[i] − b[i]`: the overhead of a over b measured in the same rounds. */
export const differences = (a: readonly number[], b: readonly number[]): number[] =>
  a.map((x, i) => x - (b[i] as number));

/** "median (p25–p75)" in µs from ns. */
export const us = (s: Spread, digits = 1): string =>
  `${(s.median / 1000).toFixed(digits)} (${(s.p25 / 1000).toFixed(digits)}–${(s.p75 / 1000).toFixed(digits)})`;
