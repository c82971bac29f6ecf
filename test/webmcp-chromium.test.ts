/**
 * WebMCP in real Chromium, both ways: a Vite-served page builds the browser bridge against the lab
 * and registers the bridge's tools on `document.modelContext` — once provided by the WebMCP polyfill,
 * once by Chromium's native implementation (`--enable-features=WebMCPTesting`). The same tests list
 * the tools with `document.modelContext.getTools()` and run them with `executeTool` (native takes the
 * input as an object, the polyfill as a JSON string). LM Studio is reached through Vite's proxy (same
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
  title?: string;
  description: string;
  inputSchema?: Record<string, unknown> | string;
  annotations?: { readOnlyHint?: boolean; untrustedContentHint?: boolean };
}

type Mode = 'polyfill' | 'native';

let lab: Lab;
let vite: ViteDevServer;
let base: string;

if (lookup.skipReason === undefined) {
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
    const url = vite.resolvedUrls?.local[0];
    if (!url) throw new Error('vite did not report its URL');
    base = url;
  }, 60_000);

  afterAll(async () => {
    await vite?.close();
    await lab?.stop();
  });
}

describe.skipIf(lookup.skipReason !== undefined).each<Mode>(['polyfill', 'native'])(
  'WebMCP in Chromium (%s)',
  (mode) => {
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      const args = mode === 'native' ? [...CHROMIUM_ARGS, '--enable-features=WebMCPTesting'] : CHROMIUM_ARGS;
      browser = await chromium.launch({ executablePath: lookup.path as string, args });
      page = await browser.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      const query = new URLSearchParams({
        evolution: lab.urls.evolution,
        agents: lab.urls.agents,
        a2a: lab.urls.a2a,
        lmStudio: new URL('/v1', base).href,
        ...(mode === 'native' ? { webmcp: 'native' } : {}),
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
      expect(await page.evaluate(() => window.webmcp)).toBe(mode);
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    /** `document.modelContext.getTools()`, copied field by field (each tool's `window` cannot cross). */
    async function listTools(): Promise<ToolInfo[]> {
      return page.evaluate(async () => {
        const context = (document as unknown as { modelContext: { getTools(): Promise<ToolInfo[]> } })
          .modelContext;
        return (await context.getTools()).map((tool) => ({
          name: tool.name,
          title: tool.title,
          description: tool.description,
          inputSchema: tool.inputSchema,
          annotations: tool.annotations,
        }));
      });
    }

    async function executeTool(
      name: string,
      args: Record<string, unknown>,
    ): Promise<Record<string, unknown>> {
      const text = await page.evaluate(
        async ([toolName, input, native]) => {
          const context = (
            document as unknown as {
              modelContext: {
                getTools(): Promise<{ name: string }[]>;
                executeTool(tool: unknown, input: unknown): Promise<string>;
              };
            }
          ).modelContext;
          const tool = (await context.getTools()).find((candidate) => candidate.name === toolName);
          if (!tool) throw new Error(`no tool ${toolName}`);
          // Chromium takes the input as an object; the polyfill as a JSON string.
          return context.executeTool(tool, native ? input : JSON.stringify(input));
        },
        [name, args, mode === 'native'] as const,
      );
      return JSON.parse(text) as Record<string, unknown>;
    }

    const schemaOf = (tool: ToolInfo | undefined) =>
      typeof tool?.inputSchema === 'string' ? JSON.parse(tool.inputSchema) : tool?.inputSchema;

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
      expect(schemaOf(llm)).toMatchObject({
        type: 'object',
        properties: { prompt: { type: 'string' } },
        required: ['prompt'],
      });
    });

    it('passes titles and marks the read-only tools readOnlyHint', async () => {
      const tools = await listTools();
      for (const name of ['get_os_state', 'reliability_get_status']) {
        const tool = tools.find((candidate) => candidate.name === name);
        expect(tool?.annotations?.readOnlyHint, name).toBe(true);
        expect(tool?.title, name).toBeTruthy();
      }
      const llm = tools.find((tool) => tool.name === 'send_llm_prompt');
      expect(llm?.annotations?.readOnlyHint ?? false).toBe(false);
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

    it('follows the bridge: a tool added later is registered, removing it unregisters it', async () => {
      await page.evaluate(() => window.addLaterTool?.());
      await page.evaluate(() => window.registration?.settled());
      await expect
        .poll(async () => (await listTools()).map((t) => t.name), { timeout: 5_000 })
        .toContain('later_tool');
      expect(await executeTool('later_tool', { n: 3 })).toMatchObject({ success: true, doubled: 6 });
      await page.evaluate(() => window.removeLaterTool?.());
      await page.evaluate(() => window.registration?.settled());
      await expect
        .poll(async () => (await listTools()).map((t) => t.name), { timeout: 5_000 })
        .not.toContain('later_tool');
      expect(pageErrors).toEqual([]);
    });

    it('stop() unregisters every tool and the webmcp line stops passing', async () => {
      await page.evaluate(() => window.registration?.stop());
      await expect.poll(async () => (await listTools()).length, { timeout: 5_000 }).toBe(0);
      const line = await page.evaluate(() => window.bridge?.health().backends.webmcp);
      expect(line).toMatchObject({ status: 'warn', state: 'NOT_SERVING' });
      expect(pageErrors).toEqual([]);
    });
  },
);
