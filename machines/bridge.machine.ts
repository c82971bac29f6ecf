/*
 * The bridge orchestrator: a lifecycle (idle → running ⇄ checking → stopping → stopped) plus a
 * reducer of backend health lines. Pure data: imports only xstate (the health line's type is declared
 * here, structurally, so that the published `./machines` entry needs nothing from `src/`).
 */
import { assign, enqueueActions, fromCallback, fromPromise, setup } from 'xstate';
import { isRecoveryStart, settleId, withRecovery } from './health-settle.js';

/** Name of the pseudo-backend that stands for the bridge's own tool surface (WebMCP page / MCP server). */
export const SURFACE_BACKEND = 'webmcp';

export type HealthStatus = 'pass' | 'warn' | 'fail';

/** One backend's line in the health report. Times are ISO strings, or null when it never happened. */
export interface BackendHealth {
  /** The backend's kind (`websocket`, `http`, `mcp`, `webmcp-page`, …; `webmcp` for the surface line). */
  kind: string;
  status: HealthStatus;
  /** The backend machine's state value (socket: IDLE, CONNECTING, …; http: UNKNOWN, UP, …). */
  state: string;
  breaker: 'CLOSED' | 'OPEN' | 'HALF_OPEN';
  consecutiveFailures: number;
  lastCheckAt: string | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  /** When `lastError` happened (ISO), or null: compare with `lastSuccessAt` to tell a past error from a current one. */
  lastErrorAt?: string | null;
  latencyMs: number | null;
  critical: boolean;
  /**
   * Set while the backend reports healthy again after a failure but has not stayed healthy for the
   * settle time yet: the ISO time at which its line turns `pass` if nothing fails before. The line
   * keeps its degraded status, state and breaker until then.
   */
  recoveringUntil?: string | null;
  /** Backends with adaptive throttling: whether it currently rejects requests locally. */
  throttling?: boolean;
  /** Backends with adaptive throttling: the probability that the next request is rejected locally. */
  rejectProbability?: number;
}

export interface BridgeMachineInput {
  /** Health of every backend when the bridge is created, by name (`webmcp` included when tracked). */
  backends: Record<string, BackendHealth>;
  /** Names of the real backends: one `backendLink` child is spawned for each. */
  linked: string[];
  /** Mean time between active health checks. */
  healthCheckIntervalMs: number;
  /** Relative spread of that time, in [0, 1): each wait lasts `interval · (1 + jitter · (2·draw − 1))`. */
  healthCheckJitter: number;
  /** How long a backend must stay healthy after a failure before its line turns `pass`. Default 2 000. */
  healthSettleMs?: number;
}

export interface BridgeContext extends Omit<BridgeMachineInput, 'healthSettleMs'> {
  /** How long a backend must stay healthy after a failure before its line turns `pass`. */
  healthSettleMs: number;
  /** Backends with a pending recovery: their latest healthy line, reported once it settles. */
  recovering: Record<string, BackendHealth>;
  /** In [0, 1): drawn outside the machine (with START and with each check's output), spreads the next wait. */
  nextDraw: number;
  /** Which surfaces (WebMCP registration, MCP server…) are up, by name. */
  surfaces: Record<string, boolean>;
  /** Incremented on every change of some backend's `status`, `state` or `breaker`: what `onHealthChange` follows. */
  revision: number;
}

/** What the `probeBackends` actor resolves with: the draw that spreads the next wait. */
export interface ProbeBackendsOutput {
  draw: number;
}

