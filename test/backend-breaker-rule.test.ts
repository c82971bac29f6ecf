/*
 * The breaker rule in a backend's configuration (`backends.<name>.breaker.rule`): validated with the
 * field named, each kind's default applied (failure rate for `http` and `mcp`, consecutive for
 * `websocket` and `webmcp-page`), against a real flapping HTTP server on 127.0.0.1, and applied again
 * by `bridge.reconfigure`.
 */

import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { HttpBackend } from '../src/backends/http.js';
import { builtInKinds } from '../src/backends/kinds/index.js';
import { nodeKinds } from '../src/backends/node-kinds.js';
import { createBridge } from '../src/bridge/create-bridge.js';
import { ConfigError } from '../src/bridge/errors.js';
import type { Bridge, BridgeConfig } from '../src/bridge/types.js';
import { createManualClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { quietLogger } from './bridge-fixtures.js';

const off = { enabled: false } as const;
const defaultsOff = { evolution: off, agents: off, a2a: off, lmStudio: off };

/** A real HTTP server on 127.0.0.1 that is up for one request, down (500) for the next, and so on. */
async function flappingServer() {
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    const up = requests++ % 2 === 0;
    if (up) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    else res.writeHead(500).end('down');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function bridgeWith(backends: BridgeConfig['backends']): Bridge {
  const bridge = createBridge({
    backends: { ...defaultsOff, ...backends },
    kinds: nodeKinds(),
    clock: createManualClock(),
    logger: quietLogger,
    surface: false,
  });
  cleanups.push(() => bridge.stop());
  return bridge;
}

const ruleOf = (bridge: Bridge, name: string) =>
  bridge.backend(name)?.breaker.actor.getSnapshot().context.rule;

describe('backends.<name>.breaker.rule', () => {
  test('a bad rule is refused with the field named, in createBridge and in a config file', () => {
    const http = { kind: 'http', url: 'http://127.0.0.1:9/v1' };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ rule: { kind: 'sometimes' } }, 'backends.api.breaker.rule.kind'],
      [{ rule: 'failureRate' }, 'backends.api.breaker.rule'],
      [
        { rule: { kind: 'failureRate', failureRateThreshold: 1.5 } },
        'backends.api.breaker.rule.failureRateThreshold',
      ],
      [{ rule: { kind: 'failureRate', minimumCalls: 0 } }, 'backends.api.breaker.rule.minimumCalls'],
      [
        { rule: { kind: 'failureRate', window: { kind: 'count', size: 2.5 } } },
        'backends.api.breaker.rule.window.size',
      ],
      [
        { rule: { kind: 'failureRate', window: { kind: 'time', ms: -1 } } },
        'backends.api.breaker.rule.window.ms',
      ],
      [
        { rule: { kind: 'failureRate', window: { kind: 'calls', size: 5 } } },
        'backends.api.breaker.rule.window.kind',
      ],
      [{ rule: { kind: 'consecutive', size: 5 } }, 'backends.api.breaker.rule.size'],
      [{ failureThreshold: 0 }, 'backends.api.breaker.failureThreshold'],
      [{ resetJitter: 1 }, 'backends.api.breaker.resetJitter'],
    ];
    const dir = mkdtempSync(join(tmpdir(), 'breaker-rule-'));
    for (const [breaker, key] of cases) {
      const thrown = (() => {
        try {
          bridgeWith({ api: { ...http, breaker } as never });
        } catch (error) {
          return error;
        }
      })();
      expect(thrown, JSON.stringify(breaker)).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).key, JSON.stringify(breaker)).toBe(key);

      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ backends: { api: { ...http, breaker } } }));
      expect(() => loadConfig({ file, env: {} }), JSON.stringify(breaker)).toThrow(
        expect.objectContaining({ key }),
      );
    }
    // The same setting in the other kinds.
    for (const [entry, key] of [
      [{ kind: 'websocket', url: 'ws://127.0.0.1:9/x' }, 'backends.api.breaker.rule.kind'],
      [{ kind: 'mcp', command: 'node' }, 'backends.api.breaker.rule.kind'],
      [
        { kind: 'webmcp-page', cdpUrl: 'http://127.0.0.1:9', pageUrl: 'http://127.0.0.1:9/' },
        'backends.api.breaker.rule.kind',
      ],
    ] as const) {
      const file = join(dir, 'config.json');
      writeFileSync(
        file,
        JSON.stringify({ backends: { api: { ...entry, breaker: { rule: { kind: 'x' } } } } }),
      );
      expect(() => loadConfig({ file, env: {} }), entry.kind).toThrow(expect.objectContaining({ key }));
    }
  });

  test('each kind declares its default rule: failure rate for http and mcp, consecutive for the others', () => {
    const defaults = Object.fromEntries(
      [...builtInKinds(), ...nodeKinds()].map((kind) => [kind.kind, kind.defaultBreakerRule]),
    );
    const failureRate = {
      kind: 'failureRate',
      failureRateThreshold: 0.5,
      minimumCalls: 20,
      window: { kind: 'count', size: 100 },
    };
    expect(defaults).toEqual({
      websocket: { kind: 'consecutive' },
      http: failureRate,
      mcp: failureRate,
      'webmcp-page': { kind: 'consecutive' },
    });
    // And the backends a bridge creates use it, unless the entry names another.
    const bridge = bridgeWith({
      api: { kind: 'http', url: 'http://127.0.0.1:9/v1' },
      chosen: { kind: 'http', url: 'http://127.0.0.1:9/v1', breaker: { rule: { kind: 'consecutive' } } },
      // A failureThreshold given without a rule means the consecutive rule (the one that reads it).
      threshold: { kind: 'http', url: 'http://127.0.0.1:9/v1', breaker: { failureThreshold: 3 } },
      optionsThreshold: {
        kind: 'http',
        url: 'http://127.0.0.1:9/v1',
        options: { breaker: { failureThreshold: 3 } },
      },
      mcpThreshold: { kind: 'mcp', command: 'node', breaker: { failureThreshold: 3 } },
      socket: { kind: 'websocket', url: 'ws://127.0.0.1:9/x' },
      rated: {
        kind: 'websocket',
        url: 'ws://127.0.0.1:9/x',
        breaker: { rule: { kind: 'failureRate', window: { kind: 'time', ms: 5_000 } } },
      },
    });
    expect(ruleOf(bridge, 'api')).toEqual(failureRate);
    expect(ruleOf(bridge, 'chosen')).toEqual({ kind: 'consecutive' });
    expect(ruleOf(bridge, 'socket')).toEqual({ kind: 'consecutive' });
    for (const name of ['threshold', 'optionsThreshold', 'mcpThreshold']) {
      expect(ruleOf(bridge, name), name).toEqual({ kind: 'consecutive' });
      expect(bridge.backend(name)?.breaker.actor.getSnapshot().context.failureThreshold, name).toBe(3);
    }
    expect(ruleOf(bridge, 'rated')).toEqual({
      kind: 'failureRate',
      failureRateThreshold: 0.5,
      minimumCalls: 10,
      window: { kind: 'time', ms: 5_000 },
    });
  });

  test('an http backend in front of a real flapping server trips by default; the consecutive rule never does', {
    timeout: 30_000,
  }, async () => {
    const run = async (breaker: Record<string, unknown> | undefined) => {
      const server = await flappingServer();
      cleanups.push(server.close);
      const bridge = bridgeWith({
        api: {
          kind: 'http',
          url: server.url,
          options: { retry: { maxRetries: 0 } },
          ...(breaker ? { breaker } : {}),
        },
      });
      const backend = bridge.backend('api') as HttpBackend;
      const codes: string[] = [];
      for (let i = 0; i < 60; i++)
        codes.push(
          await backend.request('/work').then(
            () => 'ok',
            (error: { name: string }) => error.name,
          ),
        );
      return { codes, reached: server.requests(), trips: backend.breaker.metrics().tripsCount };
    };

    const byDefault = await run(undefined);
    expect(byDefault.trips).toBe(1);
    // 50 % of the last 100 calls, 20 calls at least: open after the 20th; the rest refused.
    expect(byDefault.reached).toBe(20);
    expect(byDefault.codes.slice(20).every((code) => code === 'BrokenCircuitError')).toBe(true);

    const consecutive = await run({ rule: { kind: 'consecutive' } });
    expect(consecutive.trips).toBe(0);
    expect(consecutive.reached).toBe(60);
    expect(consecutive.codes.filter((code) => code === 'ok')).toHaveLength(30);
  });

  test('reconfigure restarts a backend whose rule changed, with the new rule', async () => {
    const api = { kind: 'http', url: 'http://127.0.0.1:9/v1' };
    const bridge = bridgeWith({ api });
    expect(ruleOf(bridge, 'api')).toMatchObject({ kind: 'failureRate' });
    const changed = await bridge.reconfigure({
      backends: { ...defaultsOff, api: { ...api, breaker: { rule: { kind: 'consecutive' } } } },
    });
    expect(changed).toMatchObject({ restarted: ['api'] });
    expect(ruleOf(bridge, 'api')).toEqual({ kind: 'consecutive' });
    const same = await bridge.reconfigure({
      backends: { ...defaultsOff, api: { ...api, breaker: { rule: { kind: 'consecutive' } } } },
    });
    expect(same).toMatchObject({ unchanged: ['api'] });
  });
});
