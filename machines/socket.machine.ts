import { and, assertEvent, assign, cancel, not, raise, setup } from 'xstate';

/** The socket lifecycle's top-level states; these exact strings are the machine's state values. */
export type SocketState = 'IDLE' | 'CONNECTING' | 'CONNECTED' | 'RECONNECTING' | 'SUSPENDED' | 'CLOSED';

/** Close codes that mean "the server refuses us": suspend instead of reconnecting in a loop. */
export const POLICY_CLOSE_CODES: readonly number[] = Object.freeze([1008, 4401, 4403]);

export interface SocketMachineInput {
  /** Per-attempt connect timeout (`connectTimeout` delay). */
  connectTimeoutMs: number;
  /** Reconnect backoff: the window of retry k is `min(maxDelayMs, baseDelayMs·2^k)`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** 0 disables the heartbeat. */
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** A connection must stay up this long before the backoff starts over (`minUptime` delay). */
  minUptimeMs: number;
}

export interface SocketContext extends SocketMachineInput {
  /** Consecutive connections that failed or did not last `minUptimeMs`: the backoff exponent k. */
  attempt: number;
  /** `attempt` stops growing here (the window is already `maxDelayMs`); keeps the context finite. */
  maxAttempt: number;
  /** Delay of the reconnect being waited for. */
  nextDelayMs: number;
  lastError: string | null;
  /** Errors recorded so far: the runtime stamps `lastErrorAt` whenever it grows. */
  errorCount: number;
  /** Code of the last close frame seen, or null. */
  closeCode: number | null;
  /** Why the machine is SUSPENDED: its breaker is OPEN, or the server closed with a policy code. */
  suspendedBy: 'breaker' | 'policy' | null;
  /** True once a connection was established (health: warn before it, fail after). */
  hasConnected: boolean;
  /** A heartbeat ping is out and its pong not yet seen. */
  awaitingPong: boolean;
}

export type SocketEvent =
  | { type: 'START' }
  | { type: 'STOP' }
  /** Leave SUSPENDED (or skip the pending backoff) and connect now. */
  | { type: 'RESUME' }
  | { type: 'OPENED' }
  | { type: 'CLOSED'; code: number; reason: string }
  | { type: 'ERROR'; message: string }
  /** Time to ping (raised by the machine after `heartbeatInterval`; a probe may send it too). */
  | { type: 'HEARTBEAT_DUE' }
  | { type: 'PONG' }
  /** No pong within `heartbeatTimeout` (raised by the machine). */
  | { type: 'HEARTBEAT_MISSED' }
  | { type: 'BREAKER_OPEN' }
  | { type: 'BREAKER_HALF_OPEN' }
  | { type: 'BREAKER_CLOSED' };

/**
 * The full-jitter reconnect delay for retry k: `uniform(0, min(maxDelayMs, baseDelayMs·2^k))`.
 * Full jitter (not the ±20 % of call retries) so that many clients dropped at the same instant
 * spread their reconnects over the whole window.
 */
export function fullJitterDelay(
  k: number,
  options: { baseDelayMs: number; maxDelayMs: number },
  random: () => number,
): number {
  return Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** k) * random();
}

/** Smallest k whose window is already `maxDelayMs`. */
export function backoffExponentCap(baseDelayMs: number, maxDelayMs: number): number {
  if (!(baseDelayMs > 0) || maxDelayMs <= baseDelayMs) return 0;
  return Math.ceil(Math.log2(maxDelayMs / baseDelayMs));
}

/**
 * One WebSocket connection's lifecycle, as pure data. The socket itself lives outside: the runtime
 * provides the I/O actions (`openSocket`, `closeSocket`, `sendPing`, `flushQueue`, `failInFlight`,
 * `planBackoff` with a real random source) and reports what the socket does as events (OPENED,
 * CLOSED, ERROR, PONG) and what the backend's breaker does (BREAKER_OPEN/HALF_OPEN/CLOSED).
 * The defaults here do no I/O and plan the middle of the backoff window, so the machine alone is
 * deterministic.
 */
/** A close while connecting or connected: policy/auth codes suspend, any other code reconnects. */
const closedWhileOpenOrOpening = [
  {
    guard: 'isPolicyClose',
    target: 'SUSPENDED',
    actions: ['recordClose', { type: 'suspend', params: { by: 'policy' } }],
  },
  { target: 'RECONNECTING', actions: 'recordClose' },
] as const;

