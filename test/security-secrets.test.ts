/*
 * Secrets planted in the configuration (an `Authorization: Bearer …` header and an `x-api-key` for
 * lmStudio, tokens in WebSocket URLs' query strings, `ws://user:pass@…` userinfo, and an HTTP base URL
 * with userinfo in a second bridge) must never show in anything the bridge hands out: health reports,
 * `onHealthChange` reports, every tool result (happy and failing paths: backend down, circuit open,
 * timeouts, 503), every log line and every inspection event.
 *
 * The inspection events are serialised more thoroughly than `JSON.stringify` would: errors are
 * expanded to their name, message, stack and cause chain, so that a secret carried by an error's
 * message or cause counts as a leak too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createHttpBackend } from '../src/backends/http.js';
import { createNodeBridge } from '../src/bridge/node.js';
import type { Bridge, BridgeLogger, ToolResult } from '../src/bridge/types.js';
import { loadConfig } from '../src/config.js';
import { type Lab, startLab } from '../src/lab/index.js';
import { SOCKETS_OFF } from './bridge-fixtures.js';
import { until } from './support/net.js';

const SECRETS = {
  bearer: 'S3cr3tBearerTokenAAAA1111',
  apiKey: 'S3cr3tApiKeyBBBB2222',
  queryToken: 'S3cr3tQueryTokenCCCC3333',
  userinfoUser: 'svcUserDDDD4444',
  userinfoPass: 'S3cr3tPassEEEE5555',
  a2aToken: 'S3cr3tA2aTokenFFFF6666',
  httpPass: 'S3cr3tHttpPassGGGG7777',
} as const;
const SECRET_VALUES = Object.values(SECRETS);

/** JSON of anything: cycles cut, errors expanded (message, stack, cause), maps/sets/functions shown. */
function serialize(value: unknown): string {
  const seen = new WeakSet<object>();
  const expand = (_key: string, v: unknown): unknown => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'function') return `[function ${v.name}]`;
    if (typeof v === 'symbol') return v.toString();
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return '[cycle]';
    seen.add(v);
    if (v instanceof Error) {
      return {
        ...Object.fromEntries(Object.entries(v)),
        name: v.name,
        message: v.message,
        stack: v.stack,
        cause: (v as { cause?: unknown }).cause,
      };
    }
    if (v instanceof Map) return { map: [...v.entries()] };
    if (v instanceof Set) return { set: [...v.values()] };
    if (v instanceof Headers) return { headers: [...v.entries()] };
    return v;
  };
  try {
    return JSON.stringify(value, expand) ?? String(value);
  } catch (error) {
    return `[unserializable: ${(error as Error).message}]`;
  }
}

function leaksIn(text: string): string[] {
  return SECRET_VALUES.filter((secret) => text.includes(secret));
}

interface Capture {
  logs: string[];
  events: string[];
  reports: string[];
  results: string[];
  logger: BridgeLogger;
  inspect: (event: InspectionEvent) => void;
}

function capture(): Capture {
  const logs: string[] = [];
  const events: string[] = [];
  const line =
    (level: string) =>
    (message: string, details?: Record<string, unknown>): void => {
      logs.push(`${level} ${message} ${serialize(details)}`);
    };
  return {
    logs,
    events,
    reports: [],
    results: [],
    logger: { warn: line('warn'), info: line('info'), error: line('error'), debug: line('debug') },
    // Serialised at once: later mutation of the objects cannot hide what was emitted.
    inspect: (event) => events.push(serialize(event)),
  };
}

/**
 * Safety net of the event waits below: a hang fails with a name instead of the test's timeout. Nothing
 * is expected to take this long; the waits end as soon as the condition holds.
 */
const SAFETY_MS = 30_000;
const toolArgs: Record<string, unknown> = {
  get_os_state: {},
  reliability_get_status: {},
  send_llm_prompt: { prompt: 'hello', max_tokens: 8 },
  trigger_evolution: { seed_shader: 'void main(){}', generations: 2 },
  spawn_area_agent: { agent_type: 'monitor', region: { x: 0, y: 0, width: 10, height: 10 } },
  send_a2a_message: { to_agent: 'peer', message_type: 'heartbeat', content: { n: 1 } },
};

