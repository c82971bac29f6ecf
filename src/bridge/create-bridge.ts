/*
 * `createBridge`: composes the parts. Backends are built from a registry of kinds (`./backends.ts`),
 * the orchestrator machine follows their health (`./orchestrator.ts`), and one tool registry merges
 * the code-defined tools with those that backends provide (`../tools/registry.ts`).
 */

import { errorMessage } from '../../machines/error-message.js';
import { isToolProvider } from '../backends/kind.js';
import { builtInKinds } from '../backends/kinds/index.js';
import { backendKindRegistry } from '../backends/kinds/registry.js';
import type { SocketBackend } from '../backends/socket.js';
import type { Backend } from '../backends/types.js';
import { systemClock } from '../clock.js';
import { replayOutbox, withOutbox } from '../persistence/a2a.js';
import { persistBreakers } from '../persistence/breakers.js';
import type { BridgePersistence } from '../persistence/types.js';
import type { RetryBudget } from '../reliability/retry-budget.js';
import { createRetryMetrics } from '../reliability/retry-metrics.js';
import { createReliabilityEventHub } from '../telemetry/events.js';
import { logReliabilityEvents } from '../telemetry/logger.js';
import { createA2ALedger } from '../tools/a2a-ledger.js';
import { createDefinitionSource } from '../tools/definitions.js';
import { providerToolSource } from '../tools/discovered.js';
import { builtInTools } from '../tools/index.js';
import { createToolRegistry } from '../tools/registry.js';
import type { BridgeView } from '../tools/types.js';
import {
  type BuildBackendsOptions,
  buildBackends,
  type ResolvedBackend,
  resolveBackends,
} from './backends.js';
import {
  DEFAULT_HEALTH_CHECK_INTERVAL_MS,
  DEFAULT_HEALTH_CHECK_JITTER,
  DEFAULT_HEALTH_SETTLE_MS,
} from './defaults.js';
import { ConfigError } from './errors.js';
import { createOrchestrator } from './orchestrator.js';
import { applyReconfigure, planReconfigure } from './reconfigure.js';
import { toolContexts } from './tool-context.js';
import type { Bridge, BridgeConfig, BridgeLogger, ReconfigureResult } from './types.js';

/** Without a logger the bridge reports warnings and errors (trips, recoveries, failures) on the console. */
const consoleWarnings: BridgeLogger = {
  warn: (message, details) => console.warn(message, details ?? ''),
  error: (message, details) => console.error(message, details ?? ''),
};