export type BridgeEvent =
  /** Starts the periodic health checks; `draw` in [0, 1) spreads the first wait. */
  | { type: 'START'; draw: number }
  /** Stops every backend (the `stopBackends` actor), then the machine is done. */
  | { type: 'STOP' }
  /** Runs a health check now instead of waiting (ignored while one runs). */
  | { type: 'CHECK_NOW' }
  /**
   * A backend's health as its link saw it change (sent by the `backend:<name>` children), at clock
   * time `at` (ms).
   */
  | { type: 'BACKEND_CHANGED'; name: string; health: BackendHealth; at?: number }
  /** Backend `name` stayed healthy for `healthSettleMs` (raised by the machine itself, delayed). */
  | { type: 'HEALTH_SETTLED'; name: string }
  /** A tool surface registered / started serving (`up`) or stopped; `at` is the ISO time. */
  | { type: 'SURFACE_CHANGED'; surface: string; up: boolean; at: string }
  /** A backend joined (hot reload): its line is added and a `backend:<name>` link spawned. Ignored for a known name. */
  | { type: 'BACKEND_ADDED'; name: string; health: BackendHealth }
  /** A backend left (hot reload): its link is stopped and its line removed. Ignored for an unknown name. */
  | { type: 'BACKEND_REMOVED'; name: string };

/** Whether two health lines differ in what `onHealthChange` reports: status, state or breaker. */
export function isSignificantChange(before: BackendHealth | undefined, after: BackendHealth): boolean {
  return (
    before === undefined ||
    before.status !== after.status ||
    before.state !== after.state ||
    before.breaker !== after.breaker
  );
}

/** The `webmcp` line once `surfaces` changed at `at`. */
export function surfaceHealth(
  previous: BackendHealth,
  surfaces: Record<string, boolean>,
  at: string,
): BackendHealth {
  const up = Object.values(surfaces).some(Boolean);
  return {
    ...previous,
    status: up ? 'pass' : 'warn',
    state: up ? 'SERVING' : 'NOT_SERVING',
    lastCheckAt: at,
    lastSuccessAt: up ? at : previous.lastSuccessAt,
  };
}

/**
 * The reducer: the context after replacing backend `name`'s line by `health`. The record is copied
 * shallowly (every other line shared) so snapshots stay values; `revision` grows only when the line's
 * status, state or breaker changed — computed here, once.
 */
export function withLine(
  context: Pick<BridgeContext, 'backends' | 'revision'>,
  name: string,
  health: BackendHealth,
): Pick<BridgeContext, 'backends' | 'revision'> {
  const significant = isSignificantChange(context.backends[name], health);
  return {
    backends: { ...context.backends, [name]: health },
    revision: significant ? context.revision + 1 : context.revision,
  };
}

/**
 * The bridge orchestrator as pure data.
 *
 * - At creation it spawns one `backendLink` child per real backend (`id` and `systemId`
 *   `backend:<name>`). The runtime provides the link: a callback actor that subscribes to its Backend
 *   and sends `BACKEND_CHANGED` whenever the backend's health may have changed, synchronously, so the
 *   parent's context (and `health()`) is current before the event that caused the change returns.
 * - In any state, `BACKEND_CHANGED` and `SURFACE_CHANGED` go through the reducer (`withLine`): the
 *   line is replaced by key and `revision` bumped when status, state or breaker changed. The `webmcp`
 *   line passes while any surface is up.
 * - Hot reload: `BACKEND_ADDED` adds a line and spawns its link (child id `backend:<name>`, no
 *   systemId); `BACKEND_REMOVED` stops the link
 *   and drops the line (both bump `revision`). A changed backend is removed, then added again.
 * - Health fails fast and recovers slowly: a failing line is reported at once, but a backend that
 *   failed and reports healthy again keeps its degraded line (with `recoveringUntil`) until it stays
 *   healthy for `healthSettleMs` — a delayed `HEALTH_SETTLED` (named delay `healthSettle`, one
 *   cancellable timer per backend). Failing again before cancels it: a flapping backend stays
 *   degraded instead of changing health at every flap.
 * - The lifecycle: `running.waiting` waits `healthCheck` (jittered by a draw made outside the
 *   machine), then `running.checking` invokes `probeBackends` and waits again. `STOP` leads through
 *   `stopping` (the `stopBackends` actor) to the final `stopped`.
 */
