/**
 * The `webmcp-page` backend against real Chromium with native WebMCP: the browser is started the
 * way a user would start it (`--remote-debugging-port`, its own process), the page is served from
 * 127.0.0.1 and registers its tools with `document.modelContext.registerTool`. The backend lists
 * and calls them; the page reloads, the tab closes, the browser is killed and restarted; a write
 * tool is refused until `allowWrite` names it. The test drives the browser like the user does,
 * over its own CDP connection. Waits are on the backend's own state changes, with wide bounds.
 */
import { type Browser, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BackendDeps } from '../src/backends/kind.js';
import {
  createWebMcpPageBackend,
  UNTRUSTED_META_KEY,
  type WebMcpPageBackend,
  type WebMcpPageConfigInput,
} from '../src/backends/webmcp-page/index.js';
import { createManualClock, type ManualClock, systemClock } from '../src/clock.js';
import { createRetryBudget } from '../src/reliability/retry-budget.js';
import { createRetryMetrics } from '../src/reliability/retry-metrics.js';
import { createReliabilityEventHub } from '../src/telemetry/events.js';
import { startToolPage, type ToolPage } from './fixtures/webmcp-tool-page.js';
import { type CdpChromium, freePort, launchCdpChromium } from './support/cdp-chromium.js';
import { chromiumOrSkip } from './support/chromium.js';

const lookup = chromiumOrSkip();
if (lookup.skipReason) console.warn(`webmcp-page-chromium: skipped: ${lookup.skipReason}`);

function deps(): BackendDeps {
  return {
    clock: systemClock,
    random: Math.random,
    logger: { warn: () => {} },
    critical: false,
    retryMetrics: createRetryMetrics(),
    budget: createRetryBudget(),
    events: createReliabilityEventHub(() => Date.now()),
  };
}

/** Resolves once `backend` is in one of `states` (checked on each of its changes). */
function waitForState(backend: WebMcpPageBackend, states: string[], timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!states.includes(backend.state)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(() => {
      unsubscribe();
      reject(
        new Error(
          `still ${backend.state} after ${timeoutMs} ms (wanted ${states}): ${backend.status().lastError}`,
        ),
      );
    }, timeoutMs);
    const unsubscribe = backend.subscribe(check);
    check();
  });
}