/**
 * Creates a bridge: its backends (not connected until `start()`), the orchestrator actor and the
 * tools (built-in, host and discovered). See `BridgeConfig` for the defaults.
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
  const healthSettleMs = config.healthSettleMs ?? DEFAULT_HEALTH_SETTLE_MS;
  if (!(Number.isFinite(healthSettleMs) && healthSettleMs >= 0))
    throw new ConfigError('healthSettleMs', 'expected a number of milliseconds ≥ 0');
  const kinds = backendKindRegistry(
    builtInKinds({
      ...(config.WebSocket ? { WebSocket: config.WebSocket } : {}),
      ...(config.fetch ? { fetch: config.fetch } : {}),
    }),
    [...(config.kinds ?? [])],
  );
  const resolved = resolveBackends(config.backends, kinds);

  const retryMetrics = createRetryMetrics();
  // Retries, attempts and breaker transitions, for telemetry; one log line per retry, trip and recovery.
  const events = createReliabilityEventHub(() => clock.now());
  logReliabilityEvents(events, logger);
  // With persistence, breakers resume their saved state and queued A2A messages survive a restart.
  const persistence = config.persistence;
  const persistError = (what: string) => (error: unknown) => {
    if (persistence?.onError) persistence.onError(error, what);
    else (logger.error ?? logger.warn)(`bridge: cannot save ${what}`, { error: errorMessage(error) });
  };
  const a2a = persistence?.outbox
    ? withOutbox(createA2ALedger(clock), persistence.outbox)
    : createA2ALedger(clock);

  const buildOptions: BuildBackendsOptions = {
    clock,
    random,
    logger,
    ...(inspect ? { inspect } : {}),
    retryMetrics,
    events,
    ...(config.dataDir === undefined ? {} : { dataDir: config.dataDir }),
    ...(persistence?.breakers ? { restore: (name) => persistence.breakers?.load(name) } : {}),
  };
  const { backends, budgets } = buildBackends(resolved, buildOptions);
  const running = new Map(resolved.map((spec) => [spec.name, spec]));
  const detachers = new Map<string, (() => void)[]>();
  const detachLater = (name: string, detach: () => void) =>
    detachers.set(name, [...(detachers.get(name) ?? []), detach]);
  for (const [name, backend] of backends) detachLater(name, events.watchBreaker(name, backend.breaker));
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
    replayOutbox(
      persistence.outbox,
      (envelope) => socket.send(envelope),
      a2a,
      persistError('a2a delivery'),
      (problem) => socket.reportProblem(problem),
    );
  }

  const orchestrator = createOrchestrator({
    backends,
    surface: config.surface !== false,
    healthCheckIntervalMs,
    healthCheckJitter,
    healthSettleMs,
    clock,
    random,
    logger,
    ...(inspect ? { inspect } : {}),
    ...(stopPersisting ? { onStopped: stopPersisting } : {}),
  });
  const { actor } = orchestrator;

  let startedAt: number | null = null;
  const tools = createToolRegistry();
  const view: BridgeView = {
    health: orchestrator.health,
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
    toolNames: () => tools.names(),
    toolCalls: () => tools.stats(),
    retryMetrics,
    a2a,
  };
  const definitions = createDefinitionSource({
    contextFor: toolContexts({ view, backends, budgets, clock, random, retryMetrics, events, inspect }),
    taken: (name) => tools.has(name),
    hasBackend: (name) => backends.has(name),
  });
  tools.addSource(definitions);
  for (const tool of builtInTools({
    ...(config.maxPromptChars === undefined ? {} : { maxPromptChars: config.maxPromptChars }),
    ...(config.agentId === undefined ? {} : { agentId: config.agentId }),
  })) {
    // A built-in tool whose backend is disabled (`enabled: false`) stays listed and answers
    // BACKEND_UNAVAILABLE ('not configured') instead of making createBridge throw.
    if (tool.backend !== undefined && !backends.has(tool.backend)) {
      const { backend: _disabled, ...rest } = tool;
      definitions.add(rest);
    } else definitions.add(tool);
  }
  for (const [name, backend] of backends)
    if (isToolProvider(backend)) detachLater(name, tools.addSource(providerToolSource(name, backend)));

  // Hot reload (`reconfigure`): backends join and leave the same maps, orchestrator and registry.
  const removeBackend = async (name: string) => {
    const backend = backends.get(name);
    for (const detach of detachers.get(name) ?? []) detach();
    detachers.delete(name);
    orchestrator.removeBackend(name);
    backends.delete(name);
    budgets.delete(name);
    running.delete(name);
    await backend?.stop();
  };
  const addBackend = (spec: ResolvedBackend) => {
    const built = buildBackends([spec], buildOptions);
    const backend = built.backends.get(spec.name) as Backend;
    backends.set(spec.name, backend);
    budgets.set(spec.name, built.budgets.get(spec.name) as RetryBudget);
    running.set(spec.name, spec);
    detachLater(spec.name, events.watchBreaker(spec.name, backend.breaker));
    if (persistence?.breakers)
      detachLater(
        spec.name,
        persistBreakers(persistence.breakers, [backend.breaker], {
          clock,
          onError: persistError('breaker state'),
        }),
      );
    orchestrator.addBackend(spec.name, backend.status());
    if (isToolProvider(backend))
      detachLater(spec.name, tools.addSource(providerToolSource(spec.name, backend)));
    if (startedAt !== null && actor.getSnapshot().status === 'active') backend.start();
    return backend;
  };
  let reconfiguring: Promise<unknown> = Promise.resolve();
  const reconfigure = (next: Pick<BridgeConfig, 'backends'>): Promise<ReconfigureResult> => {
    // Validated now (rejects with ConfigError before anything changes); applied after earlier reloads.
    let specs: ResolvedBackend[];
    try {
      specs = resolveBackends(next.backends, kinds);
    } catch (error) {
      return Promise.reject(error);
    }
    const result = reconfiguring.then(async () => {
      if (actor.getSnapshot().status !== 'active') throw new Error('the bridge is stopped');
      const plan = planReconfigure(running, specs);
      await applyReconfigure(plan, specs, { remove: removeBackend, add: addBackend });
      return plan;
    });
    reconfiguring = result.catch(() => {});
    return result;
  };

  return {
    actor,
    retryMetrics,
    reliabilityEvents: events,
    async start() {
      if (startedAt !== null || actor.getSnapshot().value !== 'idle') return;
      startedAt = clock.now();
      actor.send({ type: 'START', draw: random() });
      for (const backend of backends.values()) backend.start();
    },
    stop: orchestrator.stop,
    health: orchestrator.health,
    onHealthChange: orchestrator.onHealthChange,
    listTools: () => tools.list(),
    onToolsChanged: (listener) => tools.onChange(listener),
    callTool: (name, args, options) => tools.call(name, args, options),
    registerTool: (tool) => definitions.add(tool),
    setSurface: orchestrator.setSurface,
    backend: (name) => backends.get(name),
    backendNames: () => [...backends.keys()],
    reconfigure,
  };
}
