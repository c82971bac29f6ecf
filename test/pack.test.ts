/**
 * The package as a user gets it: `npm pack` (which builds dist/ in `prepack`), `npm install` of the
 * tarball into an empty folder (dependencies from the registry, no dev dependencies: no vite, no
 * tsx), then the installed bin: `--help`, `health --json` against the lab on 127.0.0.1, `serve`
 * spawned by the official MCP SDK client, and `start` serving the prebuilt inspector page.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startLab } from '../src/lab/index.js';
import { childEnv, labEnv, ROOT, waitFor } from './e2e/helpers.js';
import { CHROMIUM_ARGS, chromiumOrSkip } from './support/chromium.js';

const browser = chromiumOrSkip();
if (browser.skipReason)
  console.warn(`pack: the inspector page is not opened in a browser: ${browser.skipReason}`);

const NPM_TIMEOUT_MS = 540_000;
const TOOLS = [
  'get_os_state',
  'reliability_get_status',
  'send_a2a_message',
  'send_llm_prompt',
  'spawn_area_agent',
  'trigger_evolution',
];

/** The environment for npm and the installed CLI: no bridge variables, no npm lifecycle settings. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = childEnv(extra);
  for (const key of Object.keys(env)) {
    if (/^npm_(config|lifecycle|package)_/i.test(key) || key.startsWith('WEBMCP_BRIDGE_')) delete env[key];
  }
  return env;
}

/** Runs the installed bin without blocking this process (the lab answers from it meanwhile). */
function runBin(bin: string, args: string[], cwd: string, env: Record<string, string>) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function npm(args: string[], cwd: string) {
  const result = spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: cleanEnv(),
    timeout: NPM_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0)
    throw new Error(`npm ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result;
}

describe('the packed and installed package', () => {
  let app: string;
  let bin: string;
  let lab: Lab;
  let started: ChildProcess | undefined;

  beforeAll(async () => {
    const packDir = mkdtempSync(join(tmpdir(), 'mcp-lifeline-pack-'));
    npm(['pack', '--pack-destination', packDir, '--silent'], ROOT);
    const tarball = readdirSync(packDir).find((file) => file.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack wrote no tarball to ${packDir}`);
    app = realpathSync(mkdtempSync(join(tmpdir(), 'mcp-lifeline-app-')));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    npm(['install', join(packDir, tarball), '--no-audit', '--no-fund', '--prefer-offline'], app);
    bin = join(app, 'node_modules', 'mcp-lifeline', 'bin', 'mcp-lifeline.js');
    lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  }, NPM_TIMEOUT_MS * 2);

  afterAll(async () => {
    if (started && started.exitCode === null) started.kill('SIGKILL');
    await lab?.stop();
  });

  it('ships dist, the prebuilt inspector page and the licence, and installs without dev dependencies', () => {
    const installed = join(app, 'node_modules', 'mcp-lifeline');
    expect(existsSync(join(installed, 'dist', 'src', 'cli.js'))).toBe(true);
    expect(existsSync(join(installed, 'dist', 'inspector', 'index.html'))).toBe(true);
    expect(existsSync(join(installed, 'LICENSE'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'vite'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);
  });

  it('npx --no-install mcp-lifeline --help exits 0', () => {
    const result = spawnSync('npx', ['--no-install', 'mcp-lifeline', '--help'], {
      cwd: app,
      encoding: 'utf8',
      env: cleanEnv(),
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: mcp-lifeline <command>');
  }, 90_000);

  it('health --json against the lab passes (exit 0); against nothing it fails (exit 1)', async () => {
    const pass = await runBin(bin, ['health', '--json', '--timeout', '10000'], app, cleanEnv(labEnv(lab)));
    expect(pass.status, pass.stderr).toBe(0);
    expect(JSON.parse(pass.stdout)).toMatchObject({
      status: 'pass',
      backends: { evolution: { state: 'CONNECTED' }, lmStudio: { status: 'pass' } },
    });
    // A config file in the working directory is found; LM Studio (critical) unreachable → fail.
    const failDir = mkdtempSync(join(tmpdir(), 'mcp-lifeline-app-fail-'));
    writeFileSync(
      join(failDir, 'mcp-lifeline.config.json'),
      JSON.stringify({ backends: { lmStudio: { options: { downAfterFailures: 1 } } } }),
    );
    const fail = await runBin(
      bin,
      ['health', '--json', '--timeout', '10000'],
      failDir,
      cleanEnv({ ...labEnv(lab), MCP_LIFELINE_LMSTUDIO_URL: 'http://127.0.0.1:1/v1' }),
    );
    expect(fail.status).toBe(1);
    expect(JSON.parse(fail.stdout)).toMatchObject({
      status: 'fail',
      backends: { lmStudio: { status: 'fail' } },
    });
  }, 120_000);

  it('serve, spawned by the MCP SDK client, lists every tool and answers a call', async () => {
    const client = new Client({ name: 'pack-test', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin, 'serve'],
      cwd: app,
      env: cleanEnv(labEnv(lab)),
      stderr: 'pipe',
    });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(TOOLS);
      const reply = await client.callTool({ name: 'send_llm_prompt', arguments: { prompt: 'hi' } });
      const text = (reply.content as { type: string; text: string }[])[0]?.text ?? '';
      expect(JSON.parse(text)).toMatchObject({ success: true });
    } finally {
      await client.close();
    }
  }, 120_000);

  it('start serves the prebuilt inspector page (no vite installed)', async () => {
    let stdout = '';
    let stderr = '';
    started = spawn(process.execPath, [bin, 'start', '--port', '0', '--ws-port', '0', '--http-port', '0'], {
      cwd: app,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    started.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await waitFor(() => /health pass \|/.test(stdout), 60_000, `a passing health line (stderr: ${stderr})`);
    const pageUrl = /inspector\s+(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(stdout)?.[1];
    expect(pageUrl, stdout).toBeDefined();
    const page = await fetch(pageUrl as string);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('mcp-lifeline inspector');
    const script = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
    expect(script, html).toBeDefined();
    const asset = await fetch(new URL(script as string, pageUrl));
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    if (browser.path) {
      // The built page in Chromium: it draws the machines and, served with the lab token, shows the
      // fault buttons (the token reached its own origin), with no page error.
      const chrome = await chromium.launch({ executablePath: browser.path, args: CHROMIUM_ARGS });
      try {
        const tab = await chrome.newPage();
        const problems: string[] = [];
        tab.on('pageerror', (error) => problems.push(error.message));
        await tab.goto(pageUrl as string);
        await tab.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
        await tab.waitForSelector('.card[data-actor="evolution.breaker"] svg.diagram .state', {
          timeout: 30_000,
        });
        await tab.waitForSelector('button[data-backend="evolution"][data-fault="down"]', { timeout: 30_000 });
        expect(problems).toEqual([]);
      } finally {
        await chrome.close();
      }
    }
    const exited = new Promise<number | null>((resolve) => started?.once('exit', (code) => resolve(code)));
    started.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/Cannot find (package|module)/);
  }, 180_000);
});
