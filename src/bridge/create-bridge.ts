/*
 * The runtime around `bridgeMachine`: creates the backends, provides the machine's actors (one link
 * per backend, the periodic probe, the stop), turns the snapshot into the health report and runs tools.
 *
 * Why a link actor and not the backend's own actor as the child: backends create and own their actors
 * (`createSocketBackend` / `createHttpBackend` start them at once, with their breakers as separate
 * actors), so they cannot be spawned inside the orchestrator's system. The link is a callback actor
 * spawned with `systemId: 'backend:<name>'`: it subscribes to its Backend (`subscribe`, called
 * synchronously on every state, breaker or health change) and sends the parent `BACKEND_CHANGED`
 * with `backend.status()`. XState relays that event at once, so the orchestrator's context, and
 * `health()`, are current before the backend event that caused the change returns.
 */
import { createActor, fromCallback, fromPromise, type SnapshotFrom } from 'xstate';
import { z } from 'zod';
import {
  type BridgeEvent,
  type BridgeMachine,
  bridgeMachine,
  type ProbeBackendsOutput,
  SURFACE_BACKEND,
} from '../../machines/bridge.machine.js';
import { createHttpBackend, type HttpBackendOptions } from '../backends/http.js';
import { createSocketBackend, type SocketBackend, type SocketBackendOptions } from '../backends/socket.js';
import type { Backend, BackendHealth } from '../backends/types.js';
import { systemClock } from '../clock.js';
import { replayOutbox, withOutbox } from '../persistence/a2a.js';
import { persistBreakers } from '../persistence/breakers.js';
import type { BridgePersistence } from '../persistence/types.js';
import { retry } from '../reliability/retry.js';
import { createRetryBudget, nestedRetryBudget, type RetryBudget } from '../reliability/retry-budget.js';
import { createRetryMetrics } from '../reliability/retry-metrics.js';
import { createReliabilityEventHub } from '../telemetry/events.js';
import { logReliabilityEvents } from '../telemetry/logger.js';

/** Without a logger the bridge reports warnings and errors (trips, recoveries, failures) on the console. */
const consoleWarnings: BridgeLogger = {
  warn: (message, details) => console.warn(message, details ?? ''),
  error: (message, details) => console.error(message, details ?? ''),
};

import { neverAborted } from '../reliability/call.js';
import { createA2ALedger } from '../tools/a2a-ledger.js';
import { assertAvailable } from '../tools/availability.js';
import { errorCodeOf, invalidInput, toolFailure } from '../tools/errors.js';
import { builtInTools } from '../tools/index.js';
import type { BridgeView, ToolContext, ToolDefinition, ToolInputSchema } from '../tools/types.js';
import {
  DEFAULT_BACKENDS,
  DEFAULT_HEALTH_CHECK_INTERVAL_MS,
  DEFAULT_HEALTH_CHECK_JITTER,
  DEFAULT_SOCKET_OPTIONS,
} from './defaults.js';
import { ConfigError } from './errors.js';
import { healthReport } from './health.js';
import type {
  BackendConfig,
  Bridge,
  BridgeConfig,
  BridgeLogger,
  HealthListener,
  HealthReport,
  ToolDescriptor,
  ToolResult,
} from './types.js';

/** Tool names WebMCP accepts. */
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

interface RegisteredTool {
  definition: ToolDefinition;
  descriptor: ToolDescriptor;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function jsonSchemaOf(schema: ToolInputSchema): Record<string, unknown> {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return { type: 'object' };
  }
}

/** Resolved configuration of one backend. */
interface ResolvedBackend {
  name: string;
  kind: 'websocket' | 'http';
  url: string;
  critical: boolean;
  options: Record<string, unknown>;
}