export const socketMachine = setup({
  types: {
    input: {} as SocketMachineInput,
    context: {} as SocketContext,
    events: {} as SocketEvent,
  },
  guards: {
    isPolicyClose: ({ event }) => event.type === 'CLOSED' && POLICY_CLOSE_CODES.includes(event.code),
    isSuspendedByBreaker: ({ context }) => context.suspendedBy === 'breaker',
    isAwaitingPong: ({ context }) => context.awaitingPong,
    isHeartbeatEnabled: ({ context }) => context.heartbeatIntervalMs > 0,
  },
  actions: {
    // I/O, provided by the runtime.
    openSocket: () => {},
    closeSocket: () => {},
    sendPing: () => {},
    flushQueue: () => {},
    failInFlight: () => {},
    // Pure bookkeeping.
    planBackoff: assign({
      nextDelayMs: ({ context }) => fullJitterDelay(context.attempt, context, () => 0.5),
    }),
    countReconnect: assign({
      attempt: ({ context }) => Math.min(context.maxAttempt, context.attempt + 1),
    }),
    resetBackoff: assign({ attempt: 0 }),
    markConnected: assign({ hasConnected: true, closeCode: null, awaitingPong: false }),
    recordClose: assign(({ context, event }) => {
      assertEvent(event, 'CLOSED');
      return {
        closeCode: event.code,
        // 1006 is no close frame at all: the runtime's reason (e.g. "connection refused: <url>") says more.
        lastError:
          event.code === 1006 && event.reason
            ? event.reason
            : `closed with code ${event.code}${event.reason ? `: ${event.reason}` : ''}`,
        errorCount: context.errorCount + 1,
      };
    }),
    recordError: assign({
      lastError: (_, params: { message: string }) => params.message,
      errorCount: ({ context }) => context.errorCount + 1,
    }),
    suspend: assign({
      suspendedBy: (_, params: { by: 'breaker' | 'policy' }) => params.by,
    }),
    clearSuspension: assign({ suspendedBy: null }),
    markAwaitingPong: assign({ awaitingPong: true }),
    markPongSeen: assign({ awaitingPong: false }),
    scheduleHeartbeat: raise({ type: 'HEARTBEAT_DUE' }, { delay: 'heartbeatInterval', id: 'heartbeat' }),
    schedulePongTimeout: raise(
      { type: 'HEARTBEAT_MISSED' },
      { delay: 'heartbeatTimeout', id: 'pongTimeout' },
    ),
    cancelHeartbeat: cancel('heartbeat'),
    cancelPongTimeout: cancel('pongTimeout'),
  },
  delays: {
    connectTimeout: ({ context }) => context.connectTimeoutMs,
    reconnectBackoff: ({ context }) => context.nextDelayMs,
    heartbeatInterval: ({ context }) => context.heartbeatIntervalMs,
    heartbeatTimeout: ({ context }) => context.heartbeatTimeoutMs,
    minUptime: ({ context }) => context.minUptimeMs,
  },
}).createMachine({
  id: 'socket',
  context: ({ input }) => ({
    ...input,
    attempt: 0,
    maxAttempt: backoffExponentCap(input.baseDelayMs, input.maxDelayMs),
    nextDelayMs: 0,
    lastError: null,
    errorCount: 0,
    closeCode: null,
    suspendedBy: null,
    hasConnected: false,
    awaitingPong: false,
  }),
  initial: 'IDLE',
  on: {
    STOP: { target: '.CLOSED' },
    ERROR: { actions: { type: 'recordError', params: ({ event }) => ({ message: event.message }) } },
  },
  states: {
    IDLE: {
      on: { START: { target: 'CONNECTING' } },
    },
    CONNECTING: {
      entry: 'openSocket',
      after: {
        connectTimeout: {
          target: 'RECONNECTING',
          actions: { type: 'recordError', params: { message: 'connect timeout' } },
        },
      },
      on: {
        OPENED: { target: 'CONNECTED' },
        CLOSED: closedWhileOpenOrOpening,
        BREAKER_OPEN: {
          target: 'SUSPENDED',
          actions: { type: 'suspend', params: { by: 'breaker' } },
        },
      },
    },
    CONNECTED: {
      entry: ['markConnected', 'scheduleHeartbeat', 'flushQueue'],
      exit: ['cancelHeartbeat', 'cancelPongTimeout', 'failInFlight'],
      after: {
        minUptime: { actions: 'resetBackoff' },
      },
      on: {
        HEARTBEAT_DUE: {
          guard: and(['isHeartbeatEnabled', not('isAwaitingPong')]),
          actions: ['markAwaitingPong', 'sendPing', 'schedulePongTimeout'],
        },
        PONG: {
          guard: 'isAwaitingPong',
          actions: ['markPongSeen', 'cancelPongTimeout', 'cancelHeartbeat', 'scheduleHeartbeat'],
        },
        HEARTBEAT_MISSED: {
          target: 'RECONNECTING',
          actions: { type: 'recordError', params: { message: 'heartbeat timeout: peer silent' } },
        },
        CLOSED: closedWhileOpenOrOpening,
        // Requests kept timing out on an open connection: the peer is up but not serving.
        BREAKER_OPEN: {
          target: 'SUSPENDED',
          actions: { type: 'suspend', params: { by: 'breaker' } },
        },
      },
    },
    RECONNECTING: {
      entry: ['closeSocket', 'planBackoff', 'countReconnect'],
      after: {
        reconnectBackoff: { target: 'CONNECTING' },
      },
      on: {
        RESUME: { target: 'CONNECTING' },
        BREAKER_OPEN: {
          target: 'SUSPENDED',
          actions: { type: 'suspend', params: { by: 'breaker' } },
        },
      },
    },
    SUSPENDED: {
      entry: 'closeSocket',
      exit: 'clearSuspension',
      on: {
        BREAKER_HALF_OPEN: { guard: 'isSuspendedByBreaker', target: 'CONNECTING' },
        BREAKER_CLOSED: { guard: 'isSuspendedByBreaker', target: 'CONNECTING' },
        RESUME: { target: 'CONNECTING' },
      },
    },
    CLOSED: {
      type: 'final',
      entry: 'closeSocket',
    },
  },
});

export type SocketMachine = typeof socketMachine;
