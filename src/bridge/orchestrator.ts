/*
 * Runs `bridgeMachine` over a set of backends: provides its actors (one link per backend, the
 * periodic probe, the stop) and turns snapshots into health reports for `onHealthChange`.
 *
 * Why a link actor and not the backend's own actor as the child: backends create and own their actors
 * (kinds start them at once, with their breakers as separate actors), so they cannot be spawned
 * inside the orchestrator's system. The link is a callback actor spawned with `systemId:
 * 'backend:<name>'`: it subscribes to its Backend (`subscribe`, called synchronously on every state,
 * breaker or health change) and sends the parent `BACKEND_CHANGED` with `backend.status()`. XState
 * relays that event at once, so the orchestrator's context, and `health()`, are current before the
 * backend event that caused the change returns.
 */
import {
  type Actor,
  createActor,
  fromCallback,
  fromPromise,
  type InspectionEvent,
  type Observer,
} from 'xstate';
import {
  type BridgeEvent,
  type BridgeMachine,
  bridgeMachine,
  type ProbeBackendsOutput,
  SURFACE_BACKEND,
} from '../../machines/bridge.machine.js';
import { errorMessage } from '../../machines/error-message.js';
import type { Backend, BackendHealth, HealthReport } from '../backends/types.js';
import type { Clock } from '../clock.js';
import { healthReport } from './health.js';
import type { BridgeLogger, HealthListener } from './types.js';

function surfaceLine(): BackendHealth {
  return {
    kind: 'webmcp',
    status: 'warn',
    state: 'NOT_SERVING',
    breaker: 'CLOSED',
    consecutiveFailures: 0,
    lastCheckAt: null,
    lastSuccessAt: null,
    lastError: null,
    latencyMs: null,
    critical: false,
  };
}

export interface OrchestratorOptions {
  backends: ReadonlyMap<string, Backend>;
  /** Track the tool surface as the `webmcp` line. */
  surface: boolean;
  healthCheckIntervalMs: number;
  healthCheckJitter: number;
  /** See `BridgeConfig.healthSettleMs`. */
  healthSettleMs: number;
  clock: Clock;
  random: () => number;
  logger: BridgeLogger;
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Runs once every backend stopped. */
  onStopped?: () => void;
}

export interface Orchestrator {
  readonly actor: Actor<BridgeMachine>;
  health(): HealthReport;
  onHealthChange(listener: HealthListener): () => void;
  setSurface(surface: string, up: boolean): void;
  /** Links backend `name` (already in the `backends` map) and adds its health line. */
  addBackend(name: string, health: BackendHealth): void;
  /** Unlinks backend `name` and drops its health line. */
  removeBackend(name: string): void;
  /** Sends STOP and resolves once the machine is done. */
  stop(): Promise<void>;
}

/** Creates and starts the orchestrator actor (the backends are not started). */
export function createOrchestrator(options: OrchestratorOptions): Orchestrator {
  const { backends, clock, random, logger, inspect } = options;
  const initial: Record<string, BackendHealth> = {};
  for (const [name, backend] of backends) initial[name] = backend.status();
  if (options.surface) initial[SURFACE_BACKEND] = surfaceLine();

  const machine = bridgeMachine.provide({
    actors: {
      backendLink: fromCallback<BridgeEvent, { name: string }>(({ input, sendBack }) => {
        const backend = backends.get(input.name);
        if (!backend) return;
        const push = () =>
          sendBack({ type: 'BACKEND_CHANGED', name: input.name, health: backend.status(), at: clock.now() });
        const unsubscribe = backend.subscribe(push);
        push();
        return unsubscribe;
      }),
      probeBackends: fromPromise<ProbeBackendsOutput>(async () => {
        await Promise.allSettled([...backends.values()].map((backend) => backend.probe()));
        return { draw: random() };
      }),
      stopBackends: fromPromise<void>(async () => {
        await Promise.allSettled([...backends.values()].map((backend) => backend.stop()));
        options.onStopped?.();
      }),
    },
  });
  const actor = createActor(machine, {
    input: {
      backends: initial,
      linked: [...backends.keys()],
      healthCheckIntervalMs: options.healthCheckIntervalMs,
      healthCheckJitter: options.healthCheckJitter,
      healthSettleMs: options.healthSettleMs,
    },
    clock,
    ...(inspect ? { inspect } : {}),
  });

  const listeners = new Set<HealthListener>();
  let lastRevision = 0;
  let lastReport: HealthReport | null = null;
  actor.subscribe({
    next: (snapshot) => {
      if (snapshot.context.revision === lastRevision) return;
      lastRevision = snapshot.context.revision;
      const report = healthReport(snapshot, clock.now());
      const previous = lastReport ?? report;
      lastReport = report;
      for (const listener of [...listeners]) {
        try {
          listener(report, previous);
        } catch (error) {
          logger.warn('bridge: an onHealthChange listener threw', {
            error: errorMessage(error),
          });
        }
      }
    },
    error: () => {},
  });
  actor.start();
  lastReport = healthReport(actor.getSnapshot(), clock.now());
  lastRevision = actor.getSnapshot().context.revision;

  let stopping: Promise<void> | null = null;
  return {
    actor,
    health: () => healthReport(actor.getSnapshot(), clock.now()),
    onHealthChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    setSurface(surface, up) {
      actor.send({ type: 'SURFACE_CHANGED', surface, up, at: new Date(clock.now()).toISOString() });
    },
    addBackend(name, health) {
      actor.send({ type: 'BACKEND_ADDED', name, health });
    },
    removeBackend(name) {
      actor.send({ type: 'BACKEND_REMOVED', name });
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        const subscription = actor.subscribe({
          next: (snapshot) => {
            if (snapshot.status !== 'done') return;
            subscription.unsubscribe();
            resolve();
          },
          complete: () => resolve(),
          error: () => resolve(),
        });
        if (actor.getSnapshot().status !== 'active') {
          subscription.unsubscribe();
          resolve();
          return;
        }
        actor.send({ type: 'STOP' });
      });
      return stopping;
    },
  };
}
