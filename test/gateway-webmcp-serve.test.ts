/*
 * A WebMCP page behind `mcp-lifeline serve`, end to end: real Chromium started as a user would
 * (`--remote-debugging-port`, native WebMCP), the tool page served from 127.0.0.1, and the official
 * MCP SDK client spawning `serve` with a config file naming a `webmcp-page` backend (no `kinds`
 * anywhere). The client lists and calls the page's tools; the page reloads mid-run and answers again
 * within 2 s; a write tool is refused until an edit of the config file allows it (hot reload).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type StdioServe, serveOverStdio, waitFor } from './e2e/helpers.js';
import { startToolPage, type ToolPage } from './fixtures/webmcp-tool-page.js';
import { type CdpChromium, freePort, launchCdpChromium } from './support/cdp-chromium.js';
import { chromiumOrSkip } from './support/chromium.js';

// biome-ignore lint/suspicious/noExplicitAny: MCP results are read field by field in assertions
type Loose = Record<string, any>;

const lookup = chromiumOrSkip();
if (lookup.skipReason) console.warn(`gateway-webmcp-serve: skipped: ${lookup.skipReason}`);

describe.skipIf(lookup.skipReason !== undefined)(
  'a WebMCP page behind serve (native WebMCP in Chromium)',
  () => {
    let page: ToolPage;
    let browser: CdpChromium;
    let user: Browser;
    let client: Client;
    let file: string;
    let serve: StdioServe;
    const off = { enabled: false };

    const writeConfig = (pageEntry: Record<string, unknown>) =>
      writeFileSync(
        file,
        JSON.stringify({
          backends: { evolution: off, agents: off, a2a: off, lmStudio: off, page: pageEntry },
        }),
      );
    const call = async (name: string, args: Record<string, unknown> = {}) =>
      (await client.callTool({ name, arguments: args })) as Loose;
    const names = async () => (await client.listTools()).tools.map((tool) => tool.name);

    beforeAll(async () => {
      page = await startToolPage();
      browser = await launchCdpChromium(lookup.path as string, await freePort());
      user = await chromium.connectOverCDP(browser.cdpUrl);
      file = join(mkdtempSync(join(tmpdir(), 'gateway-webmcp-')), 'mcp-lifeline.config.json');
      writeConfig({ kind: 'webmcp-page', cdpUrl: browser.cdpUrl, pageUrl: page.url });
      serve = await serveOverStdio({ config: file, name: 'gateway-webmcp-test' });
      client = serve.client;
      await waitFor(async () => (await names()).includes('page__get_weather'), 30_000, 'page tools listed');
    }, 90_000);

    afterAll(async () => {
      await client?.close();
      await user?.close().catch(() => {});
      await browser?.kill();
      await page?.close();
    }, 30_000);

    test('lists and calls the page tools; health names the kind', async () => {
      expect(await names()).toEqual(
        expect.arrayContaining(['page__get_weather', 'page__read_inbox', 'page__add_todo', 'get_os_state']),
      );
      const weather = await call('page__get_weather', { city: 'Oslo' });
      expect(weather.isError).toBeFalsy();
      expect(weather.structuredContent).toMatchObject({ city: 'Oslo', tempC: 21 });
      const bad = await call('page__get_weather', {});
      expect(bad.structuredContent).toMatchObject({ error_code: 'INVALID_INPUT', field: 'city' });
      const health = (await call('get_os_state', { include: ['health'] })).structuredContent.health;
      expect(health.backends.page).toMatchObject({ kind: 'webmcp-page', state: 'READY', status: 'pass' });
    }, 30_000);

    test('the page reloads mid-run: its tools answer again within 2 s', async () => {
      const before = (await call('page__get_weather', { city: 'Rome' })).structuredContent.loadId;
      const tab = user
        .contexts()
        .flatMap((context) => context.pages())
        .find((candidate) => candidate.url().startsWith(page.url));
      if (!tab) throw new Error('no tab of the page');
      const reloadedAt = Date.now();
      await tab.reload({ waitUntil: 'commit' });
      const after = await waitFor(
        async () => {
          const result = await call('page__get_weather', { city: 'Rome' });
          return !result.isError && result.structuredContent.loadId !== before ? result : null;
        },
        10_000,
        'an answer from the reloaded page',
      );
      expect(Date.now() - reloadedAt).toBeLessThan(2_000);
      expect(after.structuredContent.city).toBe('Rome');
    }, 30_000);

    test('a write tool is refused, naming allowWrite, until an edit of the config allows it', async () => {
      const refused = await call('page__add_todo', { text: 'milk' });
      expect(refused.isError).toBe(true);
      expect(refused.structuredContent.error).toMatch(/backends\.page\.allowWrite/);
      writeConfig({
        kind: 'webmcp-page',
        cdpUrl: browser.cdpUrl,
        pageUrl: page.url,
        allowWrite: ['add_todo'],
      });
      await waitFor(() => /config reloaded: restarted page/.test(serve.stderr()), 15_000, 'the reload');
      const added = await waitFor(
        async () => {
          const result = await call('page__add_todo', { text: 'milk' });
          return result.isError ? null : result;
        },
        20_000,
        'add_todo allowed',
      );
      expect(added.structuredContent).toMatchObject({ added: 'milk' });
    }, 60_000);
  },
);