let lab: Lab;
let dir: string;
beforeAll(async () => {
  lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  dir = mkdtempSync(join(tmpdir(), 'bridge-secrets-'));
});
// Each test faults the shared lab: whatever happens to a test, the next one starts with it healthy.
afterEach(() => {
  lab?.clear();
});
afterAll(async () => {
  await lab?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('no secret from the configuration reaches any output', () => {
  test(
    'ws URL tokens/userinfo and HTTP auth headers, through every tool, happy and failing paths',
    async () => {
      const ws = lab.ports.ws;
      const file = join(dir, 'mcp-lifeline.config.json');
      writeFileSync(
        file,
        JSON.stringify({
          backends: {
            evolution: { url: `ws://127.0.0.1:${ws}/evolution?token=${SECRETS.queryToken}` },
            agents: { url: `ws://${SECRETS.userinfoUser}:${SECRETS.userinfoPass}@127.0.0.1:${ws}/agents` },
            lmStudio: {
              url: lab.urls.lmStudio,
              options: {
                headers: { Authorization: `Bearer ${SECRETS.bearer}`, 'x-api-key': SECRETS.apiKey },
                // Long enough that a loaded machine's answer is never taken for a timeout; the
                // "silent" fault below still times out (after 2 attempts).
                requestTimeoutMs: 3_000,
                probeTimeoutMs: 3_000,
                probeIntervalMs: 200,
                retry: { maxRetries: 1, baseDelayMs: 10 },
                breaker: { failureThreshold: 3, resetTimeoutMs: 400 },
              },
            },
          },
        }),
      );
      const c = capture();
      const socketOptions = {
        retry: { maxRetries: 1, baseDelayMs: 20, maxDelayMs: 100 },
        breaker: { resetTimeoutMs: 300 },
        // Pings often, but never takes a slow pong on a loaded machine for a dead socket: "down" closes
        // the lab's sockets, which the bridge sees at once.
        connectTimeoutMs: 5_000,
        heartbeat: { intervalMs: 200, timeoutMs: 10_000 },
      };
      const config = loadConfig({
        file,
        cwd: dir,
        env: { MCP_LIFELINE_A2A_URL: `ws://127.0.0.1:${ws}/a2a?access_token=${SECRETS.a2aToken}&v=1` },
        overrides: { logger: c.logger, inspect: c.inspect, healthCheckIntervalMs: 200 },
      });
      for (const name of ['evolution', 'agents', 'a2a']) {
        const backend = config.backends?.[name] ?? {};
        config.backends = { ...config.backends, [name]: { ...backend, options: { ...socketOptions } } };
      }
      const bridge: Bridge = createNodeBridge(config);
      bridge.onHealthChange((report, previous) => c.reports.push(serialize({ report, previous })));
      // Error codes answered while the backends are down (every call of that phase, so both an
      // unavailable backend and an open circuit are seen whatever the order the machine gets to them).
      let downCodes: Set<string> | null = null;
      const call = async (name: string, args: unknown = toolArgs[name]): Promise<ToolResult> => {
        const result = await bridge.callTool(name, args);
        c.results.push(`${name} ${serialize(result)}`);
        if (downCodes && !result.success) downCodes.add(result.error_code);
        return result;
      };
      const callAll = async () => {
        for (const name of Object.keys(toolArgs)) await call(name);
        c.reports.push(serialize(bridge.health()));
        for (const name of bridge.backendNames()) c.reports.push(serialize(bridge.backend(name)?.status()));
      };
      const socketsConnected = (label: string) =>
        until(
          () =>
            ['evolution', 'agents', 'a2a'].every((n) => bridge.health().backends[n]?.state === 'CONNECTED'),
          SAFETY_MS,
          label,
        );
      try {
        await bridge.start();
        await until(() => bridge.health().status === 'pass' || bridge.health().status === 'warn', SAFETY_MS);
        await socketsConnected('sockets connected');
        // Happy path: every tool answers.
        await callAll();
        expect(await call('send_llm_prompt')).toMatchObject({ success: true });
        expect(await call('trigger_evolution')).toMatchObject({ success: true });
        expect(await call('spawn_area_agent')).toMatchObject({ success: true });
        expect(await call('send_a2a_message')).toMatchObject({ success: true, queued: false });
        c.results.push(serialize(bridge.listTools().map(({ schema: _s, ...rest }) => rest)));

        // Failing paths: injected errors, 503 with Retry-After, timeouts (silent), down, circuit open.
        for (const backend of ['evolution', 'agents', 'a2a', 'lmStudio'] as const)
          lab.fault(backend, { errorRate: 1 });
        await callAll();
        lab.clear();
        lab.fault('lmStudio', { status503: { retryAfterSeconds: 0 } });
        await callAll();
        lab.clear();
        await until(
          () =>
            bridge.health().backends.lmStudio?.breaker === 'CLOSED' &&
            bridge.health().backends.lmStudio?.state === 'UP',
          SAFETY_MS,
          'lmStudio closed again',
        );
        lab.fault('lmStudio', 'silent');
        expect((await call('send_llm_prompt')).error_code).toBe('TIMEOUT');
        lab.clear();
        for (const backend of ['evolution', 'agents', 'a2a', 'lmStudio'] as const) lab.fault(backend, 'down');
        const codes = new Set<string>();
        downCodes = codes;
        await callAll();
        await until(
          () => Object.values(bridge.health().backends).some((line) => line.breaker === 'OPEN'),
          SAFETY_MS,
          'a breaker open',
        );
        await callAll();
        // Keep calling while down until both an open circuit and an unavailable backend have been seen
        // (at least 20 rounds; then as long as needed, however slow the machine).
        const startedCalling = Date.now();
        for (let i = 0; i < 20 || !(codes.has('CIRCUIT_OPEN') && codes.has('BACKEND_UNAVAILABLE')); i++) {
          if (Date.now() - startedCalling > SAFETY_MS) break;
          for (const name of [
            'send_llm_prompt',
            'trigger_evolution',
            'spawn_area_agent',
            'send_a2a_message',
          ]) {
            await call(name);
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(codes.has('CIRCUIT_OPEN')).toBe(true);
        expect(codes.has('BACKEND_UNAVAILABLE')).toBe(true);
        downCodes = null;
        // Recovery: the queued A2A messages are delivered and reported.
        lab.clear();
        await socketsConnected('sockets reconnected');
        await callAll();
      } finally {
        await bridge.stop();
      }
      await callAll(); // after stop
      // The secrets did reach the backends (so the test is meaningful): the lab saw the connections.
      expect(lab.stats().lmStudio.ok).toBeGreaterThan(0);
      expect(c.logs.length).toBeGreaterThan(0);
      expect(c.events.length).toBeGreaterThan(100);
      for (const [what, texts] of Object.entries({
        logs: c.logs,
        events: c.events,
        reports: c.reports,
        results: c.results,
      })) {
        const leaks = texts.filter((text) => leaksIn(text).length > 0);
        expect(leaks.slice(0, 3), `${what}: ${leaks.length} leaking`).toEqual([]);
      }
    },
    4 * SAFETY_MS,
  );

  test('an HTTP base URL with userinfo and a query token: used (Basic auth, query kept), never shown', async () => {
    const c = capture();
    const url = new URL(lab.urls.lmStudio);
    url.username = 'user';
    url.password = SECRETS.httpPass;
    url.search = `?key=${SECRETS.queryToken}`;
    const bridge = createNodeBridge({
      logger: c.logger,
      inspect: c.inspect,
      healthCheckIntervalMs: 100,
      backends: {
        ...SOCKETS_OFF,
        lmStudio: {
          url: url.href,
          options: { retry: { maxRetries: 1, baseDelayMs: 5 }, breaker: { failureThreshold: 2 } },
        },
      },
    });
    const call = async (name: string) => {
      const result = await bridge.callTool(name, toolArgs[name]);
      c.results.push(serialize(result));
      return result;
    };
    try {
      await bridge.start();
      expect(await call('send_llm_prompt')).toMatchObject({ success: true });
      expect(await call('trigger_evolution')).toMatchObject({
        success: false,
        error_code: 'BACKEND_UNAVAILABLE',
      });
      lab.fault('lmStudio', 'down');
      for (let i = 0; i < 4; i++) expect((await call('send_llm_prompt')).success).toBe(false);
      await call('get_os_state');
      await call('reliability_get_status');
      c.reports.push(serialize(bridge.health()));
    } finally {
      lab.clear();
      await bridge.stop();
    }
    for (const [what, texts] of Object.entries({
      logs: c.logs,
      events: c.events,
      reports: c.reports,
      results: c.results,
    })) {
      const leaks = texts.filter((text) => leaksIn(text).length > 0);
      expect(leaks.slice(0, 3), `${what}: ${leaks.length} leaking`).toEqual([]);
    }
  });

  test('the HTTP backend sends userinfo as Basic auth and keeps the query after the path', async () => {
    const seen: { url: string; auth: string | null }[] = [];
    const backend = createHttpBackend({
      name: 'llm',
      baseUrl: `http://me:${SECRETS.httpPass}@127.0.0.1:9/v1?key=${SECRETS.queryToken}`,
      fetch: async (url, init) => {
        seen.push({ url, auth: new Headers(init.headers).get('authorization') });
        return new Response('{}', { status: 200 });
      },
    });
    await backend.request('/models');
    await backend.request('/models?limit=1');
    await backend.stop();
    expect(seen[0]?.url).toBe(`http://127.0.0.1:9/v1/models?key=${SECRETS.queryToken}`);
    expect(seen[1]?.url).toBe(`http://127.0.0.1:9/v1/models?limit=1&key=${SECRETS.queryToken}`);
    expect(seen[0]?.auth).toBe(`Basic ${btoa(`me:${SECRETS.httpPass}`)}`);
  });

  test('a configuration error names the key, not the secret value', () => {
    const env = {
      MCP_LIFELINE_LMSTUDIO_URL: `ws://user:${SECRETS.httpPass}@127.0.0.1:1/v1?token=${SECRETS.queryToken}`,
    };
    let message = '';
    try {
      loadConfig({ cwd: dir, env });
    } catch (error) {
      message = serialize(error);
    }
    expect(message).toContain('backends.lmStudio.url');
    expect(leaksIn(message)).toEqual([]);
  });
});
