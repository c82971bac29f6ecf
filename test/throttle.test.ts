import { describe, expect, test } from 'vitest';
import { runStorm } from '../bench/storm.js';
import { perSlot } from '../bench/storm-sim.js';
import { createManualClock } from '../src/clock.js';
import { mulberry32 } from '../src/lab/faults.js';
import { createAdaptiveThrottle, ThrottledError, throttled } from '../src/reliability/throttle.js';

const draws = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('createAdaptiveThrottle', () => {
  test('admits everything while the backend accepts at least 1/k of the requests', () => {
    const throttle = createAdaptiveThrottle({ clock: createManualClock(), random: () => 0 });
    for (let i = 0; i < 100; i++) {
      expect(throttle.admit()).toBe(true);
      throttle.record(i % 2 === 0); // exactly half accepted: requests − 2 · accepts ≤ 0
    }
    expect(throttle.snapshot()).toMatchObject({
      requests: 100,
      accepts: 50,
      rejectProbability: 0,
      throttling: false,
      totalRejected: 0,
    });
  });

  test('rejects with probability (requests − k · accepts) / (requests + 1)', () => {
    // random() = 0.999: every request below is admitted, then answered.
    const throttle = createAdaptiveThrottle({ clock: createManualClock(), random: () => 0.999 });
    for (let i = 0; i < 10; i++) {
      expect(throttle.admit()).toBe(true);
      throttle.record(i < 2);
    }
    expect(throttle.snapshot()).toMatchObject({ requests: 10, accepts: 2, throttling: true });
    expect(throttle.snapshot().rejectProbability).toBeCloseTo(6 / 11, 12);
  });

  test('draws against the probability: admitted when random() ≥ p, refused below', () => {
    const clock = createManualClock();
    const make = (r: number) => {
      const throttle = createAdaptiveThrottle({ clock, random: () => r });
      for (let i = 0; i < 9; i++) throttle.record(false); // 9 requests answered, none accepted
      return throttle;
    };
    // 9 requests, 0 accepts: p = 9 / 10.
    expect(make(0.91).admit()).toBe(true);
    expect(make(0.89).admit()).toBe(false);
  });

  test('locally rejected requests count as requests: a dead backend is shed almost entirely', () => {
    const throttle = createAdaptiveThrottle({ clock: createManualClock(), random: mulberry32(3) });
    let admitted = 0;
    for (let i = 0; i < 10_000; i++) {
      if (!throttle.admit()) continue;
      admitted++;
      throttle.record(false);
    }
    const snapshot = throttle.snapshot();
    expect(snapshot.requests).toBe(10_000);
    expect(snapshot.totalRejected).toBe(10_000 - admitted);
    // The expected number admitted is Σ 1/(n+1) ≈ ln(10 000) ≈ 9.8: a few keep probing the backend.
    expect(admitted).toBeGreaterThan(0);
    expect(admitted).toBeLessThan(30);
    expect(snapshot.rejectProbability).toBeCloseTo(10_000 / 10_001, 12);
  });

  test('k is configurable: k = 1.1 sheds down to 1.1 × accepts', () => {
    const throttle = createAdaptiveThrottle({ k: 1.1, clock: createManualClock(), random: () => 0.999 });
    for (let i = 0; i < 100; i++) {
      throttle.admit();
      throttle.record(i % 2 === 0);
    }
    // 100 requests, 50 accepts: (100 − 55) / 101.
    expect(throttle.snapshot().rejectProbability).toBeCloseTo(45 / 101, 12);
  });

  test('counts leave the window after windowMs (buckets of windowMs / 20)', async () => {
    const clock = createManualClock();
    const throttle = createAdaptiveThrottle({
      clock,
      windowMs: 2_000,
      random: draws(...Array(10).fill(0.999), 0.5),
    });
    for (let i = 0; i < 10; i++) {
      throttle.admit(); // t = 0, no accepts
      throttle.record(false);
    }
    await clock.advance(1_000);
    expect(throttle.snapshot().requests).toBe(10);
    await clock.advance(999); // t = 1 999: still in the window
    expect(throttle.snapshot()).toMatchObject({ requests: 10, throttling: true });
    await clock.advance(1); // t = 2 000: gone
    expect(throttle.snapshot()).toMatchObject({ requests: 0, accepts: 0, throttling: false });
    expect(throttle.admit()).toBe(true);
  });

  test('the default window is two minutes', async () => {
    const clock = createManualClock();
    const throttle = createAdaptiveThrottle({ clock, random: () => 0.999 });
    for (let i = 0; i < 10; i++) {
      throttle.admit();
      throttle.record(false);
    }
    await clock.advance(119_999);
    expect(throttle.snapshot().requests).toBe(10);
    await clock.advance(1);
    expect(throttle.snapshot().requests).toBe(0);
  });

  test('requests still in flight do not count: a backend that accepts every request is never throttled', async () => {
    const clock = createManualClock();
    // random() = 0 admits a request only while the reject probability is exactly 0.
    const throttle = createAdaptiveThrottle({ k: 1.1, clock, random: () => 0 });
    let rejected = 0;
    for (let ms = 0; ms < 1_000; ms++) {
      for (let i = 0; i < 10; i++) {
        if (throttle.admit()) clock.setTimeout(() => throttle.record(true), 10);
        else rejected++;
      }
      await clock.advance(1);
    }
    expect(rejected).toBe(0);
    expect(throttle.snapshot()).toMatchObject({ rejectProbability: 0, totalRejected: 0 });
  });

  test('k = 1.1 holds a backend of 500 calls/s under 1 000 calls/s at ≤ 1.1× its capacity, serving near capacity', async () => {
    const clock = createManualClock();
    const throttle = createAdaptiveThrottle({ k: 1.1, windowMs: 60_000, clock, random: mulberry32(11) });
    // One request per ms. The backend: a token bucket of 500 per second (5 in reserve), each answer
    // 10 ms after its request.
    let tokens = 5;
    const received: number[] = [];
    const served: number[] = [];
    for (let ms = 0; ms < 20_000; ms++) {
      const second = Math.floor(ms / 1_000);
      tokens = Math.min(5, tokens + 0.5);
      if (throttle.admit()) {
        received[second] = (received[second] ?? 0) + 1;
        const accepted = tokens >= 1;
        if (accepted) {
          tokens -= 1;
          served[second] = (served[second] ?? 0) + 1;
        }
        clock.setTimeout(() => throttle.record(accepted), 10);
      }
      await clock.advance(1);
    }
    const mean = (counts: number[]) => counts.slice(10, 20).reduce((a, b) => a + b, 0) / 10;
    // From 10 s on: on average at most 1.1× the capacity reaches it (each second is a random draw
    // around that), and it serves at least 95 % of its capacity.
    expect(mean(received)).toBeLessThanOrEqual(550);
    expect(Math.max(...received.slice(10, 20))).toBeLessThanOrEqual(600);
    expect(mean(served)).toBeGreaterThanOrEqual(475);
  });

  test('rejects invalid options', () => {
    expect(() => createAdaptiveThrottle({ k: 0 })).toThrow(RangeError);
    expect(() => createAdaptiveThrottle({ windowMs: 0 })).toThrow(RangeError);
  });
});

