import { assertEvent, assign, fromPromise, setup } from 'xstate';
import { backoffDelay } from './backoff.js';
import { errorMessage } from './error-message.js';

/**
 * The lifecycle of one browser tab used as a backend (`webmcp-page`); these exact strings are the
 * machine's state values.
 * - `IDLE`: not started.
 * - `ATTACHING`: connecting over CDP, finding (or opening) the tab, reading its tools.
 * - `READY`: the tab's tools answer.
 * - `RELOADING`: the tab navigated or reloaded (or was just opened): its new document has not
 *   registered any tool yet. Left when it does, or after `reloadWaitMs`.
 * - `DETACHED`: the tab was closed, left `pageUrl`, or the browser went away: re-attach with backoff.
 * - `SUSPENDED`: the backend's breaker is OPEN; its HALF_OPEN (or CLOSED) re-attaches.
 * - `CLOSED`: stopped (final).
 */
export type WebMcpPageState =
  | 'IDLE'
  | 'ATTACHING'
  | 'READY'
  | 'RELOADING'
  | 'DETACHED'
  | 'SUSPENDED'
  | 'CLOSED';

export interface WebMcpPageMachineInput {
  /** Bound of one attach (connect, find or open the tab, read its tools). */
  attachTimeoutMs: number;
  /** How long a navigated tab may take to register its tools again. */
  reloadWaitMs: number;
  /** Re-attach backoff: retry k waits about `min(maxDelayMs, baseDelayMs·2^k)` (±20 %). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface WebMcpPageContext extends WebMcpPageMachineInput {
  /** Consecutive failed or lost attachments: the backoff exponent. */
  attempt: number;
  /** `attempt` stops growing here (the delay is already `maxDelayMs`): keeps the context finite. */
  maxAttempt: number;
  /** Delay of the re-attach being waited for. */
  nextDelayMs: number;
  lastError: string | null;
  /** True once the tab was attached (health: warn before, fail after losing it). */
  hasAttached: boolean;
}

/** What the `attach` actor resolves with. */
export interface WebMcpPageAttachOutput {
  /** Tools the tab's document has registered now (0: it is still loading them). */
  toolCount: number;
}

export type WebMcpPageEvent =
  | { type: 'START' }
  | { type: 'STOP' }
  /** Re-attach now instead of waiting for the backoff (a probe). */
  | { type: 'RESUME' }
  /** The tab's main frame committed a new document at `pageUrl` (navigation or reload). */
  | { type: 'NAVIGATED' }
  /** The tab's document reported its tools (`toolchange`, or a read after one). */
  | { type: 'TOOLS_CHANGED'; count: number }
  /** The tab was closed, left `pageUrl`, or the browser connection was lost. */
  | { type: 'LOST'; reason: string }
  | { type: 'BREAKER_OPEN' }
  | { type: 'BREAKER_HALF_OPEN' }
  | { type: 'BREAKER_CLOSED' };

/** Smallest k whose delay is already `maxDelayMs`. */
export function reattachExponentCap(baseDelayMs: number, maxDelayMs: number): number {
  if (!(baseDelayMs > 0) || maxDelayMs <= baseDelayMs) return 0;
  return Math.ceil(Math.log2(maxDelayMs / baseDelayMs));
}

/** The re-attach delay of retry k: the call-retry formula with ±20 % jitter. */
export function reattachDelay(
  k: number,
  options: { baseDelayMs: number; maxDelayMs: number },
  random: () => number,
): number {
  return backoffDelay(k, { ...options, jitter: 0.2 }, random);
}

const toSuspended = { target: 'SUSPENDED' } as const;
const lost = { target: 'DETACHED', actions: 'recordLoss' } as const;

/**
 * One tab's lifecycle as pure data. The runtime provides the `attach` actor (CDP connect, find or
 * open the tab, follow its navigations and `toolchange`, read its tools) and the I/O actions
 * (`releasePage` forgets the tab's listeners, `disconnect` drops the CDP connection, `planBackoff`
 * with a real random source), and reports what the tab does (NAVIGATED, TOOLS_CHANGED, LOST) and
 * what the breaker does (BREAKER_*). The defaults here do no I/O and plan the middle of the
 * backoff band, so the machine alone is deterministic.
 */
