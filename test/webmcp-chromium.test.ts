/**
 * WebMCP in real Chromium: a Vite-served page builds the browser bridge against the lab, installs
 * the WebMCP polyfill with its testing shim and registers the bridge's tools; the test lists and runs
 * them through `navigator.modelContextTesting`. LM Studio is reached through Vite's proxy (same
 * origin) because the lab's OpenAI-compatible server sends no CORS headers, as LM Studio's need not.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startLab } from '../src/lab/index.js';
import { ROOT } from './e2e/helpers.js';
import { CHROMIUM_ARGS, chromiumOrSkip } from './support/chromium.js';

const lookup = chromiumOrSkip();
if (lookup.skipReason) console.warn(`webmcp-chromium: skipped: ${lookup.skipReason}`);

interface ToolInfo {
  name: string;
  description: string;
  inputSchema?: string;
}

describe.skipIf(lookup.skipReason !== undefined)('WebMCP in Chromium', () => {
  let lab: Lab;
  let vite: ViteDevServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
    const lmOrigin = new URL(lab.urls.lmStudio).origin;
    vite = await createServer({
      root: join(ROOT, 'test/e2e/page'),
      configFile: false,
      logLevel: 'silent',
      cacheDir: mkdtempSync(join(tmpdir(), 'mcp-lifeline-vite-')),
      server: {
        host: '127.0.0.1',
        port: 0,
        // No HMR and no file watching: a source file saved during the run must not reload the page.
        hmr: false,
        watch: null,
        fs: { allow: [ROOT] },
        proxy: { '/v1': { target: lmOrigin, changeOrigin: true } },
      },
    });
    await vite.listen();
    const base = vite.resolvedUrls?.local[0];
    if (!base) throw new Error('vite did not report its URL');
    browser = await chromium.launch({ executablePath: lookup.path as string, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const query = new URLSearchParams({
      evolution: lab.urls.evolution,
      agents: lab.urls.agents,
      a2a: lab.urls.a2a,
      lmStudio: new URL('/v1', base).href,
    });
    await page.goto(`${base}?${query}`);
    await page.waitForFunction(
      () => {
        const text = document.getElementById('status')?.textContent ?? '';
        return text === 'ready' || text.startsWith('error');
      },
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.textContent('#status'), pageErrors.join('\n')).toBe('ready');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await vite?.close();
    await lab?.stop();
  });

  async function listTools(): Promise<ToolInfo[]> {
    return page.evaluate(
      () =>
        (
          navigator as unknown as { modelContextTesting: { listTools(): ToolInfo[] } }
        ).modelContextTesting.listTools() as ToolInfo[],
    );
  }

  async function executeTool(name: string, args: unknown): Promise<Record<string, unknown>> {
    const text = await page.evaluate(
      ([toolName, json]) =>
        (
          navigator as unknown as {
            modelContextTesting: { executeTool(name: string, args: string): Promise<string> };
          }
        ).modelContextTesting.executeTool(toolName, json),
      [name, JSON.stringify(args)] as const,
    );
    return JSON.parse(text) as Record<string, unknown>;
  }

  it('lists every bridge tool with its JSON Schema', async () => {
    const tools = await listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'get_os_state',
      'reliability_get_status',
      'send_a2a_message',
      'send_llm_prompt',
      'spawn_area_agent',
      'trigger_evolution',
    ]);
    const llm = tools.find((tool) => tool.name === 'send_llm_prompt');
    expect(JSON.parse(llm?.inputSchema ?? '{}')).toMatchObject({
      type: 'object',
      properties: { prompt: { type: 'string' } },
      required: ['prompt'],
    });
  });

  it('executes get_os_state: the browser bridge reaches every lab backend and serves on WebMCP', async () => {
    await expect
      .poll(
        async () => {
          const state = await executeTool('get_os_state', { include: ['health'] });
          return (state.health as { status: string }).status;
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe('pass');
    const state = await executeTool('get_os_state', {});
    expect(state).toMatchObject({
      success: true,
      tools: { registered: 6 },
      health: {
        status: 'pass',
        backends: {
          evolution: { status: 'pass', state: 'CONNECTED' },
          lmStudio: { status: 'pass' },
          webmcp: { kind: 'webmcp', status: 'pass', state: 'SERVING' },
        },
      },
    });
  });

  it('executes backend tools, and the bridge validates input (the polyfill does not)', async () => {
    expect(
      await executeTool('trigger_evolution', { seed_shader: 'void main(){}', generations: 3 }),
    ).toMatchObject({
      success: true,
      generationsCompleted: 3,
    });
    expect(await executeTool('send_llm_prompt', { prompt: 'hello from Chromium' })).toMatchObject({
      success: true,
    });
    expect(await executeTool('send_llm_prompt', { prompt: 7 })).toMatchObject({
      success: false,
      error_code: 'INVALID_INPUT',
      field: 'prompt',
    });
  });

  it('stop() unregisters every tool and the webmcp line stops passing', async () => {
    await page.evaluate(() => window.registration?.stop());
    await expect.poll(async () => (await listTools()).length, { timeout: 5_000 }).toBe(0);
    const line = await page.evaluate(() => window.bridge?.health().backends.webmcp);
    expect(line).toMatchObject({ status: 'warn', state: 'NOT_SERVING' });
    expect(pageErrors).toEqual([]);
  });
});
