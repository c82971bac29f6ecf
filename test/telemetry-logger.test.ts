/*
 * The structured logger: JSON lines, pino's calling convention, redaction, and one line per retry,
 * breaker trip and recovery from a bridge driven by a manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bridge } from '../src/bridge/types.js';
import {
  createJsonLogger,
  REDACTED,
  redact,
  redactText,
  type StructuredLogger,
  toBridgeLogger,
} from '../src/telemetry/logger.js';
import { registerFlakyTool, telemetryBridge, tripAndRecover } from './telemetry-fixtures.js';

function sink() {
  const lines: string[] = [];
  return {
    lines,
    write: (line: string) => lines.push(line),
    parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const SECRETS = /hunter2|sk-SECRET|api_key=|admin:/;

describe('createJsonLogger', () => {
  it('writes one JSON line per event: level, time, msg and the fields (pino convention)', () => {
    const out = sink();
    const logger = createJsonLogger(out, { now: () => 1_700_000_000_000, level: 'debug' });
    logger.info({ backend: 'lmStudio', attempt: 2 }, 'hello');
    logger.debug({}, 'details');
    logger.child?.({ component: 'bridge' }).warn({ level: 'spoofed', msg: 'spoofed' }, 'careful');
    expect(out.lines).toHaveLength(3);
    for (const line of out.lines) expect(line.endsWith('\n')).toBe(true);
    expect(out.parsed()).toEqual([
      { backend: 'lmStudio', attempt: 2, level: 'info', time: 1_700_000_000_000, msg: 'hello' },
      { level: 'debug', time: 1_700_000_000_000, msg: 'details' },
      { component: 'bridge', level: 'warn', time: 1_700_000_000_000, msg: 'careful' },
    ]);
  });

  it('drops lines below its level (info by default)', () => {
    const out = sink();
    const logger = createJsonLogger(out);
    logger.debug({}, 'hidden');
    logger.error({}, 'shown');
    expect(out.parsed().map((line) => line.msg)).toEqual(['shown']);
  });

  it('never writes secrets: secret keys, URL credentials and query strings, bearer tokens', () => {
    const out = sink();
    const logger = createJsonLogger(out);
    logger.warn(
      {
        headers: { authorization: 'Bearer sk-SECRET' },
        apiKey: 'sk-SECRET',
        url: 'https://admin:hunter2@api.example/v1/chat?api_key=sk-SECRET#frag',
        error: new Error('GET http://admin:hunter2@127.0.0.1/x?api_key=sk-SECRET failed: Bearer sk-SECRET'),
      },
      'calling https://admin:hunter2@api.example/v1?api_key=sk-SECRET',
    );
    const [line] = out.parsed();
    expect(out.lines[0]).not.toMatch(SECRETS);
    expect(line).toMatchObject({
      headers: REDACTED,
      apiKey: REDACTED,
      url: 'https://api.example/v1/chat',
      msg: 'calling https://api.example/v1',
      error: { name: 'Error', message: `GET http://127.0.0.1/x failed: Bearer ${REDACTED}` },
    });
  });

  it('redact bounds depth and keeps plain values', () => {
    expect(redact({ a: 1, b: true, c: null, d: [1, 'x'] })).toEqual({ a: 1, b: true, c: null, d: [1, 'x'] });
    expect(redactText('ws://localhost:8765/a2a')).toBe('ws://localhost:8765/a2a');
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 10; i++) cursor = cursor.next = {} as Record<string, unknown>;
    expect(JSON.stringify(redact(deep))).toContain('[Object]');
  });
});

describe('toBridgeLogger', () => {
  it("turns the bridge's (message, details) into pino's (details, message), redacted", () => {
    const calls: Array<[string, Record<string, unknown>, string | undefined]> = [];
    const record =
      (level: string) =>
      (fields: Record<string, unknown>, message?: string): void => {
        calls.push([level, fields, message]);
      };
    const pinoLike: StructuredLogger = {
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
      debug: record('debug'),
    };
    const logger = toBridgeLogger(pinoLike);
    logger.warn('down: http://u:hunter2@h/x?token=1', { token: 'abc', backend: 'a2a' });
    logger.info?.('up');
    expect(calls).toEqual([
      ['warn', { token: REDACTED, backend: 'a2a' }, 'down: http://h/x'],
      ['info', {}, 'up'],
    ]);
  });
});

describe('the bridge logs one line per retry, trip and recovery (manual clock)', () => {
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
  });

  const jsonBridge = () => {
    const out = sink();
    const made = telemetryBridge({ logger: toBridgeLogger(createJsonLogger(out, { now: () => 0 })) });
    bridge = made.bridge;
    return { out, bridge: made.bridge, clock: made.clock };
  };

  it('one line per retry, with backend, operation, attempt, delay and reason, and no secret', async () => {
    const { out, bridge, clock } = jsonBridge();
    registerFlakyTool(bridge, 2);
    const call = bridge.callTool('flaky', {});
    await clock.advance(10_000);
    expect(await call).toMatchObject({ success: true, attempts: 3 });
    const retries = out.parsed().filter((line) => line.event === 'retry');
    expect(out.parsed()).toHaveLength(retries.length);
    expect(retries).toHaveLength(2);
    expect(retries.map((line) => line.attempt)).toEqual([1, 2]);
    for (const line of retries) {
      expect(line).toMatchObject({
        level: 'warn',
        backend: 'lmStudio',
        operation: 'fetch',
        reason: 'TimeoutError',
        error: 'timed out calling http://127.0.0.1:1/v1/chat',
      });
      expect(line.delayMs).toBeGreaterThan(0);
    }
    for (const line of out.lines) expect(line).not.toMatch(SECRETS);
  });

  it('one line per trip (CLOSED → OPEN) and per recovery (→ CLOSED), none for OPEN → HALF_OPEN', async () => {
    const { out, bridge, clock } = jsonBridge();
    await tripAndRecover(bridge, clock);
    // The HTTP backend logs its own availability changes (UNKNOWN → DOWN) too: only breaker lines here.
    const breakerLines = () => out.parsed().filter((line) => String(line.event).startsWith('breaker.'));
    expect(breakerLines()).toEqual([
      {
        event: 'breaker.trip',
        backend: 'lmStudio',
        from: 'CLOSED',
        to: 'OPEN',
        reason: 'failure threshold reached',
        level: 'warn',
        time: 0,
        msg: 'bridge: breaker of lmStudio tripped (CLOSED → OPEN)',
      },
      {
        event: 'breaker.recovery',
        backend: 'lmStudio',
        from: 'HALF_OPEN',
        to: 'CLOSED',
        reason: 'trial calls succeeded',
        level: 'info',
        time: 0,
        msg: 'bridge: breaker of lmStudio recovered (HALF_OPEN → CLOSED)',
      },
    ]);
    // A second outage: a failed trial (HALF_OPEN → OPEN) is not a trip.
    const breaker = bridge.backend('lmStudio')?.breaker;
    for (let i = 0; i < 2; i++)
      await breaker?.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    await clock.advance(1_000);
    await breaker?.execute(() => Promise.reject(new Error('still down'))).catch(() => {});
    expect(breaker?.state).toBe('OPEN');
    expect(breakerLines().map((line) => line.event)).toEqual([
      'breaker.trip',
      'breaker.recovery',
      'breaker.trip',
    ]);
    // …and the HTTP backend's own transition lines are debug-level, below the logger's level.
    expect(out.lines.filter((line) => line.includes('breaker'))).toHaveLength(3);
  });

  it('a logger without info gets recoveries on warn', async () => {
    const warned: string[] = [];
    const made = telemetryBridge({ logger: { warn: (message) => warned.push(message) } });
    bridge = made.bridge;
    await tripAndRecover(made.bridge, made.clock);
    expect(warned.filter((message) => message.includes('breaker'))).toEqual([
      'bridge: breaker of lmStudio tripped (CLOSED → OPEN)',
      'bridge: breaker of lmStudio recovered (HALF_OPEN → CLOSED)',
    ]);
  });
});