export const webMcpPageMachine = setup({
  types: {
    input: {} as WebMcpPageMachineInput,
    context: {} as WebMcpPageContext,
    events: {} as WebMcpPageEvent,
  },
  actors: {
    attach: fromPromise<WebMcpPageAttachOutput>(async () => {
      throw new Error('webMcpPageMachine: provide the "attach" actor');
    }),
  },
  guards: {
    attachedWithTools: ({ event }) => (event as { output?: WebMcpPageAttachOutput }).output?.toolCount !== 0,
    hasTools: ({ event }) => event.type === 'TOOLS_CHANGED' && event.count > 0,
  },
  actions: {
    // I/O, provided by the runtime.
    releasePage: () => {},
    disconnect: () => {},
    // Pure bookkeeping.
    planBackoff: assign({
      nextDelayMs: ({ context }) => reattachDelay(context.attempt, context, () => 0.5),
    }),
    countAttempt: assign({
      attempt: ({ context }) => Math.min(context.maxAttempt, context.attempt + 1),
    }),
    markAttached: assign({ attempt: 0, hasAttached: true, lastError: null }),
    recordAttachError: assign({
      lastError: ({ event }) => `attach failed: ${errorMessage((event as { error?: unknown }).error)}`,
    }),
    recordAttachTimeout: assign({
      lastError: ({ context }) => `attach timed out after ${context.attachTimeoutMs} ms`,
    }),
    recordLoss: assign({
      lastError: ({ event }) => {
        assertEvent(event, 'LOST');
        return event.reason;
      },
    }),
    recordNoTools: assign({
      lastError: ({ context }) => `the page registered no tool within ${context.reloadWaitMs} ms`,
    }),
  },
  delays: {
    attachTimeout: ({ context }) => context.attachTimeoutMs,
    reloadWait: ({ context }) => context.reloadWaitMs,
    reattachBackoff: ({ context }) => context.nextDelayMs,
  },
}).createMachine({
  id: 'webmcpPage',
  context: ({ input }) => ({
    ...input,
    attempt: 0,
    maxAttempt: reattachExponentCap(input.baseDelayMs, input.maxDelayMs),
    nextDelayMs: 0,
    lastError: null,
    hasAttached: false,
  }),
  initial: 'IDLE',
  on: {
    STOP: { target: '.CLOSED' },
  },
  states: {
    IDLE: {
      on: { START: { target: 'ATTACHING' } },
    },
    ATTACHING: {
      invoke: {
        id: 'attach',
        src: 'attach',
        onDone: [
          { guard: 'attachedWithTools', target: 'READY', actions: 'markAttached' },
          { target: 'RELOADING', actions: 'markAttached' },
        ],
        onError: { target: 'DETACHED', actions: 'recordAttachError' },
      },
      after: {
        attachTimeout: { target: 'DETACHED', actions: 'recordAttachTimeout' },
      },
      on: {
        BREAKER_OPEN: toSuspended,
      },
    },
    READY: {
      on: {
        NAVIGATED: { target: 'RELOADING' },
        LOST: lost,
        BREAKER_OPEN: toSuspended,
      },
    },
    RELOADING: {
      after: {
        reloadWait: { target: 'READY', actions: 'recordNoTools' },
      },
      on: {
        TOOLS_CHANGED: { guard: 'hasTools', target: 'READY' },
        NAVIGATED: { target: 'RELOADING', reenter: true },
        LOST: lost,
        BREAKER_OPEN: toSuspended,
      },
    },
    DETACHED: {
      entry: ['releasePage', 'planBackoff', 'countAttempt'],
      after: {
        reattachBackoff: { target: 'ATTACHING' },
      },
      on: {
        RESUME: { target: 'ATTACHING' },
        BREAKER_OPEN: toSuspended,
      },
    },
    SUSPENDED: {
      on: {
        BREAKER_HALF_OPEN: { target: 'ATTACHING' },
        BREAKER_CLOSED: { target: 'ATTACHING' },
      },
    },
    CLOSED: {
      type: 'final',
      entry: ['releasePage', 'disconnect'],
    },
  },
});

export type WebMcpPageMachine = typeof webMcpPageMachine;
