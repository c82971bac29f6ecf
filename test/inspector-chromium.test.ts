/**
 * The inspector end to end in real Chromium: lab + bridge (with the relay) + inspector server + the
 * Vite page. Asserts a diagram for every machine, takes the evolution backend down with the page's own
 * button, sees its breaker diagram highlight OPEN and the health panel show fail (the time taken is printed), brings it
 * back and sees CLOSED, with no console error or warning. Saves a screenshot (to a temporary file;
 * `npm run screenshot` regenerates docs/inspector.png with the same flow).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type InspectorDemo, startInspectorDemo, waitForState } from '../scripts/screenshot.js';
import { type RecordLine, startInspectorPage } from '../src/inspector/index.js';
import { CHROMIUM_ARGS, chromiumOrSkip, collectProblems } from './support/chromium.js';

const lookup = chromiumOrSkip();
if (lookup.skipReason) console.warn(`inspector-chromium: skipped: ${lookup.skipReason}`);

describe.skipIf(lookup.skipReason !== undefined)('inspector page in Chromium', () => {
  let demo: InspectorDemo;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const record = join(mkdtempSync(join(tmpdir(), 'inspector-record-')), 'incident.jsonl');

  beforeAll(async () => {
    demo = await startInspectorDemo({ record });
    browser = await chromium.launch({ executablePath: lookup.path as string, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    collectProblems(page, problems);
    await page.goto(demo.page.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('draws a statechart for the bridge, every backend and every breaker', async () => {
    const actors = ['bridge', ...BACKENDS, ...BACKENDS.map((name) => `${name}.breaker`)];
    for (const actor of actors) {
      await page.waitForSelector(`.card[data-actor="${actor}"] svg.diagram .state`, { timeout: 10_000 });
    }
    const breakerStates = await page.$$eval('.card[data-actor="evolution.breaker"] .state', (nodes) =>
      nodes.map((node) => node.getAttribute('data-key')),
    );
    expect(breakerStates).toEqual(['CLOSED', 'OPEN', 'HALF_OPEN']);
    const labels = await page.textContent('.card[data-actor="evolution.breaker"] svg');
    expect(labels).toContain('FAILURE [reachesFailureThreshold] → OPEN');
    expect(labels).toContain('after(resetTimeout) → HALF_OPEN');
    await waitForState(page, 'evolution', 'CONNECTED', 15_000);
    await waitForState(page, 'evolution.breaker', 'CLOSED');
    expect(
      await page.$('.card[data-actor="evolution.breaker"] .state[data-key="CLOSED"].active'),
    ).not.toBeNull();
  });

  // How long the trip takes in wall time depends on the machine's load, so it is printed, not asserted:
  // the waits below end on the page's own change and their bounds are only a safety net.
  it('takes evolution down with the page button: breaker OPEN and health fail; back up: CLOSED', async () => {
    const started = Date.now();
    await page.click('button[data-backend="evolution"][data-fault="down"]');
    await page.waitForSelector('.card[data-actor="evolution.breaker"] .state[data-key="OPEN"].active', {
      timeout: 30_000,
    });
    await page.waitForSelector('tr[data-backend="evolution"][data-status="fail"]', { timeout: 30_000 });
    console.info(
      `inspector-chromium: breaker OPEN and health fail shown ${Date.now() - started} ms after the click`,
    );
    expect(await page.getAttribute('tr[data-backend="evolution"]', 'data-breaker')).toMatch(/OPEN|HALF_OPEN/);

    // The event log shows the trip; clicking it shows the snapshot after it.
    await page.selectOption('#log-filter', 'evolution.breaker');
    await page.click('.log-entry >> text=FAILURE');
    expect(await page.textContent('#detail')).toContain('"value": "OPEN"');
    await page.selectOption('#log-filter', '');

    await page.screenshot({ path: join(mkdtempSync(join(tmpdir(), 'inspector-shot-')), 'inspector.png') });

    await page.click('button[data-backend="evolution"][data-fault="up"]');
    await waitForState(page, 'evolution.breaker', 'CLOSED', 30_000);
    await waitForState(page, 'evolution', 'CONNECTED', 30_000);
    await page.waitForSelector('tr[data-backend="evolution"][data-status="pass"]', { timeout: 30_000 });
    // The breaker's timeline shows the trip.
    expect(await page.getAttribute('.timeline-row[data-breaker="evolution"] svg', 'aria-label')).toMatch(
      /OPEN/,
    );
  }, 180_000);

  it('is keyboard navigable: fault buttons and log entries take focus', async () => {
    await page.focus('button[data-backend="evolution"][data-fault="down"]');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-fault'))).toBe('down');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-fault'))).toBe('up');
    await page.focus('.log-entry');
    await page.keyboard.press('Enter');
    expect(await page.textContent('#detail')).toContain('"snapshot"');
  });

  it('replays the recorded incident with a timeline to scrub and step', async () => {
    await page.close(); // the live page would retry its connection once the server is gone
    await demo.server.stop(); // flushes and closes the recording
    const replay = await startInspectorPage({
      replayFile: record,
      logLevel: 'silent',
      cacheDir: mkdtempSync(join(tmpdir(), 'inspector-replay-vite-')),
    });
    const second = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      collectProblems(second, problems, 'replay ');
      await second.goto(replay.url);
      await second.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      expect(await second.isVisible('#replay-range')).toBe(true);
      // Scrub to the end: the breaker tripped and recovered, and its timeline shows it.
      const max = Number(await second.getAttribute('#replay-range', 'max'));
      expect(max).toBeGreaterThan(20);
      await second.$eval(
        '#replay-range',
        (input, value) => {
          (input as HTMLInputElement).value = String(value);
          input.dispatchEvent(new Event('input'));
        },
        max,
      );
      await waitForState(second, 'evolution.breaker', 'CLOSED');
      // Scrub to just before the trip (found in the recording), then step forward until it opens.
      const lines = readFileSync(record, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as RecordLine);
      const breakerId = lines.find(
        (line) => line.message.type === '@xstate.actor' && line.message.name === 'evolution.breaker',
      )?.message as { sessionId: string } | undefined;
      const trip = lines.findIndex(
        (line) =>
          line.message.type === '@xstate.snapshot' &&
          line.message.sessionId === breakerId?.sessionId &&
          line.message.snapshot.value === 'OPEN',
      );
      expect(trip).toBeGreaterThan(0);
      await second.$eval(
        '#replay-range',
        (input, value) => {
          (input as HTMLInputElement).value = String(value);
          input.dispatchEvent(new Event('input'));
        },
        Math.max(1, trip - 6),
      );
      expect(await second.getAttribute('.card[data-actor="evolution.breaker"]', 'data-value')).toBe('CLOSED');
      let opened = false;
      for (let i = 0; i < 12 && !opened; i++) {
        await second.click('#replay-forward');
        opened =
          (await second.getAttribute('.card[data-actor="evolution.breaker"]', 'data-value')) === 'OPEN';
      }
      expect(opened).toBe(true);
      expect(await second.textContent('#replay-time')).toMatch(/^\+\d+\.\d+ s/);
    } finally {
      await second.close();
      await replay.stop();
    }
  });

  it('logged no console error or warning', () => {
    expect(problems).toEqual([]);
  });
});
