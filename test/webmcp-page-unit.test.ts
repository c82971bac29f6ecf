/**
 * The `webmcp-page` kind without a browser: its config schema, the mapping of page tools and
 * results, the call-wait decision and its bound on a manual clock, and the backend's re-attach
 * backoff against a CDP port where nothing listens (a real refused connection, no mock).
 */
import { describe, expect, it } from 'vitest';
import type { BackendDeps, RemoteTool } from '../src/backends/kind.js';
import {
  createWebMcpPageBackend,
  UNTRUSTED_META_KEY,
  type WebMcpPageBackend,
  webMcpPageConfigSchema,
  webmcpPageKind,
} from '../src/backends/webmcp-page/index.js';
import { markUntrusted, toCallResult, toRemoteTool } from '../src/backends/webmcp-page/results.js';
import { callableNow, waitUntilCallable } from '../src/backends/webmcp-page/waiting.js';
import { createManualClock } from '../src/clock.js';
import { createRetryBudget } from '../src/reliability/retry-budget.js';
import { createRetryMetrics } from '../src/reliability/retry-metrics.js';
import { createReliabilityEventHub } from '../src/telemetry/events.js';
import { freePort } from './support/cdp-chromium.js';

const base = {
  kind: 'webmcp-page',
  cdpUrl: 'http://127.0.0.1:9222',
  pageUrl: 'http://127.0.0.1:5173/',
} as const;

function issuePaths(entry: unknown): string[] {
  const parsed = webMcpPageConfigSchema.safeParse(entry);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
}

describe('webmcp-page config', () => {
  it('fills defaults: nothing allowed to write, the page opened when missing', () => {
    expect(webMcpPageConfigSchema.parse(base)).toMatchObject({
      allowWrite: [],
      openPage: true,
      reloadWaitMs: 5_000,
      callTimeoutMs: 60_000,
      reattach: { baseDelayMs: 250, maxDelayMs: 10_000 },
    });
    expect(webMcpPageConfigSchema.parse({ ...base, allowWrite: '*' }).allowWrite).toBe('*');
    expect(webmcpPageKind.kind).toBe('webmcp-page');
    expect(webmcpPageKind.configSchema).toBe(webMcpPageConfigSchema);
  });

  it('names the field at fault', () => {
    expect(issuePaths({ ...base, cdpUrl: 'not a url' })).toEqual(['cdpUrl']);
    expect(issuePaths({ ...base, pageUrl: 'ws://127.0.0.1:1/' })).toEqual(['pageUrl']);
    expect(issuePaths({ ...base, allowWrite: ['ok', ''] })).toEqual(['allowWrite.1']);
    expect(issuePaths({ ...base, allowWrite: 'all' })).toEqual(['allowWrite']);
    expect(issuePaths({ ...base, reloadWaitMs: -1 })).toEqual(['reloadWaitMs']);
    // CDP controls the whole browser: only this machine unless said otherwise.
    expect(issuePaths({ ...base, cdpUrl: 'http://10.0.0.2:9222' })).toEqual(['cdpUrl']);
    expect(issuePaths({ ...base, cdpUrl: 'http://10.0.0.2:9222', allowRemoteCdp: true })).toEqual([]);
  });
});

describe('webmcp-page results', () => {
  const outcome = (result: string | null) => ({ kind: 'result' as const, result, annotations: null });

  it('maps a page tool: schema given as a JSON string or missing, WebMCP hints as annotations', () => {
    const tool = toRemoteTool({
      name: 'a',
      title: '',
      description: 'd',
      inputSchema: '{"type":"object","properties":{"x":{"type":"number"}}}',
      annotations: { readOnlyHint: true, consequentialHint: false, debugging: false },
      origin: 'http://127.0.0.1:1',
    });
    expect(tool).toEqual({
      name: 'a',
      description: 'd',
      inputSchema: { type: 'object', properties: { x: { type: 'number' } } },
      annotations: { readOnlyHint: true },
    });
    const bare = toRemoteTool({
      ...{ name: 'b', title: 'B', description: '', origin: '' },
      inputSchema: null,
      annotations: null,
    });
    expect(bare).toEqual({
      name: 'b',
      title: 'B',
      description: '',
      inputSchema: { type: 'object', properties: {} },
    });
  });

  it('turns JSON objects into structuredContent, strings into text, CallToolResults through, failures into isError', () => {
    expect(toCallResult('t', outcome('{"a":1}'))).toEqual({
      content: [{ type: 'text', text: '{"a":1}' }],
      structuredContent: { a: 1 },
    });
    expect(toCallResult('t', outcome('plain text'))).toEqual({
      content: [{ type: 'text', text: 'plain text' }],
    });
    expect(toCallResult('t', outcome('"quoted"'))).toEqual({ content: [{ type: 'text', text: 'quoted' }] });
    expect(toCallResult('t', outcome('[1,2]'))).toEqual({ content: [{ type: 'text', text: '[1,2]' }] });
    expect(toCallResult('t', outcome(null))).toEqual({ content: [] });
    expect(toCallResult('t', outcome('{"content":[{"type":"text","text":"hi"}],"isError":true}'))).toEqual({
      content: [{ type: 'text', text: 'hi' }],
      isError: true,
    });
    expect(
      toCallResult('t', { kind: 'error', name: 'UnknownError', message: 'boom', aborted: false }),
    ).toEqual({
      content: [{ type: 'text', text: 'Tool "t" failed: boom' }],
      isError: true,
    });
  });

  it('marks untrusted results in _meta and before every text block', () => {
    const marked = markUntrusted(
      {
        content: [
          { type: 'text', text: 'hi' },
          { type: 'image', data: 'x', mimeType: 'image/png' },
        ],
        structuredContent: { a: 1 },
      },
      'http://127.0.0.1:1',
      'read',
    );
    expect(marked._meta?.[UNTRUSTED_META_KEY]).toEqual({ origin: 'http://127.0.0.1:1', tool: 'read' });
    expect(marked.content[0]?.text).toMatch(
      /^\[untrusted content from http:\/\/127\.0\.0\.1:1 \(tool "read"\).*\]\nhi$/,
    );
    expect(marked.content[1]).toEqual({ type: 'image', data: 'x', mimeType: 'image/png' });
    expect(marked.structuredContent).toEqual({ a: 1 });
    expect(markUntrusted({ content: [] }, 'o', 't').content[0]?.type).toBe('text');
  });
});

