import type { BackendHealth, HealthStatus } from '../backends/types.js';
import type { HealthReport } from './types.js';

/** The part of the orchestrator's snapshot the health report is computed from. */
export interface HealthSource {
  context: { backends: Record<string, BackendHealth> };
}

/**
 * Aggregates backend lines: `fail` when a critical backend fails, `warn` when any backend is not
 * `pass`, else `pass`.
 */
export function aggregateStatus(backends: Record<string, BackendHealth>): HealthStatus {
  let status: HealthStatus = 'pass';
  for (const line of Object.values(backends)) {
    if (line.status === 'pass') continue;
    if (line.status === 'fail' && line.critical) return 'fail';
    status = 'warn';
  }
  return status;
}

/**
 * The health report: a pure function of the orchestrator's snapshot and the time `now` (ms) it is
 * stamped with. The backend lines are copied into a new record (the lines themselves are shared:
 * treat them as read-only).
 */
export function healthReport(snapshot: HealthSource, now: number): HealthReport {
  const backends = { ...snapshot.context.backends };
  return { status: aggregateStatus(backends), checkedAt: new Date(now).toISOString(), backends };
}

/** Whether `onHealthChange` should fire between two reports: some backend's status, state or breaker differs. */
export function healthChanged(previous: HealthReport, next: HealthReport): boolean {
  const names = new Set([...Object.keys(previous.backends), ...Object.keys(next.backends)]);
  for (const name of names) {
    const a = previous.backends[name];
    const b = next.backends[name];
    if (!a || !b || a.status !== b.status || a.state !== b.state || a.breaker !== b.breaker) return true;
  }
  return false;
}
