/*
 * instrumentBridge against a fake `Meter`. No OpenTelemetry SDK is installed in this project (only
 * `@opentelemetry/api`, whose global meter is a no-op), so the test implements the API's `Meter`
 * interface itself: it records every instrument created, every synchronous measurement, and runs the
 * batch observable callbacks on `collect()` the way an SDK's metric reader would.
 */
import type {
  Attributes,
  BatchObservableCallback,
  BatchObservableResult,
  Counter,
  Gauge,
  Histogram,
  Meter,
  MetricOptions,
  Observable,
  ObservableCallback,
  ObservableCounter,
  ObservableGauge,
  ObservableUpDownCounter,
  UpDownCounter,
} from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bridge } from '../src/bridge/types.js';
import { attemptLabel, INSTRUMENTS, instrumentBridge } from '../src/telemetry/otel.js';
import { registerFlakyTool, telemetryBridge, tripAndRecover } from './telemetry-fixtures.js';

interface Measurement {
  instrument: string;
  value: number;
  attributes: Attributes;
}

type Kind =
  | 'counter'
  | 'histogram'
  | 'gauge'
  | 'updowncounter'
  | 'observablegauge'
  | 'observablecounter'
  | 'observableupdowncounter';

class FakeObservable implements ObservableGauge, ObservableCounter, ObservableUpDownCounter {
  readonly callbacks = new Set<ObservableCallback>();
  constructor(readonly name: string) {}
  addCallback(callback: ObservableCallback): void {
    this.callbacks.add(callback);
  }
  removeCallback(callback: ObservableCallback): void {
    this.callbacks.delete(callback);
  }
}

class FakeMeter implements Meter {
  readonly instruments = new Map<string, { kind: Kind; options: MetricOptions | undefined }>();
  readonly recorded: Measurement[] = [];
  private readonly batches: Array<{ callback: BatchObservableCallback; observables: Observable[] }> = [];

  private register(name: string, kind: Kind, options: MetricOptions | undefined): void {
    if (this.instruments.has(name)) throw new Error(`instrument ${name} created twice`);
    this.instruments.set(name, { kind, options });
  }
  private sync(name: string) {
    return {
      add: (value: number, attributes: Attributes = {}) =>
        this.recorded.push({ instrument: name, value, attributes }),
      record: (value: number, attributes: Attributes = {}) =>
        this.recorded.push({ instrument: name, value, attributes }),
    };
  }
  createCounter(name: string, options?: MetricOptions): Counter {
    this.register(name, 'counter', options);
    return this.sync(name);
  }
  createUpDownCounter(name: string, options?: MetricOptions): UpDownCounter {
    this.register(name, 'updowncounter', options);
    return this.sync(name);
  }
  createHistogram(name: string, options?: MetricOptions): Histogram {
    this.register(name, 'histogram', options);
    return this.sync(name);
  }
  createGauge(name: string, options?: MetricOptions): Gauge {
    this.register(name, 'gauge', options);
    return this.sync(name);
  }
  createObservableGauge(name: string, options?: MetricOptions): ObservableGauge {
    this.register(name, 'observablegauge', options);
    return new FakeObservable(name);
  }
  createObservableCounter(name: string, options?: MetricOptions): ObservableCounter {
    this.register(name, 'observablecounter', options);
    return new FakeObservable(name);
  }
  createObservableUpDownCounter(name: string, options?: MetricOptions): ObservableUpDownCounter {
    this.register(name, 'observableupdowncounter', options);
    return new FakeObservable(name);
  }
  addBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    this.batches.push({ callback, observables });
  }
  removeBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    const index = this.batches.findIndex((b) => b.callback === callback && b.observables === observables);
    if (index >= 0) this.batches.splice(index, 1);
  }

  /** One collection, as a metric reader would make it: every observation of every callback. */
  async collect(): Promise<Measurement[]> {
    const out: Measurement[] = [];
    for (const { callback, observables } of this.batches) {
      const result: BatchObservableResult = {
        observe: (observable, value, attributes = {}) => {
          if (!observables.includes(observable)) throw new Error('observed an instrument not in the batch');
          out.push({ instrument: (observable as FakeObservable).name, value, attributes });
        },
      };
      await callback(result);
    }
    return out;
  }
}

const value = (measurements: Measurement[], instrument: string, attributes: Attributes) =>
  measurements.find(
    (m) =>
      m.instrument === instrument &&
      Object.keys(attributes).length === Object.keys(m.attributes).length &&
      Object.entries(attributes).every(([k, v]) => m.attributes[k] === v),
  )?.value;

const ALLOWED_ATTRIBUTES = new Set(['backend', 'state', 'outcome', 'operation', 'attempt']);

