/*
 * The Node side knows every kind: `mcp` and `webmcp-page` entries load and build without the caller
 * passing `kinds`, while the browser entry (src/index.ts) never reaches child_process or playwright.
 * playwright-core is optional: a missing package is a clear error naming it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { loadPlaywright, PlaywrightMissingError } from '../src/backends/webmcp-page/playwright.js';
import { createNodeBridge } from '../src/bridge/node.js';
import { loadConfig } from '../src/config.js';
import { quietLogger } from './bridge-fixtures.js';
import { LAB_UPSTREAM } from './mcp-support.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'node-kinds-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entries = {
  up: { kind: 'mcp', command: process.execPath, args: [LAB_UPSTREAM] },
  page: { kind: 'webmcp-page', cdpUrl: 'http://127.0.0.1:9', pageUrl: 'http://127.0.0.1:5173/' },
};

test('loadConfig validates mcp and webmcp-page entries without being given kinds', () => {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ backends: entries }));
  const config = loadConfig({ file, env: {} });
  expect(Object.keys(config.backends ?? {})).toEqual(['up', 'page']);
  writeFileSync(file, JSON.stringify({ backends: { page: { ...entries.page, cdpUrl: 'nope' } } }));
  expect(() => loadConfig({ file, env: {} })).toThrow(/backends\.page\.cdpUrl/);
});

test('createNodeBridge builds mcp and webmcp-page backends without being given kinds', async () => {
  const bridge = createNodeBridge({ backends: entries, logger: quietLogger });
  try {
    expect(bridge.health().backends.up?.kind).toBe('mcp');
    expect(bridge.health().backends.page?.kind).toBe('webmcp-page');
  } finally {
    await bridge.stop();
  }
});

/** Every file src/index.ts reaches through static imports, and every bare module they name. */
function reachable(entry: string): { files: Set<string>; modules: Set<string> } {
  const files = new Set<string>();
  const modules = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:import|export)\s[^;]*?from '([^']+)'/g)) {
      const specifier = match[1] as string;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else modules.add(specifier);
    }
  };
  visit(entry);
  return { files, modules };
}

test('the browser entry imports neither child_process nor playwright-core nor the Node kinds', () => {
  const { files, modules } = reachable(resolve(import.meta.dirname, '../src/index.ts'));
  expect([...modules].filter((m) => /child_process|playwright/.test(m))).toEqual([]);
  expect([...files].filter((f) => /node-kinds|backends\/(mcp|webmcp-page)\//.test(f))).toEqual([]);
});

test('a missing playwright-core is an error naming the package and how to install it', async () => {
  // The real failure of a dynamic import of a package that is not installed.
  const missing = () => import('playwright-core-not-installed-anywhere' as string);
  const error = await loadPlaywright(missing).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PlaywrightMissingError);
  expect((error as Error).message).toMatch(/playwright-core/);
  expect((error as Error).message).toMatch(/npm install playwright-core/);
  const { chromium } = await loadPlaywright();
  expect(typeof chromium.connectOverCDP).toBe('function');
});

test('package.json: playwright-core is an optional peer and a dev dependency', () => {
  const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../package.json'), 'utf8'));
  expect(pkg.peerDependencies?.['playwright-core']).toBeDefined();
  expect(pkg.peerDependenciesMeta?.['playwright-core']).toEqual({ optional: true });
  expect(pkg.devDependencies?.['playwright-core']).toBeDefined();
  expect(pkg.dependencies?.['playwright-core']).toBeUndefined();
});
