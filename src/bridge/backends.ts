/*
 * Builds the bridge's backends from its configuration and a registry of backend kinds: each
 * `backends.<name>` entry (merged over its default) is validated by its kind's `configSchema` and
 * created by the kind — no `if` per kind here.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { SURFACE_BACKEND } from '../../machines/bridge.machine.js';
import type { BackendDeps, BackendLogger } from '../backends/kind.js';
import { type BackendKindRegistry, checkBackendConfig } from '../backends/kinds/registry.js';
import type { Backend } from '../backends/types.js';
import type { Clock } from '../clock.js';
import type { BreakerCheckpoint } from '../reliability/breaker.js';
import { createRetryBudget, type RetryBudget } from '../reliability/retry-budget.js';
import type { RetryMetrics } from '../reliability/retry-metrics.js';
import type { ReliabilityEventHub } from '../telemetry/events.js';
import { DEFAULT_BACKENDS } from './defaults.js';
import { ConfigError } from './errors.js';
import type { BackendConfig } from './types.js';

/** A validated `backends.<name>` entry and the kind that builds it. */
export interface ResolvedBackend {
  name: string;
  kind: string;
  critical: boolean;
  config: { kind: string };
  create: (deps: BackendDeps) => Backend;
}

/** The entry of `name`: the given one over its default (options merged). */
function mergedEntry(name: string, given: BackendConfig): Record<string, unknown> {
  const base = DEFAULT_BACKENDS[name];
  if (!base) return { ...given };
  if (given.kind !== undefined && given.kind !== base.kind)
    throw new ConfigError(`backends.${name}.kind`, `expected '${base.kind}'`);
  const options =
    base.options || given.options ? { ...(base.options ?? {}), ...(given.options ?? {}) } : undefined;
  return { ...base, ...given, kind: base.kind, ...(options ? { options } : {}) };
}

/**
 * Every enabled backend of `config` (the defaults included), validated. Throws `ConfigError` naming
 * the field at fault (`backends.x.url: expected a ws:// or wss:// URL`).
 */
export function resolveBackends(
  config: Record<string, BackendConfig> | undefined,
  kinds: BackendKindRegistry,
): ResolvedBackend[] {
  const names = new Set([...Object.keys(DEFAULT_BACKENDS), ...Object.keys(config ?? {})]);
  const resolved: ResolvedBackend[] = [];
  for (const name of names) {
    const given = config?.[name] ?? {};
    if (given.enabled === false) continue;
    if (name === SURFACE_BACKEND) throw new ConfigError(`backends.${name}`, 'this name is reserved');
    const check = checkBackendConfig(name, mergedEntry(name, given), kinds);
    if (!check.ok) throw new ConfigError(check.problem.key, check.problem.message);
    const { kind, config: entry } = check;
    resolved.push({
      name,
      kind: kind.kind,
      critical: (entry as { critical?: boolean }).critical ?? false,
      config: entry,
      create: (deps) => kind.create(name, entry as never, deps),
    });
  }
  return resolved;
}

export interface BuildBackendsOptions {
  clock: Clock;
  random: () => number;
  logger: BackendLogger;
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  retryMetrics: RetryMetrics;
  events: ReliabilityEventHub;
  dataDir?: string;
  /** The breaker state saved for a backend, if any. */
  restore?: (name: string) => BreakerCheckpoint | undefined;
}

/** Creates the resolved backends, each with its own retry budget. */
export function buildBackends(
  resolved: readonly ResolvedBackend[],
  options: BuildBackendsOptions,
): { backends: Map<string, Backend>; budgets: Map<string, RetryBudget> } {
  const backends = new Map<string, Backend>();
  const budgets = new Map<string, RetryBudget>();
  for (const spec of resolved) {
    const budget = createRetryBudget({ clock: options.clock });
    budgets.set(spec.name, budget);
    const restore = options.restore?.(spec.name);
    const deps: BackendDeps = {
      clock: options.clock,
      random: options.random,
      logger: options.logger,
      ...(options.inspect ? { inspect: options.inspect } : {}),
      critical: spec.critical,
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      retryMetrics: options.retryMetrics,
      budget,
      events: options.events,
      ...(restore ? { restore } : {}),
    };
    backends.set(spec.name, spec.create(deps));
  }
  return { backends, budgets };
}
