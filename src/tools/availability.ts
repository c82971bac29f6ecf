import type { SocketBackend } from '../backends/socket.js';
import type { Backend } from '../backends/types.js';
import type { CircuitBreaker } from '../reliability/breaker.js';
import { BrokenCircuitError } from '../reliability/errors.js';
import { BackendUnavailableError } from './errors.js';

/** The error a breaker that is not CLOSED would refuse a call with, without asking it. */
export function brokenCircuit(breaker: CircuitBreaker, now: number): BrokenCircuitError {
  const state = breaker.state;
  if (state !== 'OPEN') return new BrokenCircuitError(breaker.name, state, 0);
  const { transitions } = breaker.metrics();
  const opened = [...transitions].reverse().find((t) => t.to === 'OPEN');
  const openDelayMs = breaker.actor.getSnapshot().context.openDelayMs;
  return new BrokenCircuitError(
    breaker.name,
    'OPEN',
    opened ? Math.max(0, opened.at + openDelayMs - now) : openDelayMs,
  );
}

/**
 * Throws unless a request to `backend` can be sent now: `BrokenCircuitError` when its breaker is
 * OPEN (or HALF_OPEN with its trial taken), `BackendUnavailableError` when a socket is not connected.
 * A socket still making its first connection (no failure yet) is allowed: the request waits in its
 * queue, bounded by the request's timeout.
 */
export function assertAvailable(backend: Backend, now: number): void {
  if (backend.kind === 'websocket') {
    const socket = backend as SocketBackend;
    if (socket.state === 'CONNECTED') return;
    if (backend.breaker.state !== 'CLOSED') throw brokenCircuit(backend.breaker, now);
    const health = socket.status();
    if (socket.state === 'CONNECTING' && health.status === 'warn') return;
    throw new BackendUnavailableError(backend.name, socket.state, health.lastError);
  }
  if (backend.breaker.state === 'OPEN') throw brokenCircuit(backend.breaker, now);
  const health = backend.status();
  if (health.state === 'STOPPED') throw new BackendUnavailableError(backend.name, health.state);
}

/** The backend `name` as a socket backend, or a `BackendUnavailableError` when it is not one. */
export function socketBackend(backend: Backend | undefined, name: string): SocketBackend {
  if (backend?.kind !== 'websocket')
    throw new BackendUnavailableError(name, 'not configured', 'no WebSocket backend of that name');
  return backend as SocketBackend;
}
