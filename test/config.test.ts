import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBridge } from '../src/bridge/create-bridge.js';
import { CONFIG_FILE_NAME, loadConfig } from '../src/config.js';
import { quietLogger } from './bridge-fixtures.js';
import { configErrorOf } from './support/config-error.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

describe('loadConfig', () => {
  it('with nothing to read returns an empty config (createBridge applies the defaults)', () => {
    expect(loadConfig({ cwd: dir, env: {} })).toEqual({});
    const bridge = createBridge({ ...loadConfig({ cwd: dir, env: {} }), logger: quietLogger });
    expect(bridge.backendNames()).toEqual(['evolution', 'agents', 'a2a', 'lmStudio']);
    const health = bridge.health();
    expect(health.backends.lmStudio).toMatchObject({ kind: 'http', critical: true });
    expect(health.backends.evolution).toMatchObject({ kind: 'websocket', critical: false });
    void bridge.stop();
  });

  it(`reads ${CONFIG_FILE_NAME} in cwd`, () => {
    write(CONFIG_FILE_NAME, {
      backends: { lmStudio: { url: 'http://10.0.0.2:1234/v1', critical: false } },
      healthCheckIntervalMs: 5000,
    });
    expect(loadConfig({ cwd: dir, env: {} })).toEqual({
      backends: { lmStudio: { url: 'http://10.0.0.2:1234/v1', critical: false } },
      healthCheckIntervalMs: 5000,
    });
  });

  it('--config FILE wins over the file in cwd; env wins over the file; overrides win over env', () => {
    write(CONFIG_FILE_NAME, { backends: { agents: { url: 'ws://ignored:1/agents' } } });
    write('other.json', {
      backends: { evolution: { url: 'ws://file:1/evolution', options: { queueLimit: 5 } } },
      healthCheckIntervalMs: 2000,
    });
    const config = loadConfig({
      cwd: dir,
      argv: ['serve', '--config', 'other.json'],
      env: {
        MCP_LIFELINE_EVOLUTION_URL: 'ws://env:2/evolution',
        MCP_LIFELINE_A2A_URL: 'wss://env:3/a2a',
        MCP_LIFELINE_HEALTH_CHECK_INTERVAL_MS: '3000',
      },
      overrides: { backends: { a2a: { url: 'ws://override:4/a2a' } } },
    });
    expect(config).toEqual({
      healthCheckIntervalMs: 3000,
      backends: {
        evolution: { url: 'ws://env:2/evolution', options: { queueLimit: 5 } },
        a2a: { url: 'ws://override:4/a2a' },
      },
    });
    expect(loadConfig({ cwd: dir, env: {}, argv: ['--config=other.json'] }).healthCheckIntervalMs).toBe(2000);
  });

  it('reads MCP_LIFELINE_<BACKEND>_URL for every default backend', () => {
    const config = loadConfig({
      cwd: dir,
      env: {
        MCP_LIFELINE_EVOLUTION_URL: 'ws://h:1/e',
        MCP_LIFELINE_AGENTS_URL: 'ws://h:1/g',
        MCP_LIFELINE_A2A_URL: 'ws://h:1/a',
        MCP_LIFELINE_LMSTUDIO_URL: 'http://h:2/v1',
      },
    });
    expect(config.backends).toEqual({
      evolution: { url: 'ws://h:1/e' },
      agents: { url: 'ws://h:1/g' },
      a2a: { url: 'ws://h:1/a' },
      lmStudio: { url: 'http://h:2/v1' },
    });
  });
});

describe('validation errors name the key', () => {
  const cases: [what: string, file: unknown, key: string, problem: RegExp][] = [
    [
      'a URL that is not one',
      { backends: { lmStudio: { url: 'not a url' } } },
      'backends.lmStudio.url',
      /expected a URL/,
    ],
    [
      'a URL of the wrong type',
      { backends: { lmStudio: { url: 1234 } } },
      'backends.lmStudio.url',
      /expected a URL/,
    ],
    [
      'a socket URL over http',
      { backends: { evolution: { url: 'http://h/e' } } },
      'backends.evolution.url',
      /ws:\/\//,
    ],
    [
      'an http URL over ws',
      { backends: { lmStudio: { url: 'ws://h/v1' } } },
      'backends.lmStudio.url',
      /http:\/\//,
    ],
    [
      'critical not a boolean',
      { backends: { agents: { critical: 'yes' } } },
      'backends.agents.critical',
      /true or false/,
    ],
    [
      'an unknown backend setting',
      { backends: { agents: { uri: 'ws://h' } } },
      'backends.agents.uri',
      /unknown setting/,
    ],
    [
      'a bad kind',
      { backends: { extra: { kind: 'ftp', url: 'ftp://h' } } },
      'backends.extra.kind',
      /websocket/,
    ],
    ['a negative interval', { healthCheckIntervalMs: -5 }, 'healthCheckIntervalMs', /positive/],
    ['an interval of the wrong type', { healthCheckIntervalMs: '10s' }, 'healthCheckIntervalMs', /positive/],
    ['jitter out of range', { healthCheckJitter: 1.5 }, 'healthCheckJitter', /\[0, 1\)/],
    ['an unknown top-level key', { backend: {} }, 'backend', /unknown setting/],
  ];

  it.each(cases)('%s', (_what, file, key, problem) => {
    const path = write('bad.json', file);
    const error = configErrorOf(() => loadConfig({ cwd: dir, env: {}, file: path }));
    expect(error.key).toBe(key);
    expect(error.message.startsWith(`${key}: `)).toBe(true);
    expect(error.message).toMatch(problem);
    expect(error.message).toContain(path);
  });

  it('an environment URL names the key and the variable', () => {
    const error = configErrorOf(() =>
      loadConfig({ cwd: dir, env: { MCP_LIFELINE_LMSTUDIO_URL: 'localhost 1234' } }),
    );
    expect(error.key).toBe('backends.lmStudio.url');
    expect(error.message).toBe('backends.lmStudio.url: expected a URL (from MCP_LIFELINE_LMSTUDIO_URL)');
    const interval = configErrorOf(() =>
      loadConfig({ cwd: dir, env: { MCP_LIFELINE_HEALTH_CHECK_INTERVAL_MS: 'soon' } }),
    );
    expect(interval.key).toBe('healthCheckIntervalMs');
  });

  it('invalid JSON, a missing --config file and a --config without a name are errors', () => {
    write(CONFIG_FILE_NAME, '{ "backends": ');
    expect(configErrorOf(() => loadConfig({ cwd: dir, env: {} })).message).toMatch(/not valid JSON/);
    expect(configErrorOf(() => loadConfig({ cwd: dir, env: {}, file: 'missing.json' })).key).toBe('--config');
    expect(configErrorOf(() => loadConfig({ cwd: dir, env: {}, argv: ['--config'] })).key).toBe('--config');
  });

  it('createBridge rejects an unknown backend without a kind and a reserved name', () => {
    expect(configErrorOf(() => createBridge({ backends: { extra: { url: 'ws://h/x' } } })).key).toBe(
      'backends.extra.kind',
    );
    expect(
      configErrorOf(() => createBridge({ backends: { webmcp: { kind: 'http', url: 'http://h' } } })).key,
    ).toBe('backends.webmcp');
    expect(configErrorOf(() => createBridge({ healthCheckIntervalMs: 0 })).key).toBe('healthCheckIntervalMs');
  });
});