describe('instrumentBridge (fake Meter: no OTel SDK installed)', () => {
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
  });

  it('creates the documented instruments with their kinds and units', () => {
    const meter = new FakeMeter();
    ({ bridge } = telemetryBridge());
    instrumentBridge(bridge, { meter });
    expect(
      Object.fromEntries([...meter.instruments].map(([name, i]) => [name, [i.kind, i.options?.unit]])),
    ).toEqual({
      [INSTRUMENTS.breakerState]: ['observablegauge', '{state}'],
      [INSTRUMENTS.breakerCalls]: ['observablecounter', '{call}'],
      [INSTRUMENTS.breakerNotPermitted]: ['observablecounter', '{call}'],
      [INSTRUMENTS.breakerTrips]: ['observablecounter', '{transition}'],
      [INSTRUMENTS.backendHealth]: ['observablegauge', '1'],
      [INSTRUMENTS.retryAttempts]: ['counter', '{attempt}'],
      [INSTRUMENTS.attemptDuration]: ['histogram', 'ms'],
    });
  });

  it('observes breaker state, calls by outcome, not-permitted calls, trips and health', async () => {
    const meter = new FakeMeter();
    const made = telemetryBridge();
    bridge = made.bridge;
    instrumentBridge(bridge, { meter });
    const breaker = bridge.backend('lmStudio')?.breaker;
    for (let i = 0; i < 2; i++)
      await breaker?.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    await breaker?.execute(() => 'refused').catch(() => {});

    const open = await meter.collect();
    expect(value(open, INSTRUMENTS.breakerState, { backend: 'lmStudio', state: 'OPEN' })).toBe(1);
    expect(value(open, INSTRUMENTS.breakerState, { backend: 'lmStudio', state: 'CLOSED' })).toBe(0);
    expect(value(open, INSTRUMENTS.breakerState, { backend: 'lmStudio', state: 'HALF_OPEN' })).toBe(0);
    expect(value(open, INSTRUMENTS.breakerCalls, { backend: 'lmStudio', outcome: 'failure' })).toBe(2);
    expect(value(open, INSTRUMENTS.breakerCalls, { backend: 'lmStudio', outcome: 'rejected' })).toBe(1);
    expect(value(open, INSTRUMENTS.breakerCalls, { backend: 'lmStudio', outcome: 'success' })).toBe(0);
    expect(value(open, INSTRUMENTS.breakerNotPermitted, { backend: 'lmStudio' })).toBe(1);
    expect(value(open, INSTRUMENTS.breakerTrips, { backend: 'lmStudio' })).toBe(1);
    // lmStudio is critical and its breaker is open: fail (2).
    expect(value(open, INSTRUMENTS.backendHealth, { backend: 'lmStudio' })).toBe(2);

    await made.clock.advance(1_000);
    await breaker?.execute(() => 'ok');
    const closed = await meter.collect();
    expect(value(closed, INSTRUMENTS.breakerState, { backend: 'lmStudio', state: 'CLOSED' })).toBe(1);
    expect(value(closed, INSTRUMENTS.breakerState, { backend: 'lmStudio', state: 'OPEN' })).toBe(0);
    expect(value(closed, INSTRUMENTS.breakerCalls, { backend: 'lmStudio', outcome: 'success' })).toBe(1);
    for (const m of closed)
      for (const key of Object.keys(m.attributes)) expect(ALLOWED_ATTRIBUTES).toContain(key);
  });

  it('counts retries by capped attempt number and records every attempt duration', async () => {
    const meter = new FakeMeter();
    const made = telemetryBridge();
    bridge = made.bridge;
    instrumentBridge(bridge, { meter });
    registerFlakyTool(bridge, 3); // attempts 0, 1, 2 fail; attempt 3 succeeds
    const call = bridge.callTool('flaky', {});
    await made.clock.advance(10_000);
    expect(await call).toMatchObject({ success: true, attempts: 4 });

    const retries = meter.recorded.filter((m) => m.instrument === INSTRUMENTS.retryAttempts);
    expect(retries.map((m) => m.attributes)).toEqual([
      { backend: 'lmStudio', operation: 'fetch', attempt: '1' },
      { backend: 'lmStudio', operation: 'fetch', attempt: '2' },
      { backend: 'lmStudio', operation: 'fetch', attempt: '3+' },
    ]);
    const attempts = meter.recorded.filter((m) => m.instrument === INSTRUMENTS.attemptDuration);
    expect(attempts.map((m) => [m.attributes.attempt, m.attributes.outcome])).toEqual([
      ['0', 'failure'],
      ['1', 'failure'],
      ['2', 'failure'],
      ['3+', 'success'],
    ]);
    for (const m of attempts) {
      expect(m.value).toBeGreaterThanOrEqual(0);
      expect(m.attributes).toMatchObject({ backend: 'lmStudio', operation: 'fetch' });
    }
    for (const m of meter.recorded) {
      for (const key of Object.keys(m.attributes)) expect(ALLOWED_ATTRIBUTES).toContain(key);
      expect(JSON.stringify(m.attributes)).not.toMatch(/http|SECRET|hunter2/);
    }
  });

  it('stop() removes the callbacks and the event subscription', async () => {
    const meter = new FakeMeter();
    const made = telemetryBridge();
    bridge = made.bridge;
    const instrumentation = instrumentBridge(bridge, { meter });
    instrumentation.stop();
    instrumentation.stop();
    expect(await meter.collect()).toEqual([]);
    await tripAndRecover(bridge, made.clock);
    registerFlakyTool(bridge, 1);
    const call = bridge.callTool('flaky', {});
    await made.clock.advance(10_000);
    await call;
    expect(meter.recorded).toEqual([]);
  });

  it('works with the global no-op meter when no SDK is installed', () => {
    ({ bridge } = telemetryBridge());
    expect(() => instrumentBridge(bridge as Bridge).stop()).not.toThrow();
  });

  it('caps attempt labels', () => {
    expect([0, 1, 2, 3, 4, 99].map(attemptLabel)).toEqual(['0', '1', '2', '3+', '3+', '3+']);
  });
});
