/*
 * A browser tab as a backend (kind `webmcp-page`): the tools a page registers with WebMCP
 * (`document.modelContext.registerTool`) become the bridge's tools `<name>__<tool>`.
 *
 * - Lifecycle: `webMcpPageMachine` (ATTACHING, READY, RELOADING, DETACHED, SUSPENDED, CLOSED), fed
 *   by the CDP connection (navigations, `toolchange`, the tab closing, the browser going away) and
 *   by this backend's breaker.
 * - Listing: the page's tools while READY; otherwise the last known list (tools stay listed while
 *   the tab reloads or is away).
 * - Calls: while READY, at once. After a navigation (or a re-attach) a call for a tool of the
 *   last known list waits until the page registers it again, at most `reloadWaitMs` from the
 *   navigation, then fails fast with `BackendUnavailableError`. IDLE, ATTACHING or DETACHED:
 *   `BackendUnavailableError` at once. SUSPENDED: the breaker rejects (`BrokenCircuitError`).
 * - Safety: a tool the page does not mark `readOnlyHint` is refused (`WebMcpWriteRefusedError`,
 *   naming `allowWrite`) unless `allowWrite` names it or is `"*"` — checked against the listing and
 *   again inside the page against the registration the call uses. Results of `untrustedContentHint`
 *   tools are marked (see `results.ts`).
 * - Failures: a tool's own failure resolves `isError: true` (a success for the breaker). Timeouts
 *   (`callTimeoutMs`, on the injected clock) and unexpected CDP errors count as breaker failures.
 *   Read-only calls cut short by a navigation are retried once the tools are back; other calls are
 *   not (the page may have done their work).
 */
import { assign, createActor, fromPromise } from 'xstate';
import {
  reattachDelay,
  type WebMcpPageAttachOutput,
  type WebMcpPageState,
  webMcpPageMachine,
} from '../../../machines/webmcp-page.machine.js';
import { type CircuitBreaker, createCircuitBreaker } from '../../reliability/breaker.js';
import { retry } from '../../reliability/retry.js';
import type { BackendDeps, RemoteCallOptions, RemoteCallResult, RemoteTool, ToolProvider } from '../kind.js';
import type { Backend, BackendHealth } from '../types.js';
import { runPageCall } from './call.js';
import { type WebMcpPageConfig, type WebMcpPageConfigInput, webMcpPageConfigSchema } from './config.js';
import { CdpPageConnection, classifyEvaluateError } from './connection.js';
import { WebMcpPageNavigatedError, WebMcpWriteRefusedError } from './errors.js';
import { countsAsPageFailure, pageHealth, shortMessage } from './health.js';
import { isReadOnly, isWriteAllowed, toRemoteTool } from './results.js';
import { callableNow, waitUntilCallable } from './waiting.js';

/** A `webmcp-page` backend: a `Backend` that provides the page's tools. */
export interface WebMcpPageBackend extends Backend, ToolProvider {
  readonly kind: 'webmcp-page';
  /** The lifecycle state now. */
  readonly state: WebMcpPageState;
  /** The validated config. */
  readonly config: WebMcpPageConfig;
}

