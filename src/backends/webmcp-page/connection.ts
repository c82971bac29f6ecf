/*
 * The Chrome DevTools Protocol side of a `webmcp-page` backend: connects to a browser the user runs
 * with remote debugging (playwright-core's `chromium.connectOverCDP`), finds the tab whose URL starts
 * with `pageUrl` (or opens it), and follows it: main-frame navigations, the tab closing, the browser
 * going away, and `toolchange` on its `document.modelContext` (through an exposed binding and an
 * init script, so that every later document of the tab reports too).
 *
 * playwright-core is loaded on first attach (`import()`), so a bridge with no `webmcp-page` backend
 * never needs it. It never launches or closes the user's browser and never closes the user's tabs:
 * `disconnect()` only drops the CDP connection.
 */
import type { Browser, Page } from 'playwright-core';
import { errorMessage } from '../../../machines/error-message.js';
import {
  abortCallScript,
  callToolScript,
  listToolsScript,
  type PageCallOutcome,
  type PageTool,
  toolChangeListenerScript,
} from './page-scripts.js';
import { loadPlaywright } from './playwright.js';

/** What the followed tab does. Called synchronously from Playwright's event handlers. */
export interface PageListener {
  /** The main frame committed a new document at `url` (navigation or reload). */
  navigated(url: string): void;
  /** The document's `toolchange` fired. */
  toolsChanged(): void;
  /** The tab closed or the browser connection was lost. */
  lost(reason: string): void;
}

export interface CdpPageConnectionOptions {
  cdpUrl: string;
  pageUrl: string;
  /** Open `pageUrl` in a new tab when no tab shows it. */
  openPage: boolean;
  /** Bound of `connectOverCDP` and of opening the page (Playwright's own timers). */
  timeoutMs: number;
  /** Name of the binding the page calls on `toolchange`; unique per backend. */
  binding: string;
  listener: PageListener;
}

/** Why an evaluation in the tab failed. */
export type EvaluateFailure = 'navigated' | 'closed' | 'other';

/** Sorts a Playwright error from `page.evaluate`: the document went away, the tab did, or else. */
export function classifyEvaluateError(error: unknown): EvaluateFailure {
  const message = errorMessage(error);
  if (/has been closed|Target closed|browser has disconnected|Browser closed|Session closed/i.test(message))
    return 'closed';
  if (/Execution context was destroyed|navigat|Frame was detached|Cannot find context/i.test(message))
    return 'navigated';
  return 'other';
}

/** One backend's CDP connection and followed tab. */
export class CdpPageConnection {
  private browser: Browser | undefined;
  private page: Page | undefined;
  /** Pages already given the binding and init script (Playwright cannot take them back). */
  private readonly instrumented = new WeakSet<Page>();
  private readonly origin: string;
  private detachPage: (() => void) | undefined;
  private disconnected = false;

  constructor(private readonly options: CdpPageConnectionOptions) {
    this.origin = new URL(options.pageUrl).origin;
  }

  /** True while a tab is followed. */
  get attached(): boolean {
    return this.page !== undefined;
  }

  /** The followed tab's URL, or null. */
  get url(): string | null {
    return this.page?.url() ?? null;
  }

  /** Whether `url` belongs to this backend's page. */
  matches(url: string): boolean {
    return url.startsWith(this.options.pageUrl);
  }