export const bridgeMachine = setup({
  types: {
    input: {} as BridgeMachineInput,
    context: {} as BridgeContext,
    events: {} as BridgeEvent,
  },
  actors: {
    /** Provided by the runtime: forwards one backend's changes as `BACKEND_CHANGED`. */
    backendLink: fromCallback<BridgeEvent, { name: string }>(() => {}),
    /** Provided by the runtime: probes every backend actively; never rejects in practice. */
    probeBackends: fromPromise<ProbeBackendsOutput>(async () => ({ draw: 0.5 })),
    /** Provided by the runtime: stops every backend. */
    stopBackends: fromPromise<void>(async () => {}),
  },
  actions: {
    spawnBackendLinks: enqueueActions(({ context, enqueue }) => {
      for (const name of context.linked) {
        enqueue.spawnChild('backendLink', {
          id: `backend:${name}`,
          systemId: `backend:${name}`,
          input: { name },
        });
      }
    }),
    addBackend: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'BACKEND_ADDED') return;
      enqueue.assign({
        linked: [...context.linked, event.name],
        backends: { ...context.backends, [event.name]: event.health },
        revision: context.revision + 1,
      });
      // No systemId: a name removed and added again would collide with the old one while it stops.
      enqueue.spawnChild('backendLink', { id: `backend:${event.name}`, input: { name: event.name } });
    }),
    removeBackend: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'BACKEND_REMOVED') return;
      enqueue.stopChild(`backend:${event.name}`);
      const { [event.name]: _removed, ...backends } = context.backends;
      enqueue.assign({
        linked: context.linked.filter((name) => name !== event.name),
        backends,
        revision: context.revision + 1,
      });
    }),
    recordBackend: assign(({ context, event }) =>
      event.type === 'BACKEND_CHANGED' ? withLine(context, event.name, event.health) : {},
    ),
    /** A failed backend reports healthy: its line stays degraded until `HEALTH_SETTLED`. */
    startRecovery: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'BACKEND_CHANGED') return;
      enqueue.assign(withRecovery(context, event.name, event.health, event.at ?? 0));
      enqueue.raise(
        { type: 'HEALTH_SETTLED', name: event.name },
        { id: settleId(event.name), delay: 'healthSettle' },
      );
    }),
    /** Still healthy while recovering: keep the latest healthy line for when it settles. */
    updateRecovery: assign(({ context, event }) =>
      event.type === 'BACKEND_CHANGED'
        ? { recovering: { ...context.recovering, [event.name]: event.health } }
        : {},
    ),
    /** Failed again while recovering, or settled: no recovery pending any more for this backend. */
    endRecovery: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'BACKEND_CHANGED' && event.type !== 'HEALTH_SETTLED') return;
      enqueue.cancel(settleId(event.name));
      const { [event.name]: _ended, ...recovering } = context.recovering;
      enqueue.assign({ recovering });
    }),
    /** The backend stayed healthy for the settle time: its latest healthy line is reported. */
    completeRecovery: assign(({ context, event }) => {
      if (event.type !== 'HEALTH_SETTLED') return {};
      const healthy = context.recovering[event.name];
      return healthy ? withLine(context, event.name, healthy) : {};
    }),
    recordSurface: assign(({ context, event }) => {
      if (event.type !== 'SURFACE_CHANGED') return {};
      const surfaces = { ...context.surfaces, [event.surface]: event.up };
      const line = context.backends[SURFACE_BACKEND];
      if (!line) return { surfaces };
      return { surfaces, ...withLine(context, SURFACE_BACKEND, surfaceHealth(line, surfaces, event.at)) };
    }),
    recordStartDraw: assign({
      nextDraw: ({ context, event }) => (event.type === 'START' ? event.draw : context.nextDraw),
    }),
    recordCheckDraw: assign({
      nextDraw: ({ context, event }) => {
        const output = (event as unknown as { output?: ProbeBackendsOutput }).output;
        return typeof output?.draw === 'number' ? output.draw : context.nextDraw;
      },
    }),
  },
  guards: {
    /** BACKEND_ADDED names a backend not linked yet. */
    isNewBackend: ({ context, event }) =>
      event.type === 'BACKEND_ADDED' && !context.linked.includes(event.name),
    /** BACKEND_REMOVED / BACKEND_CHANGED name a linked backend. */
    isLinkedBackend: ({ context, event }) =>
      (event.type === 'BACKEND_REMOVED' || event.type === 'BACKEND_CHANGED') &&
      context.linked.includes(event.name),
    /** A backend that failed reports healthy (and no recovery is pending): hold its line, start the timer. */
    startsRecovery: ({ context, event }) =>
      event.type === 'BACKEND_CHANGED' &&
      context.recovering[event.name] === undefined &&
      isRecoveryStart(context.backends[event.name], event.health),
    isRecoveringAndHealthy: ({ context, event }) =>
      event.type === 'BACKEND_CHANGED' &&
      context.recovering[event.name] !== undefined &&
      event.health.status === 'pass',
    isRecovering: ({ context, event }) =>
      (event.type === 'BACKEND_CHANGED' || event.type === 'HEALTH_SETTLED') &&
      context.recovering[event.name] !== undefined,
  },
  delays: {
    healthSettle: ({ context }) => context.healthSettleMs,
    healthCheck: ({ context }) =>
      context.healthCheckIntervalMs * (1 + context.healthCheckJitter * (2 * context.nextDraw - 1)),
  },
}).createMachine({
  id: 'bridge',
  initial: 'idle',
  context: ({ input }) => ({
    backends: input.backends,
    linked: input.linked,
    healthCheckIntervalMs: input.healthCheckIntervalMs,
    healthCheckJitter: input.healthCheckJitter,
    healthSettleMs: input.healthSettleMs ?? 2_000,
    recovering: {},
    nextDraw: 0.5,
    surfaces: {},
    revision: 0,
  }),
  entry: 'spawnBackendLinks',
  on: {
    BACKEND_CHANGED: [
      { guard: 'startsRecovery', actions: 'startRecovery' },
      { guard: 'isRecoveringAndHealthy', actions: 'updateRecovery' },
      { guard: 'isRecovering', actions: ['endRecovery', 'recordBackend'] },
      { guard: 'isLinkedBackend', actions: 'recordBackend' },
    ],
    HEALTH_SETTLED: { guard: 'isRecovering', actions: ['completeRecovery', 'endRecovery'] },
    SURFACE_CHANGED: { actions: 'recordSurface' },
    BACKEND_ADDED: { guard: 'isNewBackend', actions: 'addBackend' },
    BACKEND_REMOVED: { guard: 'isLinkedBackend', actions: 'removeBackend' },
  },
  states: {
    idle: {
      on: {
        START: { target: 'running', actions: 'recordStartDraw' },
        STOP: { target: 'stopping' },
      },
    },
    running: {
      initial: 'waiting',
      on: {
        STOP: { target: 'stopping' },
      },
      states: {
        waiting: {
          after: {
            healthCheck: { target: 'checking' },
          },
          on: {
            CHECK_NOW: { target: 'checking' },
          },
        },
        checking: {
          invoke: {
            id: 'probeBackends',
            src: 'probeBackends',
            onDone: { target: 'waiting', actions: 'recordCheckDraw' },
            onError: { target: 'waiting' },
          },
        },
      },
    },
    stopping: {
      invoke: {
        id: 'stopBackends',
        src: 'stopBackends',
        onDone: { target: 'stopped' },
        onError: { target: 'stopped' },
      },
    },
    stopped: {
      type: 'final',
    },
  },
});

export type BridgeMachine = typeof bridgeMachine;
