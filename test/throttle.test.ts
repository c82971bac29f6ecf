import { describe, expect, test } from 'vitest';
import { runStorm } from '../bench/storm.js';
import { perSlot } from '../bench/storm-sim.js';
import { createManualClock } from '../src/clock.js';
import { mulberry32 } from '../src/lab/faults.js';
import { createAdaptiveThrottle, ThrottledError, throttled } from '../src/reliability/throttle.js';

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
    const throttle = createAdaptiveThrottle({ clock: createManualClock() });
    for (let i = 0; i < 10; i++) throttle.record(i < 2); // 10 requests answered, 2 accepted
    expect(throttle.snapshot()).toMatchObject({ requests: 10, accepts: 2, throttling: true });
    expect(throttle.snapshot().rejectProbability).toBeCloseTo(6 / 11, 12);
  });

  test('rejects a share p of the requests, spread evenly: after n requests, rejections = Σ p within 1', () => {
    // Independent draws would leave the count off by ~√(Σ p(1 − p)) ≈ 10 here: the load a backend
    // receives would wander around k × accepts from one second to the next.
    const throttle = createAdaptiveThrottle({ k: 1.5, clock: createManualClock(), random: mulberry32(5) });
    for (let i = 0; i < 40; i++) throttle.record(i % 4 === 0); // 40 answered, 10 accepted: p = 25/41
    let expected = 0;
    let rejected = 0;
    for (let i = 0; i < 400; i++) {
      expected += throttle.snapshot().rejectProbability;
      if (!throttle.admit()) rejected++;
      else throttle.record(i % 3 === 0);
      expect(Math.abs(rejected - expected)).toBeLessThan(1);
    }
    expect(rejected).toBeGreaterThan(100);
  });

  test('random() sets only where the spread starts: started near 1 the first request is refused, started at 0 it is admitted', () => {
    const make = (r: number) => {
      const throttle = createAdaptiveThrottle({ clock: createManualClock(), random: () => r });
      for (let i = 0; i < 9; i++) throttle.record(false); // 9 requests answered, none accepted
      return throttle;
    };
    const early = make(0.99);
    const late = make(0);
    // 9 requests, 0 accepts: p = 9 / 10. Starting near 1, the first request is already refused; from 0, admitted.
    expect(early.admit()).toBe(false);
    expect(late.admit()).toBe(true);
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
    const throttle = createAdaptiveThrottle({ k: 1.1, clock: createManualClock() });
    for (let i = 0; i < 100; i++) throttle.record(i % 2 === 0);
    // 100 requests, 50 accepts: (100 − 55) / 101.
    expect(throttle.snapshot().rejectProbability).toBeCloseTo(45 / 101, 12);
  });

  test('counts leave the window after windowMs (buckets of windowMs / 20)', async () => {
    const clock = createManualClock();
    const throttle = createAdaptiveThrottle({ clock, windowMs: 2_000, random: () => 0.99 });
    for (let i = 0; i < 10; i++) throttle.record(false); // t = 0, no accepts
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
    const throttle = createAdaptiveThrottle({ clock });
    for (let i = 0; i < 10; i++) throttle.record(false);
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

  test('k = 1.05 holds a backend of 500 calls/s under 1 000 calls/s at ≤ 1.1× its capacity every second from 5 s, serving near capacity', async () => {
    const clock = createManualClock();
    const throttle = createAdaptiveThrottle({ k: 1.05, windowMs: 60_000, clock, random: mulberry32(11) });
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
    // From 5 s on, each second at most 1.1× the capacity reaches it, and it serves at least 95 % of
    // its capacity.
    expect(Math.max(...received.slice(5, 20))).toBeLessThanOrEqual(550);
    expect(mean(served)).toBeGreaterThanOrEqual(475);
  });

  test('minimumRequests: nothing is refused, and the snapshot shows no rejection, until the window holds that many requests', () => {
    const throttle = createAdaptiveThrottle({
      minimumRequests: 20,
      clock: createManualClock(),
      random: () => 0.99,
    });
    for (let i = 0; i < 19; i++) throttle.record(false); // a dead backend, 19 requests
    expect(throttle.snapshot()).toMatchObject({ requests: 19, rejectProbability: 0, throttling: false });
    expect(throttle.admit()).toBe(true);
    throttle.record(false);
    expect(throttle.snapshot()).toMatchObject({ requests: 20, throttling: true });
    expect(throttle.admit()).toBe(false);
  });

  test('rejects invalid options', () => {
    expect(() => createAdaptiveThrottle({ k: 0 })).toThrow(RangeError);
    expect(() => createAdaptiveThrottle({ windowMs: 0 })).toThrow(RangeError);
    expect(() => createAdaptiveThrottle({ minimumRequests: -1 })).toThrow(RangeError);
  });
});

describe('throttled(throttle, fn)', () => {
  test('a refused request fails fast with ThrottledError and never calls fn', async () => {
    // The spread starts at 0.99: the first request with p > 0.01 is refused.
    const throttle = createAdaptiveThrottle({ clock: createManualClock(), random: () => 0.99 });
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

  test('k = 1.1: from 5 s on, the load received stays near 1.1 × capacity (≤ 1.12×)', async () => {
    const r = await overloaded(1.1);
    const slots = perSlot(r.times, 1_000, r.durationMs);
    // Rejections spread evenly: each second's load is k × what the backend accepted, within a call or two.
    expect(Math.max(...slots.slice(5, 11))).toBeLessThanOrEqual(112);
    expect(r.throttled).toBeGreaterThan(0);
  }, 60_000);

  test('the bridge LLM path with its defaults: every second from 5 s on, the backend receives ≤ 1.1× its capacity and serves ≥ 95 % of it', async () => {
    const r = await runStorm({
      strategy: 'ours',
      failureRate: 0,
      capacityPerSecond: 100,
      callers: 20, // 200 calls/s: twice the capacity
      seconds: 12,
      seed: 7,
    });
    const slots = perSlot(r.times, 1_000, r.durationMs);
    expect(Math.max(...slots.slice(5, 12))).toBeLessThanOrEqual(110);
    expect(r.succeeded / 12).toBeGreaterThanOrEqual(95);
    expect(r.opens).toBe(0);
  }, 60_000);

  test('k = 2: the load settles near 2 × what the backend accepts (the book’s trade-off)', async () => {
    const r = await overloaded(2);
    const slots = perSlot(r.times, 1_000, r.durationMs);
    const load = meanLoad(slots, 5, 11);
    expect(load).toBeGreaterThan(180);
    expect(load).toBeLessThanOrEqual(220);
  }, 60_000);
});