function resolveBackends(config: Record<string, BackendConfig> | undefined): ResolvedBackend[] {
  const names = new Set([...Object.keys(DEFAULT_BACKENDS), ...Object.keys(config ?? {})]);
  const resolved: ResolvedBackend[] = [];
  for (const name of names) {
    const base = DEFAULT_BACKENDS[name];
    const given = config?.[name] ?? {};
    if (given.enabled === false) continue;
    if (name === SURFACE_BACKEND) throw new ConfigError(`backends.${name}`, 'this name is reserved');
    const kind = given.kind ?? base?.kind;
    if (!kind) throw new ConfigError(`backends.${name}.kind`, "expected 'websocket' or 'http'");
    if (base && given.kind && given.kind !== base.kind)
      throw new ConfigError(`backends.${name}.kind`, `expected '${base.kind}'`);
    const url = given.url ?? base?.url;
    if (!url) throw new ConfigError(`backends.${name}.url`, 'expected a URL');
    resolved.push({
      name,
      kind,
      url,
      critical: given.critical ?? base?.critical ?? false,
      options: { ...(given.options ?? {}) },
    });
  }
  return resolved;
}

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
    lastErrorAt: null,
    latencyMs: null,
    critical: false,
  };
}

/**
 * Creates a bridge: its backends (not connected until `start()`), the orchestrator actor and the
 * built-in tools. See `BridgeConfig` for the defaults.
 */
