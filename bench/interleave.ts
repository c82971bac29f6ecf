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

/** Per-call times (ns) of two cases called in alternation, and the difference within each pair. */
export interface Paired {
  a: number[];
  b: number[];
  /** `b − a` of each pair. */
  diff: number[];
}

/**
 * `a` and `b` called one after the other, `pairs` times (a then b, then b then a, …), each call timed
 * alone, after `warmup` untimed pairs; `between` (untimed) runs before every call. The finest
 * interleaving: a slow spell of the machine falls on both calls of a pair, and the median of the
 * per-pair differences is the overhead of `b` over `a`.
 */
export async function paired(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  options: { pairs: number; warmup: number; between?: () => void },
): Promise<Paired> {
  const between = options.between ?? (() => {});
  const time = async (run: () => Promise<unknown>) => {
    between();
    const start = process.hrtime.bigint();
    await run();
    return Number(process.hrtime.bigint() - start);
  };
  for (let i = 0; i < options.warmup; i++) {
    await a();
    await b();
  }
  const out: Paired = { a: [], b: [], diff: [] };
  for (let i = 0; i < options.pairs; i++) {
    let ta: number;
    let tb: number;
    if (i % 2 === 0) {
      ta = await time(a);
      tb = await time(b);
    } else {
      tb = await time(b);
      ta = await time(a);
    }
    out.a.push(ta);
    out.b.push(tb);
    out.diff.push(tb - ta);
  }
  return out;
}

/** A table row of a {@link Paired} run: the label, then median (p25–p75) of each side and of the differences. */
export const pairRow = (label: string, p: Paired, digits = 1): string[] => [
  label,
  us(spread(p.a), digits),
  us(spread(p.b), digits),
  us(spread(p.diff), digits),
];
