/* How a `webmcp-page` backend's state reads in the health report, and what its breaker counts. */

import { errorMessage } from '../../../machines/error-message.js';
import type { WebMcpPageState } from '../../../machines/webmcp-page.machine.js';
import type { BreakerState } from '../../reliability/breaker.js';
import type { BackendHealth, HealthStatus } from '../types.js';

/** READY passes; still attaching or reloading warns; lost, suspended or stopped fails. */
export const PAGE_STATUS: Readonly<Record<WebMcpPageState, HealthStatus>> = Object.freeze({
  IDLE: 'warn',
  ATTACHING: 'warn',
  READY: 'pass',
  RELOADING: 'warn',
  DETACHED: 'fail',
  SUSPENDED: 'fail',
  CLOSED: 'fail',
});

/** Errors that say nothing about the page's health: the breaker counts them as successes. */
const NOT_FAILURES = new Set([
  'BackendUnavailableError',
  'WebMcpPageNavigatedError',
  'WebMcpWriteRefusedError',
  'WebMcpToolNotFoundError',
  'AbortError',
]);

/** The breaker's `isFailure`: timeouts and unexpected CDP errors count, the rest does not. */
export function countsAsPageFailure(error: unknown): boolean {
  return !NOT_FAILURES.has((error as { name?: string } | null)?.name ?? '');
}

/** An error's message, at most 200 characters. */
export function shortMessage(error: unknown): string {
  const message = errorMessage(error);
  return message.length > 200 ? `${message.slice(0, 197)}...` : message;
}

const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());

/** The backend's line of the health report. */
export function pageHealth(input: {
  state: WebMcpPageState;
  breaker: BreakerState;
  consecutiveFailures: number;
  lastCheckAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  latencyMs: number | null;
  critical: boolean;
}): BackendHealth {
  return {
    kind: 'webmcp-page',
    status: PAGE_STATUS[input.state],
    state: input.state,
    breaker: input.breaker,
    consecutiveFailures: input.consecutiveFailures,
    lastCheckAt: iso(input.lastCheckAt),
    lastSuccessAt: iso(input.lastSuccessAt),
    lastError: input.lastError,
    latencyMs: input.latencyMs,
    critical: input.critical,
  };
}