describe('throttled(throttle, fn)', () => {
  test('a refused request fails fast with ThrottledError and never calls fn', async () => {
    const throttle = createAdaptiveThrottle({ clock: createManualClock(), random: () => 0 });
    throttle.record(false); // one request answered, none accepted: p = 1/2 > 0
    let called = 0;
    const error = await throttled(throttle, () => called++, { name: 'lmStudio', retryAfterMs: 250 }).catch(
      (e: unknown) => e,
    );
    expect(called).toBe(0);
    expect(error).toBeInstanceOf(ThrottledError);
    expect(error).toMatchObject({ name: 'ThrottledError', backend: 'lmStudio', retryAfterMs: 250 });
    expect((error as ThrottledError).rejectProbability).toBeGreaterThan(0);
  });

  test('records a success as accepted and a failure as not, unless isAccepted says so', async () => {
    const throttle = createAdaptiveThrottle({ clock: createManualClock(), random: () => 0.999 });
    await expect(throttled(throttle, async () => 'ok')).resolves.toBe('ok');
    await expect(
      throttled(throttle, async () => {
        throw new Error('503');
      }),
    ).rejects.toThrow('503');
    const notFound = Object.assign(new Error('404'), { status: 404 });
    await expect(
      throttled(
        throttle,
        async () => {
          throw notFound;
        },
        { isAccepted: (e) => (e as { status?: number }).status === 404 },
      ),
    ).rejects.toBe(notFound);
    expect(throttle.snapshot()).toMatchObject({ requests: 3, accepts: 2 });
  });
});

describe('adaptive throttle against an overloaded backend (storm simulation, seeded)', () => {
  const overloaded = (throttleK: number) =>
    runStorm({
      strategy: 'parts-throttle',
      throttleK,
      holdClosed: true,
      failureRate: 0,
      capacityPerSecond: 100,
      callers: 20, // 200 calls/s: twice the capacity
      seconds: 12,
      seed: 7,
    });

  const meanLoad = (slots: number[], from: number, to: number) =>
    slots.slice(from, to).reduce((a, b) => a + b, 0) / (to - from);

  test('k = 1.1: from 5 s on, the load received stays near 1.1 × capacity (≤ 1.2×)', async () => {
    const r = await overloaded(1.1);
    const slots = perSlot(r.times, 1_000, r.durationMs);
    // Measured here: 1.09–1.16× per second (rejections are random draws); never the 2× of k = 2.
    expect(meanLoad(slots, 5, 11)).toBeLessThanOrEqual(120);
    expect(r.throttled).toBeGreaterThan(0);
  }, 60_000);

  test('k = 2: the load settles near 2 × what the backend accepts (the book’s trade-off)', async () => {
    const r = await overloaded(2);
    const slots = perSlot(r.times, 1_000, r.durationMs);
    const load = meanLoad(slots, 5, 11);
    expect(load).toBeGreaterThan(180);
    expect(load).toBeLessThanOrEqual(220);
  }, 60_000);
});