/** Creates a `webmcp-page` backend; its actor runs at once (IDLE), attaching starts with `start()`. */
export function createWebMcpPageBackend(
  name: string,
  configInput: WebMcpPageConfigInput | WebMcpPageConfig,
  deps: BackendDeps,
): WebMcpPageBackend {
  if (typeof name !== 'string' || name === '')
    throw new TypeError('createWebMcpPageBackend: name is required');
  const config = webMcpPageConfigSchema.parse(configInput);
  const { clock, random, logger } = deps;
  const origin = new URL(config.pageUrl).origin;

  let current: RemoteTool[] = [];
  let lastKnown: RemoteTool[] = [];
  /** After a navigation or re-attach: tools expected back, and until when calls wait for them. */
  let expected: { names: Set<string>; until: number } = { names: new Set(), until: -Infinity };
  let callSeq = 0;
  let lastCheckAt: number | null = null;
  let lastSuccessAt: number | null = null;
  let latencyMs: number | null = null;
  let stopped = false;
  const healthListeners = new Set<() => void>();
  const toolListeners = new Set<() => void>();
  /** Woken whenever the state or the tools change: calls waiting for a tool re-check. */
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const safely = (listeners: Set<() => void>, what: string) => {
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch (error) {
        logger.error?.(`webmcp-page backend "${name}": a ${what} listener threw`, {
          error: shortMessage(error),
        });
      }
    }
  };

  const breaker: CircuitBreaker = createCircuitBreaker({
    name,
    ...config.breaker,
    resetJitter: config.breaker?.resetJitter ?? 0.2,
    random,
    clock,
    isFailure: countsAsPageFailure,
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  });

  const connection = new CdpPageConnection({
    cdpUrl: config.cdpUrl,
    pageUrl: config.pageUrl,
    openPage: config.openPage,
    timeoutMs: config.attachTimeoutMs,
    binding: `__mcpLifelineToolChange_${name.replace(/[^A-Za-z0-9_]/g, '_')}`,
    listener: {
      navigated(url) {
        if (stopped) return;
        if (!connection.matches(url)) {
          // Another site's tools must never be listed under this backend.
          connection.release();
          actor.send({ type: 'LOST', reason: 'the tab left pageUrl' });
          return;
        }
        documentEpoch += 1;
        expectToolsBack();
        actor.send({ type: 'NAVIGATED' });
        void refreshTools();
      },
      toolsChanged() {
        if (!stopped) void refreshTools();
      },
      lost(reason) {
        if (!stopped) actor.send({ type: 'LOST', reason });
      },
    },
  });

  /**
   * The tools the backend lists: the last known ones until the page is READY; then the document's,
   * and, until the reload window ends, those listed before that the page has not registered again yet
   * (a page registers its tools one by one: the first read after a reload may see some of them).
   */
  const listed = (): RemoteTool[] => {
    if (actor.getSnapshot().value !== 'READY') return lastKnown;
    if (clock.now() >= expected.until) return current;
    const back = new Set(current.map((tool) => tool.name));
    const pending = lastKnown.filter((tool) => expected.names.has(tool.name) && !back.has(tool.name));
    return pending.length === 0 ? current : [...current, ...pending];
  };
  let listedKey = '[]';
  const toolsMayHaveChanged = () => {
    const tools = listed();
    if (actor.getSnapshot().value === 'READY') lastKnown = tools;
    const key = JSON.stringify(tools);
    if (key !== listedKey) {
      listedKey = key;
      safely(toolListeners, 'tools');
    }
    wake();
  };

  /** Ends the reload window: tools still not registered again leave the list. */
  let windowTimer: unknown;
  const expectToolsBack = () => {
    expected = {
      // The listed tools, the current document's, and those still expected from an earlier reload.
      names: new Set([
        ...lastKnown.map((tool) => tool.name),
        ...current.map((tool) => tool.name),
        ...(clock.now() < expected.until ? expected.names : []),
      ]),
      until: clock.now() + config.reloadWaitMs,
    };
    if (windowTimer !== undefined) clock.clearTimeout(windowTimer);
    windowTimer = clock.setTimeout(() => {
      windowTimer = undefined;
      if (!stopped) toolsMayHaveChanged();
    }, config.reloadWaitMs);
  };

  /** Bumped by every navigation: a read begun in an older document is not applied. */
  let documentEpoch = 0;
  let reading: Promise<number> | undefined;
  let readAgain = false;

  /** Reads the page's tools once; applies them unless the document changed meanwhile. */
  const readTools = async (): Promise<'stale' | number> => {
    const epoch = documentEpoch;
    let tools: RemoteTool[];
    try {
      tools = ((await connection.listTools()) ?? []).map(toRemoteTool);
    } catch (error) {
      if (epoch !== documentEpoch) return 'stale';
      if (classifyEvaluateError(error) === 'closed' && connection.attached) {
        actor.send({ type: 'LOST', reason: 'the tab did not answer' });
      }
      return current.length;
    }
    if (epoch !== documentEpoch || stopped) return 'stale';
    current = tools;
    lastCheckAt = clock.now();
    actor.send({ type: 'TOOLS_CHANGED', count: tools.length });
    toolsMayHaveChanged();
    return tools.length;
  };

  /**
   * Reads the page's tools, coalescing: a request while a read runs makes it read once more, and
   * every caller gets the count of the last read applied.
   */
  const refreshTools = (): Promise<number> => {
    if (reading) {
      readAgain = true;
      return reading;
    }
    reading = (async () => {
      let count = current.length;
      do {
        readAgain = false;
        const outcome = await readTools();
        if (outcome === 'stale') readAgain = true;
        else count = outcome;
      } while (readAgain && !stopped);
      return count;
    })().finally(() => {
      reading = undefined;
    });
    return reading;
  };

  const machine = webMcpPageMachine.provide({
    actors: {
      attach: fromPromise<WebMcpPageAttachOutput>(async ({ signal }) => {
        await connection.attach(signal);
        expectToolsBack();
        return { toolCount: await refreshTools() };
      }),
    },
    actions: {
      releasePage: () => connection.release(),
      disconnect: () => void connection.disconnect(),
      planBackoff: assign({ nextDelayMs: ({ context }) => reattachDelay(context.attempt, context, random) }),
    },
  });

  const actor = createActor(machine, {
    input: {
      attachTimeoutMs: config.attachTimeoutMs,
      reloadWaitMs: config.reloadWaitMs,
      baseDelayMs: config.reattach.baseDelayMs,
      maxDelayMs: config.reattach.maxDelayMs,
    },
    clock,
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  });
  let state: WebMcpPageState = 'IDLE';
  actor.subscribe((snapshot) => {
    const next = snapshot.value;
    if (next !== state) {
      const message = `webmcp-page backend "${name}": ${state} → ${next}`;
      const details = { backend: name, from: state, to: next, lastError: snapshot.context.lastError };
      if (next === 'READY' || next === 'CLOSED') logger.info?.(message, details);
      else logger.warn(message, details);
      state = next;
      if (next === 'RELOADING') void refreshTools();
      toolsMayHaveChanged();
    }
    safely(healthListeners, 'status');
  });
  actor.start();

  let breakerState = breaker.state;
  breaker.onTransition(({ to }) => {
    if (to === breakerState) return;
    breakerState = to;
    actor.send({ type: `BREAKER_${to}` } as never);
    safely(healthListeners, 'status');
  });

  /** Resolves once `tool` can run now; rejects fast when it cannot, or when the wait is over. */
  const whenCallable = (tool: string, signal: AbortSignal) =>
    waitUntilCallable(
      () =>
        callableNow({
          backend: name,
          tool,
          state: stopped ? 'CLOSED' : actor.getSnapshot().value,
          lastError: actor.getSnapshot().context.lastError,
          current,
          lastKnown,
          expected,
          now: clock.now(),
          reloadWaitMs: config.reloadWaitMs,
        }),
      { clock, until: expected.until, wakers: waiters, signal },
    );

  /** One attempt: runs the call in the page under `callTimeoutMs`. */
  const attempt = async (tool: string, args: Record<string, unknown>, signal: AbortSignal) => {
    await whenCallable(tool, signal);
    return breaker.execute(
      async () => {
        const startedAt = clock.now();
        const result = await runPageCall({
          backend: name,
          connection,
          clock,
          id: `${++callSeq}`,
          tool,
          args,
          signal,
          timeoutMs: config.callTimeoutMs,
          requireReadOnly: !isWriteAllowed(tool, config.allowWrite),
          origin,
          listedUntrusted: current.some(
            (c) => c.name === tool && c.annotations?.untrustedContentHint === true,
          ),
          state: () => actor.getSnapshot().value,
          inReloadWindow: () => clock.now() < expected.until,
        });
        lastCheckAt = clock.now();
        lastSuccessAt = lastCheckAt;
        latencyMs = lastCheckAt - startedAt;
        return result;
      },
      { signal },
    );
  };

  const callTool = async (
    tool: string,
    args: Record<string, unknown>,
    options: RemoteCallOptions = {},
  ): Promise<RemoteCallResult> => {
    const { signal } = options;
    if (signal?.aborted) throw signal.reason;
    const known = listed().find((candidate) => candidate.name === tool);
    if (known && !isReadOnly(known) && !isWriteAllowed(tool, config.allowWrite)) {
      throw new WebMcpWriteRefusedError(name, tool);
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (!isReadOnly(known)) return await attempt(tool, args ?? {}, controller.signal);
      // Safe to repeat: a read cut short by a navigation runs again once the page is back.
      return await retry((_, attemptSignal) => attempt(tool, args ?? {}, attemptSignal), {
        operation: 'webmcpPageCall',
        maxRetries: 2,
        baseDelayMs: 50,
        maxDelayMs: 500,
        shouldRetry: (error) => error instanceof WebMcpPageNavigatedError,
        signal: controller.signal,
        clock,
        random,
        metrics: deps.retryMetrics,
        budget: deps.budget,
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };

  const backend: WebMcpPageBackend = {
    name,
    kind: 'webmcp-page',
    config,
    breaker,
    actor,
    get state() {
      return actor.getSnapshot().value;
    },
    start() {
      if (!stopped) actor.send({ type: 'START' });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (windowTimer !== undefined) clock.clearTimeout(windowTimer);
      actor.send({ type: 'STOP' });
      wake();
      actor.stop();
      breaker.stop();
      await connection.disconnect();
      safely(healthListeners, 'status');
    },
    status(): BackendHealth {
      const { value, context } = actor.getSnapshot();
      return pageHealth({
        state: value,
        breaker: breaker.state,
        consecutiveFailures: breaker.snapshot.context.consecutiveFailures,
        lastCheckAt,
        lastSuccessAt,
        lastError: context.lastError,
        latencyMs,
        critical: deps.critical,
      });
    },
    async probe() {
      if (stopped) return;
      const now = actor.getSnapshot().value;
      if (now === 'DETACHED') actor.send({ type: 'RESUME' });
      else if (now === 'READY' || now === 'RELOADING') await refreshTools();
    },
    subscribe(listener) {
      healthListeners.add(listener);
      return () => {
        healthListeners.delete(listener);
      };
    },
    listTools: () => listed(),
    onToolsChanged(listener) {
      toolListeners.add(listener);
      return () => {
        toolListeners.delete(listener);
      };
    },
    callTool,
  };
  return backend;
}