export function createBridge(config: BridgeConfig & { persistence?: BridgePersistence } = {}): Bridge {
  const clock = config.clock ?? systemClock;
  const random = config.random ?? Math.random;
  const logger = config.logger ?? consoleWarnings;
  const inspect = config.inspect;
  const healthCheckIntervalMs = config.healthCheckIntervalMs ?? DEFAULT_HEALTH_CHECK_INTERVAL_MS;
  const healthCheckJitter = config.healthCheckJitter ?? DEFAULT_HEALTH_CHECK_JITTER;
  if (!(Number.isFinite(healthCheckIntervalMs) && healthCheckIntervalMs > 0))
    throw new ConfigError('healthCheckIntervalMs', 'expected a positive number');
  if (!(healthCheckJitter >= 0 && healthCheckJitter < 1))
    throw new ConfigError('healthCheckJitter', 'expected a number in [0, 1)');
  const retryMetrics = createRetryMetrics();
  // Retries, attempts and breaker transitions, for telemetry; one log line per retry, trip and recovery.
  const reliabilityEvents = createReliabilityEventHub(() => clock.now());
  logReliabilityEvents(reliabilityEvents, logger);
  // With persistence, breakers resume their saved state and queued A2A messages survive a restart.
  const persistence = config.persistence;
  const persistError = (what: string) => (error: unknown) => {
    if (persistence?.onError) persistence.onError(error, what);
    else if (logger.error) logger.error(`bridge: cannot save ${what}`, { error: describeError(error) });
    else logger.warn(`bridge: cannot save ${what}`, { error: describeError(error) });
  };
  const a2a = persistence?.outbox
    ? withOutbox(createA2ALedger(clock), persistence.outbox)
    : createA2ALedger(clock);

  const backends = new Map<string, Backend>();
  const budgets = new Map<string, RetryBudget>(); // one retry budget per backend, on by default
  for (const spec of resolveBackends(config.backends)) {
    budgets.set(spec.name, createRetryBudget({ clock }));
    if (spec.kind === 'websocket') {
      const options: SocketBackendOptions = {
        ...(DEFAULT_SOCKET_OPTIONS[spec.name] ?? {}),
        ...(config.WebSocket ? { WebSocket: config.WebSocket } : {}),
        ...(inspect ? { inspect } : {}),
        logger,
        ...(spec.options as Partial<SocketBackendOptions>),
        name: spec.name,
        url: spec.url,
        clock,
        random,
        critical: spec.critical,
      };
      const restore = persistence?.breakers?.load(spec.name);
      if (restore) options.breaker = { ...options.breaker, restore };
      backends.set(spec.name, createSocketBackend(options));
    } else {
      const given = spec.options as Partial<HttpBackendOptions>;
      const options: HttpBackendOptions = {
        ...(config.fetch ? { fetch: config.fetch } : {}),
        ...(inspect ? { inspect } : {}),
        logger,
        ...given,
        retry: {
          metrics: retryMetrics,
          budget: budgets.get(spec.name) as RetryBudget,
          ...(given.retry ?? {}),
          onRetry: reliabilityEvents.onRetry(spec.name, 'backend', given.retry?.onRetry),
        },
        name: spec.name,
        baseUrl: spec.url,
        clock,
        random,
        critical: spec.critical,
      };
      const restore = persistence?.breakers?.load(spec.name);
      if (restore) options.breaker = { ...options.breaker, restore };
      backends.set(spec.name, createHttpBackend(options));
    }
  }
  for (const [name, backend] of backends) reliabilityEvents.watchBreaker(name, backend.breaker);
  const stopPersisting = persistence?.breakers
    ? persistBreakers(
        persistence.breakers,
        [...backends.values()].map((backend) => backend.breaker),
        { clock, onError: persistError('breaker state') },
      )
    : undefined;
  const a2aSocket = backends.get('a2a');
  if (persistence?.outbox && a2aSocket?.kind === 'websocket') {
    const socket = a2aSocket as SocketBackend;
    replayOutbox(persistence.outbox, (envelope) => socket.send(envelope), a2a, persistError('a2a delivery'));
  }

  const initial: Record<string, BackendHealth> = {};
  for (const [name, backend] of backends) initial[name] = backend.status();
  if (config.surface !== false) initial[SURFACE_BACKEND] = surfaceLine();

  const machine = bridgeMachine.provide({
    actors: {
      backendLink: fromCallback<BridgeEvent, { name: string }>(({ input, sendBack }) => {
        const backend = backends.get(input.name);
        if (!backend) return;
        const push = () => sendBack({ type: 'BACKEND_CHANGED', name: input.name, health: backend.status() });
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
        stopPersisting?.();
      }),
    },
  });

  const actor = createActor(machine, {
    input: { backends: initial, linked: [...backends.keys()], healthCheckIntervalMs, healthCheckJitter },
    clock,
    ...(inspect ? { inspect } : {}),
  });

  const listeners = new Set<HealthListener>();
  let lastRevision = 0;
  let lastReport: HealthReport | null = null;
  const onSnapshot = (snapshot: SnapshotFrom<BridgeMachine>) => {
    if (snapshot.context.revision === lastRevision) return;
    lastRevision = snapshot.context.revision;
    const report = healthReport(snapshot, clock.now());
    const previous = lastReport ?? report;
    lastReport = report;
    for (const listener of [...listeners]) {
      try {
        listener(report, previous);
      } catch (error) {
        logger.warn('bridge: an onHealthChange listener threw', { error: describeError(error) });
      }
    }
  };
  actor.subscribe({ next: onSnapshot, error: () => {} });
  actor.start();
  lastReport = healthReport(actor.getSnapshot(), clock.now());
  lastRevision = actor.getSnapshot().context.revision;

  let startedAt: number | null = null;
  let totalCalls = 0;
  const callBreakdown: Record<string, number> = {};
  const failureBreakdown: Record<string, number> = {};
  const tools = new Map<string, RegisteredTool>();

  const health = (): HealthReport => healthReport(actor.getSnapshot(), clock.now());

  const view: BridgeView = {
    health,
    get state() {
      const value = actor.getSnapshot().value;
      return typeof value === 'string' ? value : (Object.keys(value)[0] ?? 'unknown');
    },
    get startedAt() {
      return startedAt;
    },
    healthCheckIntervalMs,
    backend: (name) => backends.get(name),
    backendNames: () => [...backends.keys()],
    toolNames: () => [...tools.keys()],
    toolCalls: () => ({
      totalCalls,
      callBreakdown: { ...callBreakdown },
      failureBreakdown: { ...failureBreakdown },
    }),
    retryMetrics,
    a2a,
  };

  const contextFor = (definition: ToolDefinition): ToolContext => {
    const backend = definition.backend === undefined ? undefined : backends.get(definition.backend);
    const operation = definition.operation;
    // An HTTP backend's request() counts the call itself: a retry around it only draws on the budget.
    const shared = definition.backend === undefined ? undefined : budgets.get(definition.backend);
    const budget = shared && backend?.kind === 'http' ? nestedRetryBudget(shared) : shared;
    return {
      bridge: view,
      backend,
      operation,
      clock,
      random,
      run<T>(fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>): Promise<T> {
        const attempt = (index: number, signal: AbortSignal) => {
          if (backend) assertAvailable(backend, clock.now());
          return fn(index, signal);
        };
        if (operation === undefined) return Promise.resolve().then(() => attempt(0, neverAborted));
        return retry(reliabilityEvents.timeAttempts(definition.backend, operation, attempt), {
          operation,
          metrics: retryMetrics,
          budget,
          clock,
          random,
          shouldRetry: (error) => {
            const code = errorCodeOf(error);
            return code === 'BACKEND_UNAVAILABLE' || code === 'TIMEOUT';
          },
          onRetry: reliabilityEvents.onRetry(definition.backend, 'tool'),
          ...(inspect ? { inspect } : {}),
        });
      },
    };
  };

  const registerTool = <S extends ToolInputSchema>(tool: ToolDefinition<S>): (() => void) => {
    if (typeof tool?.name !== 'string' || !TOOL_NAME.test(tool.name))
      throw new TypeError(`registerTool: name must be 1-128 characters of [A-Za-z0-9_.-], got ${tool?.name}`);
    if (tools.has(tool.name)) throw new TypeError(`registerTool: a tool named "${tool.name}" already exists`);
    if (!(tool.inputSchema instanceof z.ZodObject))
      throw new TypeError(`registerTool: "${tool.name}".inputSchema must be a zod object`);
    if (typeof tool.handler !== 'function')
      throw new TypeError(`registerTool: "${tool.name}".handler must be a function`);
    if (tool.backend !== undefined && !backends.has(tool.backend))
      throw new TypeError(`registerTool: "${tool.name}" names an unknown backend "${tool.backend}"`);
    const definition = tool as unknown as ToolDefinition;
    const entry: RegisteredTool = {
      definition,
      descriptor: {
        name: tool.name,
        description: tool.description,
        inputSchema: jsonSchemaOf(tool.inputSchema),
        schema: tool.inputSchema,
      },
    };
    tools.set(tool.name, entry);
    return () => {
      if (tools.get(tool.name) === entry) tools.delete(tool.name);
    };
  };

  for (const tool of builtInTools({
    ...(config.maxPromptChars === undefined ? {} : { maxPromptChars: config.maxPromptChars }),
    ...(config.agentId === undefined ? {} : { agentId: config.agentId }),
  })) {
    // A built-in tool whose backend is disabled (`enabled: false`) stays listed and answers
    // BACKEND_UNAVAILABLE ('not configured') instead of making createBridge throw.
    if (tool.backend !== undefined && !backends.has(tool.backend)) {
      const { backend: _disabled, ...rest } = tool;
      registerTool(rest);
    } else registerTool(tool);
  }

  const callTool = async (name: string, args: unknown): Promise<ToolResult> => {
    const entry = typeof name === 'string' ? tools.get(name) : undefined;
    if (!entry) {
      return {
        success: false,
        error: `Unknown tool "${String(name)}"; known tools: ${[...tools.keys()].join(', ')}`,
        error_code: 'INVALID_INPUT',
        field: 'name',
      };
    }
    totalCalls++;
    callBreakdown[name] = (callBreakdown[name] ?? 0) + 1;
    const fail = (result: Extract<ToolResult, { success: false }>) => {
      failureBreakdown[name] = (failureBreakdown[name] ?? 0) + 1;
      return result;
    };
    const parsed = entry.definition.inputSchema.safeParse(args ?? {});
    if (!parsed.success) return fail(invalidInput(parsed.error));
    try {
      const result = await entry.definition.handler(parsed.data, contextFor(entry.definition));
      if (result && (result as { success?: unknown }).success === false) {
        const failure = result as Record<string, unknown>;
        return fail({
          ...failure,
          success: false,
          error: String(failure.error ?? 'tool failed'),
          error_code: (failure.error_code as never) ?? 'EXECUTION_FAILED',
        });
      }
      return { ...result, success: true };
    } catch (error) {
      return fail(toolFailure(error));
    }
  };

  let stopping: Promise<void> | null = null;

  const bridge: Bridge = {
    actor,
    retryMetrics,
    reliabilityEvents,
    async start() {
      if (startedAt !== null || actor.getSnapshot().value !== 'idle') return;
      startedAt = clock.now();
      actor.send({ type: 'START', draw: random() });
      for (const backend of backends.values()) backend.start();
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
    health,
    onHealthChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    listTools: () => [...tools.values()].map((entry) => entry.descriptor),
    callTool,
    registerTool,
    setSurface(surface, up) {
      actor.send({
        type: up ? 'SURFACE_UP' : 'SURFACE_DOWN',
        surface,
        at: new Date(clock.now()).toISOString(),
      });
    },
    backend: (name) => backends.get(name),
    backendNames: () => [...backends.keys()],
  };
  return bridge;
}