describe('webmcp-page call waiting', () => {
  const weather: RemoteTool = { name: 'weather', inputSchema: { type: 'object' } };
  const view = {
    backend: 'shop',
    tool: 'weather',
    lastError: null,
    current: [] as RemoteTool[],
    lastKnown: [weather],
    expected: { names: new Set(['weather']), until: 1_000 },
    now: 0,
    reloadWaitMs: 1_000,
  };

  it('runs when READY with the tool, waits within the reload window, fails fast otherwise', () => {
    expect(callableNow({ ...view, state: 'READY', current: [weather] })).toBe('run');
    expect(callableNow({ ...view, state: 'SUSPENDED' })).toBe('run'); // the breaker answers
    expect(callableNow({ ...view, state: 'RELOADING' })).toBe('wait');
    expect(callableNow({ ...view, state: 'READY' })).toBe('wait'); // back, but this tool not yet
    for (const state of ['IDLE', 'ATTACHING', 'DETACHED', 'CLOSED'] as const) {
      expect(callableNow({ ...view, state })).toMatchObject({ name: 'BackendUnavailableError' });
    }
    expect(callableNow({ ...view, state: 'RELOADING', now: 1_000 })).toMatchObject({
      name: 'BackendUnavailableError',
      message: expect.stringContaining('did not register "weather" again within 1000 ms'),
    });
    expect(
      callableNow({ ...view, state: 'READY', tool: 'nope', expected: { names: new Set(), until: 0 } }),
    ).toMatchObject({
      name: 'WebMcpToolNotFoundError',
    });
  });

  it('the wait is bounded on the injected clock, and ends as soon as the tool is back', async () => {
    const clock = createManualClock();
    const wakers = new Set<() => void>();
    let state: 'RELOADING' | 'READY' = 'RELOADING';
    let current: RemoteTool[] = [];
    const check = () => callableNow({ ...view, state, current, now: clock.now() });
    let outcome: unknown = 'pending';
    waitUntilCallable(check, { clock, until: 1_000, wakers }).then(
      () => (outcome = 'run'),
      (error: Error) => (outcome = error.name),
    );
    await clock.advance(999);
    expect(outcome).toBe('pending');
    await clock.advance(1);
    expect(outcome).toBe('BackendUnavailableError');
    expect(clock.pendingTimers()).toBe(0);

    const again = waitUntilCallable(
      () =>
        callableNow({
          ...view,
          state,
          current,
          now: clock.now(),
          expected: { names: new Set(['weather']), until: 2_000 },
        }),
      { clock, until: 2_000, wakers },
    );
    expect(clock.pendingTimers()).toBe(1);
    state = 'READY';
    current = [weather];
    for (const wake of [...wakers]) wake();
    await expect(again).resolves.toBeUndefined();
    expect(wakers.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});

/** Resolves when the backend reaches `state` (connecting is real I/O: real time, generous bound). */
function untilState(backend: WebMcpPageBackend, state: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still ${backend.state}`)), timeoutMs);
    const check = () => {
      if (backend.state !== state) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const unsubscribe = backend.subscribe(check);
    check();
  });
}

describe('webmcp-page backend with no browser', () => {
  it('fails calls at once while detached and re-attaches with backoff on the injected clock', async () => {
    const clock = createManualClock();
    const port = await freePort(); // nothing listens there: connecting is refused
    const deps: BackendDeps = {
      clock,
      random: () => 0.5,
      logger: { warn: () => {} },
      critical: true,
      retryMetrics: createRetryMetrics(),
      budget: createRetryBudget({ clock }),
      events: createReliabilityEventHub(() => clock.now()),
    };
    const backend = createWebMcpPageBackend(
      'shop',
      { ...base, cdpUrl: `http://127.0.0.1:${port}`, reattach: { baseDelayMs: 1_000, maxDelayMs: 4_000 } },
      deps,
    );
    expect(backend.status()).toMatchObject({
      kind: 'webmcp-page',
      state: 'IDLE',
      status: 'warn',
      critical: true,
    });
    const states: string[] = [];
    backend.subscribe(() => {
      if (states.at(-1) !== backend.state) states.push(backend.state);
    });
    backend.start();
    await untilState(backend, 'DETACHED');
    expect(backend.status()).toMatchObject({
      status: 'fail',
      lastError: expect.stringMatching(/^attach failed/),
    });
    await expect(backend.callTool('anything', {})).rejects.toMatchObject({ name: 'BackendUnavailableError' });
    expect(backend.listTools()).toEqual([]);
    // The backoff runs on the injected clock: nothing happens until it is advanced.
    await clock.advance(900);
    expect(backend.state).toBe('DETACHED');
    await clock.advance(200);
    expect(states).toContain('ATTACHING');
    await untilState(backend, 'DETACHED');
    expect(states.filter((state) => state === 'ATTACHING')).toHaveLength(2);
    await backend.stop();
    expect(backend.state).toBe('CLOSED');
    expect(clock.pendingTimers()).toBe(0);
  });
});
