/*
 * The socket backend's health: its machine's state read as pass / warn / fail, with its breaker and
 * the times it recorded.
 */
import type { SnapshotFrom } from 'xstate';
import type { SocketMachine } from '../../../machines/socket.machine.js';
import type { CircuitBreaker } from '../../reliability/breaker.js';
import type { BackendHealth, HealthStatus } from '../types.js';

/** What a socket backend recorded about its connection (epoch milliseconds, or null when never). */
export interface SocketTimes {
  lastCheckAt: number | null;
  lastSuccessAt: number | null;
  lastErrorAt: number | null;
  latencyMs: number | null;
}

/**
 * CONNECTED passes; IDLE, and a first CONNECTING with no error yet, warn; every other state fails.
 */
export function socketHealth(
  snapshot: SnapshotFrom<SocketMachine>,
  breaker: CircuitBreaker,
  times: SocketTimes,
  critical: boolean,
): BackendHealth {
  const { value, context } = snapshot;
  let status: HealthStatus;
  if (value === 'CONNECTED') status = 'pass';
  else if (
    value === 'IDLE' ||
    (value === 'CONNECTING' && !context.hasConnected && context.lastError === null)
  )
    status = 'warn';
  else status = 'fail';
  return {
    kind: 'websocket',
    status,
    state: value,
    breaker: breaker.state,
    consecutiveFailures: breaker.snapshot.context.consecutiveFailures,
    lastCheckAt: iso(times.lastCheckAt),
    lastSuccessAt: iso(times.lastSuccessAt),
    lastError: context.lastError,
    lastErrorAt: iso(times.lastErrorAt),
    latencyMs: times.latencyMs,
    critical,
  };
}

function iso(at: number | null): string | null {
  return at === null ? null : new Date(at).toISOString();
}
