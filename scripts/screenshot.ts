/**
 * `npm run screenshot`: regenerates docs/inspector.png, the inspector as the README shows it. Starts
 * the lab (random ports), a bridge with small breaker thresholds, the inspector server and the page;
 * drives Debian's Chromium (playwright-core, never a downloaded browser) to take the evolution backend
 * down with the page's own button, and captures the page at 1280×800 while its breaker is OPEN.
 *
 * `startInspectorDemo` is shared with test/inspector-chromium.test.ts, which runs the same flow.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import type { Bridge } from '../src/bridge/types.js';
import {
  createInspectedBridge,
  type InspectionRelay,
  type InspectorPage,
  type InspectorServer,
  startInspectorPage,
  startInspectorServer,
} from '../src/inspector/index.js';
import { isMainModule } from '../src/is-main.js';
import { type Lab, startLab } from '../src/lab/index.js';
import { CHROMIUM_ARGS, findChromium, INSTALL_HINT } from '../test/support/chromium.js';

export const SCREENSHOT_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'inspector.png');
export const BACKENDS = ['evolution', 'agents', 'a2a', 'lmStudio'] as const;

export interface InspectorDemo {
  lab: Lab;
  bridge: Bridge;
  relay: InspectionRelay;
  server: InspectorServer;
  page: InspectorPage;
  stop(): Promise<void>;
}

/** Lab + bridge (breakers that trip on the first failure and half-open after 1 s) + server + page. */
export async function startInspectorDemo(options: { record?: string } = {}): Promise<InspectorDemo> {
  const lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  const socket = {
    breaker: { failureThreshold: 1, resetTimeoutMs: 1_000 },
    retry: { maxRetries: 0, baseDelayMs: 100, maxDelayMs: 300 },
    heartbeat: { intervalMs: 1_000, timeoutMs: 500 },
    connectTimeoutMs: 1_000,
  };
  const { bridge, relay } = createInspectedBridge({
    logger: { warn() {} },
    healthCheckIntervalMs: 1_000,
    backends: {
      evolution: { url: lab.urls.evolution, options: socket },
      agents: { url: lab.urls.agents, options: socket },
      a2a: { url: lab.urls.a2a, options: socket },
      lmStudio: {
        url: lab.urls.lmStudio,
        options: { breaker: { failureThreshold: 1, resetTimeoutMs: 1_000 }, probeIntervalMs: 1_000 },
      },
    },
  });
  await bridge.start();
  const server = await startInspectorServer({
    bridge,
    relay,
    labControl: { url: lab.urls.control, token: lab.token },
    ...(options.record ? { record: options.record } : {}),
  });
  const page = await startInspectorPage({
    wsUrl: server.url,
    logLevel: 'silent',
    cacheDir: mkdtempSync(join(tmpdir(), 'mcp-lifeline-inspector-vite-')),
  });
  server.allowPageOrigin(page.origin);
  return {
    lab,
    bridge,
    relay,
    server,
    page,
    async stop() {
      await page.stop();
      await server.stop();
      await bridge.stop();
      relay.stop();
      await lab.stop();
    },
  };
}

/** Waits until the card of `actor` shows `value` (its current state). */
export async function waitForState(page: Page, actor: string, value: string, timeout = 5_000): Promise<void> {
  await page.waitForSelector(`.card[data-actor="${actor}"][data-value="${value}"]`, { timeout });
}

async function main() {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(`Chromium not found; install it with: ${INSTALL_HINT}`);
  const demo = await startInspectorDemo();
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(demo.page.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    await waitForState(page, 'evolution', 'CONNECTED', 15_000);
    await page.click('button[data-backend="evolution"][data-fault="down"]');
    await waitForState(page, 'evolution.breaker', 'OPEN', 10_000);
    await page.waitForSelector('tr[data-backend="evolution"][data-status="fail"]', { timeout: 10_000 });
    // Let the breaker timeline show a few OPEN / HALF_OPEN periods, and show the trip's snapshot.
    await page.waitForTimeout(3_000);
    await page.click('.log-entry >> text=FAILURE');
    mkdirSync(dirname(SCREENSHOT_PATH), { recursive: true });
    await page.screenshot({ path: SCREENSHOT_PATH });
    process.stdout.write(`wrote ${SCREENSHOT_PATH}\n`);
  } finally {
    await browser.close();
    await demo.stop();
  }
}

if (isMainModule(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `screenshot: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
