/*
 * What the relay reads from an actor: its machine's serialized definition (cached per machine), the
 * JSON-worthy part of its snapshots and its events as objects.
 */
import { machineDefinition as definitionOf, type MachineLike } from '../diagram/definition.js';
import type { HealthReportData } from './protocol.js';
import { toJsonSafe } from './redact.js';

const definitions = new WeakMap<object, string | undefined>();

/** The serialized definition (`src/diagram/definition.ts`) of an actor's logic, cached per machine; undefined if not a machine. */
export function machineDefinition(logic: unknown): string | undefined {
  if (!logic || typeof logic !== 'object') return undefined;
  if (definitions.has(logic)) return definitions.get(logic);
  let result: string | undefined;
  const machine = logic as Partial<MachineLike>;
  if (typeof machine.toJSON === 'function' && machine.root) {
    try {
      const json = definitionOf(machine as MachineLike);
      result = JSON.stringify(toJsonSafe(json, { maxDepth: 40, maxKeys: 500, maxItems: 500 }));
    } catch {
      result = undefined;
    }
  }
  definitions.set(logic, result);
  return result;
}

/** The JSON-worthy part of a snapshot (status, value, context, output, error). */
export function pickSnapshot(snapshot: unknown): Record<string, unknown> {
  if (!snapshot || typeof snapshot !== 'object') return { status: 'active' };
  const s = snapshot as Record<string, unknown>;
  const out: Record<string, unknown> = { status: s.status ?? 'active' };
  if ('value' in s) out.value = s.value;
  if ('context' in s) out.context = s.context;
  if (s.output !== undefined) out.output = s.output;
  if (s.error !== undefined) out.error = s.error;
  return out;
}

/** An event as an object with a `type` (a bare string event becomes `{ type }`). */
export function eventObject(event: unknown): { type: string } {
  if (event && typeof event === 'object' && typeof (event as { type?: unknown }).type === 'string')
    return event as { type: string };
  return { type: typeof event === 'string' ? event : '' };
}

/** What identifies a health report for change detection: per backend, the fields shown. */
export function healthKey(report: HealthReportData): string {
  return JSON.stringify(
    Object.entries(report.backends).map(([name, b]) => [
      name,
      b.status,
      b.state,
      b.breaker,
      b.consecutiveFailures,
      b.lastError,
      b.latencyMs,
    ]),
  );
}
