/**
 * The names of the package's webmcp-bridge days keep working, each with one deprecation line naming
 * the new name: `WEBMCP_BRIDGE_*` variables and the config file `webmcp-bridge.config.json`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIO, main } from '../src/cli.js';
import { loadConfig } from '../src/config.js';
import { type Lab, startLab } from '../src/lab/index.js';
import { waitFor } from './e2e/helpers.js';

function emptyDir(): string {
  return mkdtempSync(join(tmpdir(), 'mcp-lifeline-legacy-'));
}

describe('loadConfig', () => {
  it('reads WEBMCP_BRIDGE_* as MCP_LIFELINE_*, with one line per variable naming the new one', () => {
    const lines: string[] = [];
    const config = loadConfig({
      cwd: emptyDir(),
      env: {
        WEBMCP_BRIDGE_EVOLUTION_URL: 'ws://127.0.0.1:9001/evolution',
        WEBMCP_BRIDGE_HEALTH_CHECK_INTERVAL_MS: '2500',
      },
      onDeprecation: (line) => lines.push(line),
    });
    expect(config.backends?.evolution?.url).toBe('ws://127.0.0.1:9001/evolution');
    expect(config.healthCheckIntervalMs).toBe(2500);
    expect(lines).toEqual([
      'WEBMCP_BRIDGE_EVOLUTION_URL is deprecated: rename it to MCP_LIFELINE_EVOLUTION_URL',
      'WEBMCP_BRIDGE_HEALTH_CHECK_INTERVAL_MS is deprecated: rename it to MCP_LIFELINE_HEALTH_CHECK_INTERVAL_MS',
    ]);
  });

  it('the new variable wins over the old one, which is reported as ignored', () => {
    const lines: string[] = [];
    const config = loadConfig({
      cwd: emptyDir(),
      env: { WEBMCP_BRIDGE_A2A_URL: 'ws://127.0.0.1:1/old', MCP_LIFELINE_A2A_URL: 'ws://127.0.0.1:2/new' },
      onDeprecation: (line) => lines.push(line),
    });
    expect(config.backends?.a2a?.url).toBe('ws://127.0.0.1:2/new');
    expect(lines).toEqual(['WEBMCP_BRIDGE_A2A_URL is deprecated and ignored: MCP_LIFELINE_A2A_URL is set']);
  });

  it('a bad value under the old name is named by the new key', () => {
    expect(() =>
      loadConfig({
        cwd: emptyDir(),
        env: { WEBMCP_BRIDGE_LMSTUDIO_URL: 'not a url' },
        onDeprecation: () => {},
      }),
    ).toThrow(/backends\.lmStudio\.url/);
  });

  it('reads webmcp-bridge.config.json when mcp-lifeline.config.json is absent, with a deprecation line', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'webmcp-bridge.config.json'), JSON.stringify({ healthCheckIntervalMs: 1234 }));
    const lines: string[] = [];
    expect(loadConfig({ cwd: dir, env: {}, onDeprecation: (line) => lines.push(line) })).toMatchObject({
      healthCheckIntervalMs: 1234,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /webmcp-bridge\.config\.json is deprecated: rename .* to mcp-lifeline\.config\.json/,
    );

    writeFileSync(join(dir, 'mcp-lifeline.config.json'), JSON.stringify({ healthCheckIntervalMs: 4321 }));
    const none: string[] = [];
    expect(loadConfig({ cwd: dir, env: {}, onDeprecation: (line) => none.push(line) })).toMatchObject({
      healthCheckIntervalMs: 4321,
    });
    expect(none).toEqual([]);
  });
});

describe('the CLI', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  function io(env: Record<string, string>, signal?: AbortSignal) {
    const out = { stdout: '', stderr: '' };
    const cli: CliIO = {
      stdout: (text) => {
        out.stdout += text;
      },
      stderr: (text) => {
        out.stderr += text;
      },
      env,
      cwd: emptyDir(),
      isTTY: false,
      handleSignals: false,
      ...(signal ? { signal } : {}),
    };
    return { out, cli };
  }

  it('health with WEBMCP_BRIDGE_*_URL: passes, one deprecation line per variable on stderr', async () => {
    const { out, cli } = io({
      WEBMCP_BRIDGE_EVOLUTION_URL: lab.urls.evolution,
      WEBMCP_BRIDGE_AGENTS_URL: lab.urls.agents,
      WEBMCP_BRIDGE_A2A_URL: lab.urls.a2a,
      WEBMCP_BRIDGE_LMSTUDIO_URL: lab.urls.lmStudio,
    });
    expect(await main(['health', '--json', '--timeout', '5000'], cli)).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ status: 'pass' });
    const lines = out.stderr.trim().split('\n');
    expect(lines.sort()).toEqual(
      ['A2A', 'AGENTS', 'EVOLUTION', 'LMSTUDIO'].map(
        (key) => `mcp-lifeline: WEBMCP_BRIDGE_${key}_URL is deprecated: rename it to MCP_LIFELINE_${key}_URL`,
      ),
    );
  });

  it('lab takes its token from WEBMCP_BRIDGE_LAB_TOKEN', async () => {
    const controller = new AbortController();
    const { out, cli } = io({ WEBMCP_BRIDGE_LAB_TOKEN: 'old-name-token-123' }, controller.signal);
    const exit = main(['lab', '--ws-port', '0', '--http-port', '0'], cli);
    await waitFor(() => out.stdout.includes('token'), 10_000, 'the lab banner');
    controller.abort();
    expect(await exit).toBe(0);
    expect(out.stdout).toMatch(/token\s+old-name-token-123/);
    expect(out.stderr).toBe(
      'mcp-lifeline: WEBMCP_BRIDGE_LAB_TOKEN is deprecated: rename it to MCP_LIFELINE_LAB_TOKEN\n',
    );
  });
});
