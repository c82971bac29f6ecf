/**
 * Finds Chromium for the browser tests. Locally, a machine without it skips those tests with a
 * message saying how to install it; under CI (`process.env.CI` set) a missing browser fails them.
 * Never downloads a browser.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';

/** Where Debian's `chromium` and the usual alternatives live; `CHROMIUM_PATH` comes first. */
export const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

export const INSTALL_HINT = 'apt-get update && apt-get install -y chromium';

/** Launch flags for headless runs in containers, with no background traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function findChromium(
  env: Record<string, string | undefined> = process.env,
  candidates: readonly string[] = CHROMIUM_CANDIDATES,
): string | undefined {
  const given = env.CHROMIUM_PATH;
  if (given && existsSync(given)) return given;
  return candidates.find((path) => existsSync(path));
}

export interface ChromiumLookup {
  /** The executable, when found. */
  path: string | undefined;
  /** Why the tests are skipped (found nothing, not under CI), or undefined when they run. */
  skipReason: string | undefined;
}

/**
 * The Chromium to run, or a skip reason. Under CI a missing Chromium throws instead: a browser test
 * that silently skips in CI tests nothing.
 */
export function chromiumOrSkip(
  env: Record<string, string | undefined> = process.env,
  candidates: readonly string[] = CHROMIUM_CANDIDATES,
): ChromiumLookup {
  const path = findChromium(env, candidates);
  if (path) return { path, skipReason: undefined };
  const message = `Chromium not found (looked at ${[env.CHROMIUM_PATH, ...candidates].filter(Boolean).join(', ')}); install it with: ${INSTALL_HINT}`;
  if (env.CI) throw new Error(`${message} (CI is set, so this fails instead of skipping)`);
  return { path: undefined, skipReason: message };
}

/** Records the page's uncaught errors and console errors/warnings into `problems` (a test expects none). */
export function collectProblems(page: Page, problems: string[], prefix = ''): void {
  page.on('pageerror', (error) => problems.push(`${prefix}pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`${prefix}console.${message.type()}: ${message.text()}`);
  });
}