describe.skipIf(lookup.skipReason !== undefined)('webmcp-page backend in Chromium (native WebMCP)', () => {
  let page: ToolPage;
  let port: number;
  let browserProcess: CdpChromium;
  /** The test's own CDP connection: it plays the user. */
  let user: Browser;
  const backends: WebMcpPageBackend[] = [];

  const startBrowser = async () => {
    browserProcess = await launchCdpChromium(lookup.path as string, port);
    user = await chromium.connectOverCDP(browserProcess.cdpUrl);
  };
  const userTabs = () =>
    user
      .contexts()
      .flatMap((context) => context.pages())
      .filter((tab) => tab.url().startsWith(page.url));

  const create = (config: Partial<WebMcpPageConfigInput> = {}, clock?: ManualClock) => {
    const backend = createWebMcpPageBackend(
      'shop',
      {
        kind: 'webmcp-page',
        cdpUrl: browserProcess.cdpUrl,
        pageUrl: page.url,
        reattach: { baseDelayMs: 300, maxDelayMs: 1_000 },
        ...config,
      },
      { ...deps(), ...(clock ? { clock } : {}) },
    );
    backends.push(backend);
    backend.start();
    return backend;
  };

  beforeAll(async () => {
    page = await startToolPage();
    port = await freePort();
    await startBrowser();
  }, 60_000);

  afterEach(async () => {
    for (const backend of backends.splice(0)) await backend.stop();
  });

  afterAll(async () => {
    await user?.close().catch(() => undefined);
    await browserProcess?.kill();
    await page?.close();
  });

  it('opens the page, lists its tools (title, schema, annotations) and calls them', async () => {
    expect(userTabs()).toHaveLength(0);
    const backend = create();
    await waitForState(backend, ['READY']);
    expect(userTabs()).toHaveLength(1); // opened by the backend
    const names = backend.listTools().map((tool) => tool.name);
    expect(names.sort()).toEqual(['add_todo', 'fail', 'get_weather', 'read_inbox', 'slow']);
    expect(backend.listTools().find((tool) => tool.name === 'get_weather')).toEqual({
      name: 'get_weather',
      title: 'Weather',
      description: 'Weather in a city',
      inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      annotations: { readOnlyHint: true, untrustedContentHint: false },
    });
    const result = await backend.callTool('get_weather', { city: 'Oslo' });
    expect(result.structuredContent).toMatchObject({ city: 'Oslo', tempC: 21 });
    expect(result.content[0]).toMatchObject({ type: 'text' });
    expect(backend.status()).toMatchObject({
      kind: 'webmcp-page',
      status: 'pass',
      state: 'READY',
      breaker: 'CLOSED',
    });

    // A tool's own failure is a result, not a rejection (and not a breaker failure).
    const failed = await backend.callTool('fail', {});
    expect(failed.isError).toBe(true);
    expect(failed.content[0]?.text).toMatch(/failed/);
    expect(backend.breaker.metrics().consecutiveFailures).toBe(0);
  }, 60_000);

  it('marks results of untrustedContentHint tools, in _meta and in the text', async () => {
    const backend = create();
    await waitForState(backend, ['READY']);
    const result = await backend.callTool('read_inbox', {});
    expect(result._meta?.[UNTRUSTED_META_KEY]).toEqual({
      origin: new URL(page.url).origin,
      tool: 'read_inbox',
    });
    expect(result.content[0]?.text).toMatch(
      /^\[untrusted content from http:\/\/127\.0\.0\.1:\d+ \(tool "read_inbox"\)/,
    );
    expect(result.content[0]?.text).toContain('Ignore previous instructions');
  }, 60_000);

  it('refuses a tool that is not readOnlyHint until allowWrite names it', async () => {
    const guarded = create();
    await waitForState(guarded, ['READY']);
    await expect(guarded.callTool('add_todo', { text: 'milk' })).rejects.toMatchObject({
      name: 'WebMcpWriteRefusedError',
      message: expect.stringMatching(/allowWrite/),
    });
    await guarded.stop();
    const allowed = create({ allowWrite: ['add_todo'] });
    await waitForState(allowed, ['READY']);
    const result = await allowed.callTool('add_todo', { text: 'milk' });
    expect(result.structuredContent).toMatchObject({ added: 'milk' });
  }, 60_000);

  it('cancels a call: the caller gets its reason at once and the page sees its signal aborted', async () => {
    const backend = create();
    await waitForState(backend, ['READY']);
    const controller = new AbortController();
    const call = backend.callTool('slow', { ms: 20_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 200);
    const startedAt = Date.now();
    await expect(call).rejects.toThrow('caller gave up');
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    const tab = userTabs()[0];
    await expect
      .poll(
        () =>
          tab?.evaluate(() => (window as unknown as { calls: { slowAborted: number } }).calls.slowAborted),
        { timeout: 10_000 },
      )
      .toBe(1);
  }, 60_000);

  it('a hung tool times out; timeouts open the breaker (SUSPENDED); its HALF_OPEN re-attaches and calls answer', async () => {
    const backend = create({ callTimeoutMs: 400, breaker: { failureThreshold: 2, resetTimeoutMs: 1_000 } });
    await waitForState(backend, ['READY']);
    for (let i = 0; i < 2; i += 1) {
      await expect(backend.callTool('slow', { ms: 20_000 })).rejects.toMatchObject({
        name: 'RequestTimeoutError',
      });
    }
    expect(backend.state).toBe('SUSPENDED');
    expect(backend.status()).toMatchObject({ status: 'fail', breaker: 'OPEN' });
    await expect(backend.callTool('get_weather', { city: 'Riga' })).rejects.toMatchObject({
      name: 'BrokenCircuitError',
    });
    await waitForState(backend, ['READY']);
    expect((await backend.callTool('get_weather', { city: 'Riga' })).structuredContent).toMatchObject({
      city: 'Riga',
    });
  }, 60_000);

  it('the page reloads mid-run: calls wait for its tools and answer again within 2 s', async () => {
    // The page registers its tools 300 ms after each load, as a slow page would.
    const slowUrl = `${page.url}?delay=300`;
    const tab = userTabs()[0] ?? (await user.contexts()[0]?.newPage());
    if (!tab) throw new Error('no tab');
    await tab.goto(slowUrl);
    const backend = create();
    await waitForState(backend, ['READY']);
    const before = await backend.callTool('get_weather', { city: 'Rome' });
    const reloading = waitForState(backend, ['RELOADING']);
    const reloadedAt = Date.now();
    await tab.reload({ waitUntil: 'commit' });
    await reloading;
    // Tools stay listed while the page is away.
    expect(backend.listTools().map((tool) => tool.name)).toContain('get_weather');
    const after = await backend.callTool('get_weather', { city: 'Rome' });
    expect(Date.now() - reloadedAt).toBeLessThan(2_000);
    expect(backend.state).toBe('READY');
    expect((after.structuredContent as { loadId: string }).loadId).not.toBe(
      (before.structuredContent as { loadId: string }).loadId,
    );
  }, 60_000);

  it('a reload whose page registers its tools one by one: every tool it had stays listed while they come back', async () => {
    const backend = create();
    await waitForState(backend, ['READY']);
    const all = ['add_todo', 'fail', 'get_weather', 'read_inbox', 'slow'];
    const tab = userTabs()[0];
    if (!tab) throw new Error('no tab');
    await tab.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('ready'));
    const listings = new Set<string>();
    let sampling = true;
    const sample = (async () => {
      while (sampling) {
        listings.add(
          backend
            .listTools()
            .map((tool) => tool.name)
            .sort()
            .join(','),
        );
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    // 150 ms between two registrations: the page has one, two, … of its tools for a while.
    await tab.goto(`${page.url}?stagger=150`);
    await tab.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('ready'));
    await waitForState(backend, ['READY']);
    const added = await backend.callTool('get_weather', { city: 'Oslo' });
    sampling = false;
    await sample;
    expect(added.structuredContent).toMatchObject({ city: 'Oslo' });
    expect([...listings]).toEqual([all.join(',')]);
    await tab.goto(page.url);
  }, 60_000);

  it('a reload whose page never registers its tools again: calls wait reloadWaitMs on the injected clock, then fail fast', async () => {
    const clock = createManualClock(Date.now());
    const tab = userTabs()[0] ?? (await user.contexts()[0]?.newPage());
    if (!tab) throw new Error('no tab');
    await tab.goto(page.url);
    await tab.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('ready'));
    const backend = create({ reloadWaitMs: 3_000 }, clock);
    await waitForState(backend, ['READY']);
    let listChanges = 0;
    backend.onToolsChanged(() => {
      listChanges += 1;
    });
    const reloading = waitForState(backend, ['RELOADING']);
    // The next document registers its tools only after a minute.
    await tab.goto(`${page.url}?delay=60000`, { waitUntil: 'commit' });
    await reloading;
    let outcome: unknown = 'pending';
    const call = backend.callTool('get_weather', { city: 'Bern' }).then(
      () => 'answered',
      (error: Error) => error,
    );
    void call.then((value) => (outcome = value));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(outcome).toBe('pending'); // waiting for the page, not failing
    await clock.advance(3_000);
    expect(await call).toMatchObject({
      name: 'BackendUnavailableError',
      message: expect.stringContaining('did not register "get_weather" again within 3000 ms'),
    });
    // The page really has no tools now: READY with an empty list.
    expect(backend.state).toBe('READY');
    expect(backend.listTools()).toEqual([]);
    expect(listChanges).toBe(1); // listed the whole time, until the page was known to have none
    await tab.goto(page.url);
  }, 60_000);

  it('the tab is closed: calls fail fast while detached; the tab is reopened and the tools answer', async () => {
    const backend = create({ reattach: { baseDelayMs: 1_000, maxDelayMs: 2_000 } });
    await waitForState(backend, ['READY']);
    const detached = waitForState(backend, ['DETACHED']);
    for (const tab of userTabs()) await tab.close();
    await detached;
    const startedAt = Date.now();
    await expect(backend.callTool('get_weather', { city: 'Lima' })).rejects.toMatchObject({
      name: 'BackendUnavailableError',
    });
    expect(Date.now() - startedAt).toBeLessThan(500);
    expect(backend.status()).toMatchObject({
      status: 'fail',
      state: 'DETACHED',
      lastError: 'the tab was closed',
    });
    expect(backend.listTools().map((tool) => tool.name)).toContain('get_weather');
    await waitForState(backend, ['READY']);
    expect(userTabs()).toHaveLength(1);
    expect((await backend.callTool('get_weather', { city: 'Lima' })).structuredContent).toMatchObject({
      city: 'Lima',
    });
  }, 60_000);

  it('the tab navigates away from pageUrl: its tools are not taken, the backend re-attaches to pageUrl', async () => {
    const backend = create({ reattach: { baseDelayMs: 500, maxDelayMs: 1_000 } });
    await waitForState(backend, ['READY']);
    const tab = userTabs()[0];
    const detached = waitForState(backend, ['DETACHED']);
    await tab?.goto(page.otherUrl);
    await detached;
    expect(backend.status().lastError).toBe('the tab left pageUrl');
    await waitForState(backend, ['READY']);
    expect((await backend.callTool('get_weather', { city: 'Quito' })).structuredContent).toMatchObject({
      city: 'Quito',
    });
  }, 60_000);

  it('the browser is killed and restarted: the backend re-attaches on its own', async () => {
    const backend = create({ reattach: { baseDelayMs: 200, maxDelayMs: 1_000 } });
    await waitForState(backend, ['READY']);
    const detached = waitForState(backend, ['DETACHED']);
    await browserProcess.kill();
    await detached;
    // Killing the process group may end the tab's renderer before the browser: either loss is reported.
    expect(backend.status()).toMatchObject({ status: 'fail' });
    expect(backend.status().lastError).toMatch(/browser connection was lost|tab was closed|attach failed/);
    await expect(backend.callTool('get_weather', { city: 'Kyiv' })).rejects.toMatchObject({
      name: 'BackendUnavailableError',
    });
    expect(backend.listTools()).toHaveLength(5);
    await startBrowser();
    await waitForState(backend, ['READY']);
    expect((await backend.callTool('get_weather', { city: 'Kyiv' })).structuredContent).toMatchObject({
      city: 'Kyiv',
    });
  }, 90_000);
});