  /**
   * Connects when not connected, finds the tab (or opens it) and follows it. Rejects when the
   * browser cannot be reached, or there is no such tab and `openPage` is false. `signal` aborting
   * (the machine left ATTACHING) leaves the connection for the next attach but follows no tab.
   */
  async attach(signal: AbortSignal): Promise<void> {
    if (this.disconnected) throw new Error('the connection was closed');
    const browser = await this.connect();
    signal.throwIfAborted();
    if (this.page && !this.page.isClosed() && this.matches(this.page.url())) return;
    this.release();
    let page = browser
      .contexts()
      .flatMap((context) => context.pages())
      .find((candidate) => !candidate.isClosed() && this.matches(candidate.url()));
    let open = false;
    if (!page) {
      if (!this.options.openPage) throw new Error(`no tab shows ${this.options.pageUrl} (openPage is false)`);
      const context = browser.contexts()[0] ?? (await browser.newContext());
      page = await context.newPage();
      open = true;
    }
    await this.instrument(page);
    if (signal.aborted) throw signal.reason;
    this.follow(page);
    if (open) {
      await page.goto(this.options.pageUrl, { waitUntil: 'commit', timeout: this.options.timeoutMs });
    } else {
      await this.evaluate(toolChangeListenerScript(this.options.binding)).catch(() => undefined);
    }
  }

  /** The tab's tools from the page's origin; null when its document has no `document.modelContext`. */
  async listTools(): Promise<PageTool[] | null> {
    return this.evaluate<PageTool[] | null>(listToolsScript(this.origin));
  }

  /** Runs one call in the tab (see `callToolScript`). */
  async call(args: {
    id: string;
    name: string;
    input: Record<string, unknown>;
    requireReadOnly: boolean;
  }): Promise<PageCallOutcome> {
    return this.evaluate<PageCallOutcome>(callToolScript({ ...args, origin: this.origin }));
  }

  /** Aborts the call `id` in the tab, if it still runs. Never rejects. */
  abortCall(id: string): void {
    this.evaluate(abortCallScript(id)).catch(() => undefined);
  }

  /** Stops following the tab (the tab itself stays open). */
  release(): void {
    this.detachPage?.();
    this.detachPage = undefined;
    this.page = undefined;
  }

  /** Drops the CDP connection (the browser and its tabs stay). Idempotent. */
  async disconnect(): Promise<void> {
    this.disconnected = true;
    this.release();
    const browser = this.browser;
    this.browser = undefined;
    // `close()` on a connected-over-CDP browser disconnects; the default context and its tabs stay.
    await browser?.close().catch(() => undefined);
  }

  private async evaluate<T>(script: string): Promise<T> {
    const page = this.page;
    if (!page) throw new Error('Target page, context or browser has been closed (no tab followed)');
    return (await page.evaluate(script)) as T;
  }

  private async connect(): Promise<Browser> {
    if (this.browser?.isConnected()) return this.browser;
    const { chromium } = await loadPlaywright();
    const browser = await chromium.connectOverCDP(this.options.cdpUrl, { timeout: this.options.timeoutMs });
    if (this.disconnected) {
      await browser.close().catch(() => undefined);
      throw new Error('the connection was closed');
    }
    this.browser = browser;
    browser.on('disconnected', () => {
      if (this.browser !== browser) return;
      this.browser = undefined;
      const followed = this.page !== undefined;
      this.release();
      if (followed) this.options.listener.lost('the browser connection was lost');
    });
    return browser;
  }

  private async instrument(page: Page): Promise<void> {
    if (this.instrumented.has(page)) return;
    this.instrumented.add(page);
    await page.exposeBinding(this.options.binding, ({ page: source }) => {
      if (source === this.page) this.options.listener.toolsChanged();
    });
    await page.addInitScript({ content: toolChangeListenerScript(this.options.binding) });
  }

  private follow(page: Page): void {
    this.page = page;
    const onNavigated = (frame: ReturnType<Page['mainFrame']>) => {
      if (this.page === page && frame === page.mainFrame()) this.options.listener.navigated(frame.url());
    };
    const onClose = () => {
      if (this.page !== page) return;
      this.release();
      // A dying browser closes its pages before it reports the disconnection.
      const browserGone = !page.context().browser()?.isConnected();
      this.options.listener.lost(browserGone ? 'the browser connection was lost' : 'the tab was closed');
    };
    page.on('framenavigated', onNavigated);
    page.on('close', onClose);
    this.detachPage = () => {
      page.off('framenavigated', onNavigated);
      page.off('close', onClose);
    };
  }
}
