/*
 * Pure helpers of the bridge orchestrator's slow recovery (see bridge.machine.ts): which health
 * change starts a pending recovery, and the context while one is pending.
 */

/** The fields of a health line the settle logic reads (structurally a `BackendHealth`). */
interface Line {
  status: 'pass' | 'warn' | 'fail';
  lastError: string | null;
  recoveringUntil?: string | null;
}

/** The id of backend `name`'s delayed `HEALTH_SETTLED` (to cancel it). */
export const settleId = (name: string): string => `settle:${name}`;

/**
 * Whether `next` starts a recovery: the backend is reported degraded after a failure (it has an
 * error) and now reports `pass`. A backend that never failed (starting up) passes at once.
 */
export function isRecoveryStart(previous: Line | undefined, next: Line): boolean {
  return (
    previous !== undefined &&
    previous.status !== 'pass' &&
    previous.lastError !== null &&
    next.status === 'pass'
  );
}

/**
 * The context once backend `name` starts recovering at clock time `at`: its reported line keeps its
 * degraded values, marked `recoveringUntil`; `healthy` waits in `recovering`.
 */
export function withRecovery<L extends Line>(
  context: { backends: Record<string, L>; recovering: Record<string, L>; healthSettleMs: number },
  name: string,
  healthy: L,
  at: number,
): { backends: Record<string, L>; recovering: Record<string, L> } {
  const held = context.backends[name] as L;
  return {
    backends: {
      ...context.backends,
      [name]: { ...held, recoveringUntil: new Date(at + context.healthSettleMs).toISOString() },
    },
    recovering: { ...context.recovering, [name]: healthy },
  };
}
