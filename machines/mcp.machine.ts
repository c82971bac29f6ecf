import { assign, setup } from 'xstate';

/**
 * Lifecycle of one MCP upstream (a stdio child process or a Streamable HTTP server). These strings
 * are the machine's state values and the `state` of its health line.
 */
export type McpUpstreamState =
  | 'IDLE'
  | 'CONNECTING'
  | 'INITIALIZING'
  | 'READY'
  | 'SUSPENDED'
  | 'RESTARTING'
  | 'CLOSED';

export interface McpMachineInput {
  /** A run shorter than this (from CONNECTED to the fault) is a crash: the next backoff grows. */
  minUptimeMs: number;
  /** Delay cap of the first restart, before jitter. */
  baseDelayMs: number;
  /** Upper bound of every restart delay. */
  maxDelayMs: number;
  /** Share of the delay cap drawn at random, in [0, 1]: 1 is AWS "full jitter" (0 … cap). */
  jitter: number;
}

export interface McpContext extends McpMachineInput {
  /** Consecutive runs shorter than `minUptimeMs`, capped at {@link MAX_CRASH_COUNT}. */
  crashCount: number;
  /** Clock time the current run started (CONNECTED), or null while not connected. */
  startedAt: number | null;
  /** Delay of the pending (or last) restart, in ms. */
  restartDelayMs: number;
  /** Clock time the pending (or last) restart is due. */
  restartAt: number | null;
  /** Whether the upstream's breaker is OPEN now (READY is entered as SUSPENDED while it is). */
  breakerOpen: boolean;
  /** Short message of the last fault, null before the first. */
  lastError: string | null;
}

/** The crash count stops growing here (2^16 · baseDelayMs is past any sane `maxDelayMs`). */
export const MAX_CRASH_COUNT = 16;

export type McpEvent =
  /** Starts the upstream: spawn the process or open the HTTP session. */
  | { type: 'START' }
  /** Stops for good: the runtime terminates the process / closes the session. */
  | { type: 'STOP' }
  /** The process is spawned (stdio) or the transport is open (HTTP), at clock time `at`. */
  | { type: 'CONNECTED'; at: number }
  /** The `initialize` handshake and `tools/list` succeeded. */
  | { type: 'INITIALIZED' }
  /**
   * The upstream failed: exit, broken pipe, garbage on stdout, refused connection, failed handshake.
   * `at` is the clock time, `random` a number in [0, 1) for the restart delay's jitter.
   */
  | { type: 'FAULT'; at: number; random: number; error: string }
  /** The upstream's breaker entered OPEN. */
  | { type: 'BREAKER_OPENED' }
  /** The upstream's breaker left OPEN (HALF_OPEN or CLOSED: it admits calls again). */
  | { type: 'BREAKER_CLOSED' };

/**
 * The delay before the next restart: the cap `min(maxDelayMs, baseDelayMs · 2^crashCount)` less a
 * random share `jitter · random` of it. A run that outlived `minUptimeMs` restarts with crash count 0.
 */
export function restartDelay(context: McpMachineInput, crashCount: number, random: number): number {
  const cap = Math.min(context.maxDelayMs, context.baseDelayMs * 2 ** crashCount);
  return cap * (1 - context.jitter * random);
}

function nextCrashCount(context: McpContext, at: number): number {
  const uptime = context.startedAt === null ? 0 : at - context.startedAt;
  return uptime < context.minUptimeMs ? Math.min(MAX_CRASH_COUNT, context.crashCount + 1) : 0;
}

/*
 * Rules:
 * - START → CONNECTING: the runtime spawns / connects and sends CONNECTED, then INITIALIZED after the
 *   handshake and the tool list → READY (SUSPENDED instead if the breaker is OPEN).
 * - FAULT anywhere between CONNECTING and SUSPENDED → RESTARTING, with a delay that grows while runs
 *   stay shorter than `minUptimeMs` (a crash loop) and starts over after a run that outlived it.
 * - RESTARTING waits `restartBackoff`, then CONNECTING again.
 * - BREAKER_OPENED while READY → SUSPENDED; BREAKER_CLOSED while SUSPENDED → READY. Every state
 *   records the breaker's state so that a restart finishing while OPEN lands in SUSPENDED.
 * - STOP → CLOSED from anywhere; CLOSED ignores everything.
 */
export const mcpMachine = setup({
  types: {
    input: {} as McpMachineInput,
    context: {} as McpContext,
    events: {} as McpEvent,
  },
  guards: {
    breakerIsOpen: ({ context }) => context.breakerOpen,
  },
  actions: {
    recordStart: assign({
      startedAt: ({ context, event }) => (event.type === 'CONNECTED' ? event.at : context.startedAt),
    }),
    scheduleRestart: assign(({ context, event }) => {
      if (event.type !== 'FAULT') return {};
      const crashCount = nextCrashCount(context, event.at);
      const restartDelayMs = restartDelay(context, crashCount, event.random);
      return {
        crashCount,
        restartDelayMs,
        restartAt: event.at + restartDelayMs,
        startedAt: null,
        lastError: event.error,
      };
    }),
    markBreakerOpen: assign({ breakerOpen: true }),
    markBreakerClosed: assign({ breakerOpen: false }),
  },
  delays: {
    restartBackoff: ({ context }) => context.restartDelayMs,
  },
}).createMachine({
  id: 'mcp',
  initial: 'IDLE',
  context: ({ input }) => ({
    minUptimeMs: input.minUptimeMs,
    baseDelayMs: input.baseDelayMs,
    maxDelayMs: input.maxDelayMs,
    jitter: input.jitter,
    crashCount: 0,
    startedAt: null,
    restartDelayMs: 0,
    restartAt: null,
    breakerOpen: false,
    lastError: null,
  }),
  on: {
    STOP: { target: '.CLOSED' },
    BREAKER_OPENED: { actions: 'markBreakerOpen' },
    BREAKER_CLOSED: { actions: 'markBreakerClosed' },
  },
  states: {
    IDLE: {
      on: { START: { target: 'CONNECTING' } },
    },
    CONNECTING: {
      on: {
        CONNECTED: { target: 'INITIALIZING', actions: 'recordStart' },
        FAULT: { target: 'RESTARTING', actions: 'scheduleRestart' },
      },
    },
    INITIALIZING: {
      on: {
        INITIALIZED: [{ guard: 'breakerIsOpen', target: 'SUSPENDED' }, { target: 'READY' }],
        FAULT: { target: 'RESTARTING', actions: 'scheduleRestart' },
      },
    },
    READY: {
      on: {
        FAULT: { target: 'RESTARTING', actions: 'scheduleRestart' },
        BREAKER_OPENED: { target: 'SUSPENDED', actions: 'markBreakerOpen' },
      },
    },
    SUSPENDED: {
      on: {
        FAULT: { target: 'RESTARTING', actions: 'scheduleRestart' },
        BREAKER_CLOSED: { target: 'READY', actions: 'markBreakerClosed' },
      },
    },
    RESTARTING: {
      after: {
        restartBackoff: { target: 'CONNECTING' },
      },
    },
    CLOSED: {
      on: {
        BREAKER_OPENED: {},
        BREAKER_CLOSED: {},
      },
    },
  },
});

export type McpMachine = typeof mcpMachine;
