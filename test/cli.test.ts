/** The CLI: help, version, health against the lab, configuration errors, and `start` end to end. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIO, main } from '../src/cli.js';
import { type Lab, startLab } from '../src/lab/index.js';
import { childEnv, labEnv, ROOT, TSX_CLI, waitFor } from './e2e/helpers.js';

const EMPTY_DIR = mkdtempSync(join(tmpdir(), 'mcp-lifeline-cli-'));
/**
 * Safety net of the tests that load a command's modules for the first time or start a process: on a
 * loaded machine a cold import through tsx alone can take tens of seconds. Nothing asserts a duration.
 */
const COLD_MS = 90_000;

/** Runs `main` in-process with captured output, in a directory without a config file. */
async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
    cwd: EMPTY_DIR,
    isTTY: false,
    handleSignals: false,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

function writeConfig(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mcp-lifeline-cli-')), 'config.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('help and version', () => {
  it.each([
    [[], /Usage: mcp-lifeline <command>/],
    [['--help'], /Commands:[\s\S]*serve[\s\S]*lab[\s\S]*health[\s\S]*start/],
    [['serve', '--help'], /Usage: mcp-lifeline serve \[--http HOST:PORT\] \[--config FILE\]/],
    [['lab', '--help'], /Usage: mcp-lifeline lab/],
    [['health', '--help'], /Usage: mcp-lifeline health \[--json\]/],
    [['start', '--help'], /Usage: mcp-lifeline start/],
    [['help', 'health'], /Usage: mcp-lifeline health/],
  ])(
    '%j prints its usage and exits 0',
    async (argv, pattern) => {
      const { code, stdout } = await run(argv);
      expect(code).toBe(0);
      expect(stdout).toMatch(pattern);
    },
    COLD_MS,
  );

  it('--version prints the package version', async () => {
    const { code, stdout } = await run(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an unknown command or option exits 2 with the usage', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const option = await run(['health', '--jsno']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('unknown option --jsno');
    const http = await run(['serve', '--http', 'nowhere']);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain('--http needs HOST:PORT');
  });

  it(
    'bin/mcp-lifeline.js --help works as a process (the launcher)',
    () => {
      const result = spawnSync(process.execPath, ['bin/mcp-lifeline.js', '--help'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: COLD_MS,
      });
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('Usage: mcp-lifeline <command>');
    },
    COLD_MS + 10_000,
  );
});

describe('health', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('--json against the lab: every backend passes, exit 0', async () => {
    const { code, stdout, stderr } = await run(['health', '--json', '--timeout', '5000'], labEnv(lab));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.status).toBe('pass');
    expect(Object.keys(report.backends).sort()).toEqual(['a2a', 'agents', 'evolution', 'lmStudio']);
    expect(report.backends.evolution).toMatchObject({
      kind: 'websocket',
      status: 'pass',
      state: 'CONNECTED',
    });
    expect(report.backends.lmStudio).toMatchObject({ kind: 'http', status: 'pass', critical: true });
  });

  it('prints one line per backend without --json', async () => {
    const { code, stdout } = await run(['health', '--timeout', '5000'], labEnv(lab));
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^health: pass/);
    expect(lines).toHaveLength(5);
    expect(stdout).toMatch(/evolution\s+websocket\s+CONNECTED/);
  });

  it('a failing critical backend exits 1', async () => {
    const file = writeConfig({ backends: { lmStudio: { options: { downAfterFailures: 1 } } } });
    const env = { ...labEnv(lab), MCP_LIFELINE_LMSTUDIO_URL: 'http://127.0.0.1:1/v1' };
    const { code, stdout } = await run(['health', '--json', '--config', file, '--timeout', '3000'], env);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'fail', backends: { lmStudio: { status: 'fail' } } });
  });
});

describe('bad configuration names the key and exits non-zero', () => {
  it('a wrong type in the config file', async () => {
    const file = writeConfig({ healthCheckIntervalMs: 'fast' });
    const { code, stderr } = await run(['health', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toContain('healthCheckIntervalMs');
  });

  it('a bad backend URL in the file and in the environment', async () => {
    const file = writeConfig({ backends: { lmStudio: { url: 42 } } });
    const fromFile = await run(['serve', '--config', file]);
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain('backends.lmStudio.url');
    const fromEnv = await run(['health'], { MCP_LIFELINE_EVOLUTION_URL: 'not a url' });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain('backends.evolution.url');
  });

  it('a missing config file and invalid JSON', async () => {
    const missing = await run(['health', '--config', join(EMPTY_DIR, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.json');
    const broken = await run(['start', '--config', writeConfig('{ not json')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('not valid JSON');
  });

  it(
    'as a process: serve with a bad config exits 2 naming the key',
    () => {
      const file = writeConfig({ backends: { agents: { url: 'http://wrong-scheme/' } } });
      const result = spawnSync(process.execPath, [TSX_CLI, 'src/cli.ts', 'serve', '--config', file], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: COLD_MS,
        env: childEnv({}),
      });
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('backends.agents.url');
      expect(result.stdout).toBe('');
    },
    COLD_MS + 10_000,
  );
});

describe('start', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  // Run through the package's own launcher (one process: tsx registered in-process), not tsx's CLI:
  // tsx's CLI runs the script in a second process and relays a SIGINT to it, and if that child does
  // not acknowledge within 30 ms (a loaded machine) it SIGKILLs it and exits 130 itself.
  it('runs lab + bridge + MCP over HTTP, prints URLs and health lines, stops cleanly on SIGINT', async () => {
    let stdout = '';
    let stderr = '';
    child = spawn(
      process.execPath,
      ['bin/mcp-lifeline.js', 'start', '--port', '0', '--ws-port', '0', '--http-port', '0'],
      { cwd: ROOT, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // An event wait: the bound is only a safety net for a start that hangs (startup on a loaded
    // machine takes what it takes).
    await waitFor(() => /health pass \|/.test(stdout), 90_000, `a passing health line (stderr: ${stderr})`);
    expect(stdout).toMatch(/MCP \(Streamable HTTP\)\s+http:\/\/127\.0\.0\.1:\d+\/mcp/);
    expect(stdout).toMatch(/lab control\s+http:\/\/127\.0\.0\.1:\d+/);
    // Not a terminal: one line per change, no carriage returns.
    expect(stdout).not.toContain('\r');
    expect(stdout).toMatch(/webmcp ok SERVING/);
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain('mcp-lifeline stopped');
  }, 120_000);
});
