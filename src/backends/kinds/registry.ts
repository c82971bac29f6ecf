/*
 * A registry of backend kinds and the validation of one `backends.<name>` entry by its kind's
 * `configSchema`. Problems come back as data (`{ key, message }`) so that callers (the bridge, the
 * config loader) raise their own error; the key names the field: `backends.x.url`.
 */
import type { AnyBackendKindPlugin, BackendKindPlugin } from '../kind.js';

/** Kinds by name. */
export type BackendKindRegistry = ReadonlyMap<string, BackendKindPlugin>;

/** A registry of `plugins`; a later plugin of the same `kind` replaces an earlier one. */
export function backendKindRegistry(...plugins: readonly AnyBackendKindPlugin[][]): BackendKindRegistry {
  const registry = new Map<string, BackendKindPlugin>();
  for (const list of plugins) for (const plugin of list) registry.set(plugin.kind, plugin);
  return registry;
}

/** What is wrong with an entry: the key at fault and the problem. */
export interface BackendConfigProblem {
  key: string;
  message: string;
}

export type BackendConfigCheck =
  | { ok: true; kind: BackendKindPlugin; config: { kind: string } }
  | { ok: false; problem: BackendConfigProblem };

function expectedKinds(registry: BackendKindRegistry): string {
  return `expected one of ${[...registry.keys()].map((kind) => `'${kind}'`).join(', ')}`;
}

/**
 * Validates `entry` (the `backends.<name>` object, `kind` included) with its kind's `configSchema`.
 * An entry without a known kind is a problem at `backends.<name>.kind`.
 */
export function checkBackendConfig(
  name: string,
  entry: Record<string, unknown>,
  registry: BackendKindRegistry,
): BackendConfigCheck {
  const prefix = `backends.${name}`;
  const kind = typeof entry.kind === 'string' ? registry.get(entry.kind) : undefined;
  if (!kind) return { ok: false, problem: { key: `${prefix}.kind`, message: expectedKinds(registry) } };
  const parsed = kind.configSchema.safeParse(entry);
  if (parsed.success) return { ok: true, kind, config: parsed.data };
  const issue = parsed.error.issues[0];
  if (!issue) return { ok: false, problem: { key: prefix, message: 'invalid backend' } };
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  const message = issue.code === 'unrecognized_keys' ? 'unknown setting' : issue.message;
  return { ok: false, problem: { key: [prefix, ...path.map(String)].join('.'), message } };
}
