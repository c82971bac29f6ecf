/**
 * The inspector page under load in real Chromium: ≥ 1 000 inspection events per second for 10 s,
 * produced by real XState actors (ten flapping "links" and a bridge with no backends) through the real
 * relay and inspector server, i.e. the same path a flapping lab's events take. Asserts that the page
 * stays responsive (requestAnimationFrame gaps, p95 < 200 ms; a click on Pause is handled and painted
 * within 200 ms at p95), that the event log stays capped, and that the heap after a forced GC stays
 * bounded.
 *
 * The issue asks for memory bounded over 10 minutes of a flapping lab; this is a compressed version:
 * 10 s at 1 000 events/s = 10 000 events, five times the log's cap, so every bounded structure has
 * wrapped several times. `npm run soak` covers the bridge's own heap over minutes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnyActorRef, assign, createActor, setup } from 'xstate';
import { LOG_CAP } from '../inspector/src/store.js';
import {
  createInspectedBridge,
  type InspectorPage,
  type InspectorServer,
  startInspectorPage,
  startInspectorServer,
} from '../src/inspector/index.js';
import { CHROMIUM_ARGS, chromiumOrSkip, collectProblems } from './support/chromium.js';

const lookup = chromiumOrSkip();
if (lookup.skipReason) console.warn(`inspector-load-chromium: skipped: ${lookup.skipReason}`);

const EVENTS_PER_SECOND = 1_000;
/** The producer aims a little above the floor, so timer jitter cannot take the rate under it. */
const TARGET_RATE = 1_100;
const SECONDS = 10;
const ACTORS = 10;

/** A link that flaps: UP ⇄ DOWN on FLAP, counting its flaps. */
const link = setup({
  types: { context: {} as { flaps: number }, events: {} as { type: 'FLAP' } },
}).createMachine({
  id: 'link',
  context: { flaps: 0 },
  initial: 'UP',
  states: {
    UP: { on: { FLAP: { target: 'DOWN', actions: assign({ flaps: ({ context }) => context.flaps + 1 }) } } },
    DOWN: { on: { FLAP: { target: 'UP', actions: assign({ flaps: ({ context }) => context.flaps + 1 }) } } },
  },
});

interface PageStats {
  frames: number;
  p95: number;
  max: number;
}

describe.skipIf(lookup.skipReason !== undefined)('inspector page under 1 000 events/s in Chromium', () => {
  let bridge: ReturnType<typeof createInspectedBridge>['bridge'];
  let relay: ReturnType<typeof createInspectedBridge>['relay'];
  let server: InspectorServer;
  let inspector: InspectorPage;
  let browser: Browser;
  let page: Page;
  const links: AnyActorRef[] = [];
  const problems: string[] = [];

  const heap = () =>
    page.evaluate(() => {
      (window as unknown as { gc: () => void }).gc();
      return (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize;
    });

  beforeAll(async () => {
    ({ bridge, relay } = createInspectedBridge({ logger: { warn() {} }, backends: {} }));
    await bridge.start();
    for (let i = 0; i < ACTORS; i++) links.push(createActor(link, { inspect: relay.inspect }).start());
    server = await startInspectorServer({ bridge, relay });
    inspector = await startInspectorPage({
      wsUrl: server.url,
      hmr: false,
      logLevel: 'silent',
      cacheDir: mkdtempSync(join(tmpdir(), 'inspector-load-vite-')),
    });
    browser = await chromium.launch({
      executablePath: lookup.path as string,
      args: [...CHROMIUM_ARGS, '--enable-precise-memory-info', '--js-flags=--expose-gc'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    collectProblems(page, problems);
    await page.goto(inspector.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
    await page.waitForSelector('.card[data-actor="link"] svg.diagram .state', { timeout: 10_000 });
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    await inspector?.stop();
    await server?.stop();
    for (const actor of links) actor.stop();
    await bridge?.stop();
    relay?.stop();
  });

  it(`stays responsive with a capped log and a bounded heap at ${EVENTS_PER_SECOND} events/s for ${SECONDS} s`, async () => {
    const before = await heap();
    // Frame gaps, recorded in the page.
    await page.evaluate(() => {
      const w = window as unknown as { frameGaps: number[] };
      w.frameGaps = [];
      let last = performance.now();
      const tick = (now: number) => {
        w.frameGaps.push(now - last);
        last = now;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });

    // 1 100 events/s: a batch of ~55 FLAPs every 50 ms, spread over the links.
    let sent = 0;
    const started = Date.now();
    const producer = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1_000) * TARGET_RATE) - sent;
      for (let i = 0; i < due; i++) links[(sent + i) % ACTORS]?.send({ type: 'FLAP' });
      sent += Math.max(0, due);
    }, 50);

    // Click-to-paint: the Pause button toggles and the next frame follows within the budget.
    const clicks: number[] = [];
    try {
      while (Date.now() - started < SECONDS * 1_000) {
        await new Promise((resolve) => setTimeout(resolve, 400));
        clicks.push(
          await page.evaluate(
            () =>
              new Promise<number>((resolve) => {
                const button = document.getElementById('log-pause') as HTMLButtonElement;
                const t0 = performance.now();
                button.click();
                requestAnimationFrame(() => resolve(performance.now() - t0));
              }),
          ),
        );
      }
    } finally {
      clearInterval(producer);
    }
    const elapsed = (Date.now() - started) / 1_000;
    relay.flush();
    // Leave the log running (an even number of clicks) and let the page take in the last batches.
    if (clicks.length % 2 === 1) await page.click('#log-pause');
    await expect
      .poll(async () => (await page.textContent('#log-count')) ?? '', { timeout: 5_000 })
      .toMatch(new RegExp(`^${LOG_CAP} events`));

    const frames = (await page.evaluate(() => {
      const gaps = (window as unknown as { frameGaps: number[] }).frameGaps.slice(1).sort((a, b) => a - b);
      return {
        frames: gaps.length,
        p95: gaps[Math.floor(gaps.length * 0.95)] ?? Number.POSITIVE_INFINITY,
        max: gaps.at(-1) ?? Number.POSITIVE_INFINITY,
      };
    })) as PageStats;
    const sortedClicks = [...clicks].sort((a, b) => a - b);
    const clickP95 = sortedClicks[Math.floor(sortedClicks.length * 0.95)] ?? Number.POSITIVE_INFINITY;
    const after = await heap();
    const rows = await page.$$eval('#log-list li', (items) => items.length);
    const report = {
      events: sent,
      rate: Math.round(sent / elapsed),
      relay: { ...relay.stats },
      frames,
      clickP95: Math.round(clickP95),
      heapMB: { before: +(before / 2 ** 20).toFixed(1), after: +(after / 2 ** 20).toFixed(1) },
      rows,
    };
    console.info(`inspector-load: ${JSON.stringify(report)}`);

    expect(sent / elapsed).toBeGreaterThanOrEqual(EVENTS_PER_SECOND);
    expect(sent).toBeGreaterThanOrEqual(EVENTS_PER_SECOND * SECONDS);
    expect(frames.frames).toBeGreaterThan(SECONDS * 20); // ≥ 20 fps on average
    expect(frames.p95).toBeLessThan(200);
    expect(clickP95).toBeLessThan(200);
    expect(rows).toBeLessThanOrEqual(200);
    // The log holds LOG_CAP (2 000) of the 10 000+ events; the heap after GC stays within a few MB of the start.
    expect(after - before).toBeLessThan(20 * 2 ** 20);
    expect(after).toBeLessThan(32 * 2 ** 20);
  }, 30_000);

  it('logged no console error or warning', () => {
    expect(problems).toEqual([]);
  });
});
