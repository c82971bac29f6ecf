/**
 * The inspector's in-page mode in real Chromium: the page runs the browser (WebMCP) build of the
 * bridge against the lab itself, registers its tools with the WebMCP polyfill, and inspects it through
 * `createInspectionRelay` directly (no inspector server, no WebSocket to one). Asserts the diagrams of
 * the in-page bridge's actors, that `navigator.modelContextTesting` lists the bridge's tools, and that
 * `get_os_state` runs through it; LM Studio is reached through the page's Vite proxy at `/v1`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForState } from '../scripts/screenshot.js';
import { type InspectorPage, startInspectorPage } from '../src/inspector/index.js';
import { type Lab, startLab } from '../src/lab/index.js';
import { CHROMIUM_ARGS, chromiumOrSkip, collectProblems } from './support/chromium.js';

const lookup = chromiumOrSkip();
if (lookup.skipReason) console.warn(`inspector-inpage-chromium: skipped: ${lookup.skipReason}`);

const BACKENDS = ['evolution', 'agents', 'a2a', 'lmStudio'];

describe.skipIf(lookup.skipReason !== undefined)('inspector page, in-page bridge, in Chromium', () => {
  let lab: Lab;
  let inspector: InspectorPage;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
    inspector = await startInspectorPage({
      inPage: {
        lab: new URL(lab.urls.evolution).origin,
        lmStudio: lab.urls.lmStudio,
        control: { url: lab.urls.control, token: lab.token },
      },
      hmr: false,
      logLevel: 'silent',
      cacheDir: mkdtempSync(join(tmpdir(), 'inspector-inpage-vite-')),
    });
    browser = await chromium.launch({ executablePath: lookup.path as string, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    collectProblems(page, problems);
    await page.goto(inspector.url);
    await page.waitForSelector('#conn[data-state="open"], #conn[data-state="closed"]', { timeout: 25_000 });
    expect(await page.textContent('#conn'), problems.join('\n')).toBe('in-page bridge · WebMCP');
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    await inspector?.stop();
    await lab?.stop();
  });

  it('draws the in-page bridge, its backends and breakers, live', async () => {
    const actors = ['bridge', ...BACKENDS, ...BACKENDS.map((name) => `${name}.breaker`)];
    for (const actor of actors) {
      await page.waitForSelector(`.card[data-actor="${actor}"] svg.diagram .state`, { timeout: 10_000 });
    }
    await waitForState(page, 'evolution', 'CONNECTED', 10_000);
    await waitForState(page, 'evolution.breaker', 'CLOSED');
    await page.waitForSelector('tr[data-backend="evolution"][data-status="pass"]', { timeout: 10_000 });
    // The lab's control server sends CORS headers: the fault buttons are there in this mode too.
    expect(await page.$('button[data-backend="evolution"][data-fault="down"]')).not.toBeNull();
  });

  it("lists the bridge's tools on navigator.modelContextTesting and executes get_os_state", async () => {
    const names = await page.evaluate(() =>
      (
        navigator as unknown as { modelContextTesting: { listTools(): { name: string }[] } }
      ).modelContextTesting
        .listTools()
        .map((tool) => tool.name)
        .sort(),
    );
    expect(names).toEqual([
      'get_os_state',
      'reliability_get_status',
      'send_a2a_message',
      'send_llm_prompt',
      'spawn_area_agent',
      'trigger_evolution',
    ]);
    const run = async () =>
      JSON.parse(
        await page.evaluate(() =>
          (
            navigator as unknown as {
              modelContextTesting: { executeTool(name: string, args: string): Promise<string> };
            }
          ).modelContextTesting.executeTool('get_os_state', '{}'),
        ),
      ) as { success: boolean; health: { status: string; backends: Record<string, { status: string }> } };
    await expect
      .poll(async () => (await run()).health.status, { timeout: 15_000, interval: 200 })
      .toBe('pass');
    const state = await run();
    expect(state.success).toBe(true);
    expect(state.health.backends.lmStudio?.status).toBe('pass');
    expect(state.health.backends.webmcp?.status).toBe('pass');
  });

  it('logged no console error or warning', () => {
    expect(problems).toEqual([]);
  });
});
