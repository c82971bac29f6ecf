import type { HttpBackend } from '../backends/http.js';
import type { SocketBackend } from '../backends/socket.js';
import type { Backend } from '../backends/types.js';
import type { CircuitBreaker } from '../reliability/breaker.js';
import { BrokenCircuitError } from '../reliability/errors.js';
import { BackendUnavailableError } from './errors.js';

/**
 * The breaker's own refusal when it would not admit a call now (counted in its `rejectedCalls`, so
 * in metrics and Prometheus), else a `BrokenCircuitError` describing its state without counting one.
 * `now` is unused: the breaker reads its own clock.
 */
export function brokenCircuit(breaker: CircuitBreaker, _now?: number): BrokenCircuitError {
  const refusal = breaker.refusal();
  if (refusal instanceof BrokenCircuitError) return refusal;
  return new BrokenCircuitError(breaker.name, breaker.state, breaker.retryAfterMs());
}

/**
 * Throws unless a request to `backend` can be sent now: the breaker's own refusal
 * (`BrokenCircuitError`, counted in its `rejectedCalls`) when it would not admit a call,
 * `BackendUnavailableError` when a socket is not connected. A socket still making its first
 * connection (no failure yet) is allowed: the request waits in its queue, bounded by the request's
 * timeout.
 */
export function assertAvailable(backend: Backend, _now?: number): void {
  if (backend.kind === 'websocket') {
    const socket = backend as SocketBackend;
    if (socket.state === 'CONNECTED') return;
    if (backend.breaker.state !== 'CLOSED') throw brokenCircuit(backend.breaker);
    const health = socket.status();
    if (socket.state === 'CONNECTING' && health.status === 'warn') return;
    throw new BackendUnavailableError(backend.name, socket.state, health.lastError);
  }
  // An HTTP backend's availability is its `state`: no full status() (ISO dates) on every call.
  const state = backend.kind === 'http' ? (backend as HttpBackend).state : backend.status().state;
  if (state === 'STOPPED') throw new BackendUnavailableError(backend.name, state);
  if (backend.breaker.canAdmit()) return;
  const refusal = backend.breaker.refusal();
  if (refusal) throw refusal;
}

/** The backend `name` as a socket backend, or a `BackendUnavailableError` when it is not one. */
export function socketBackend(backend: Backend | undefined, name: string): SocketBackend {
  if (backend?.kind !== 'websocket')
    throw new BackendUnavailableError(name, 'not configured', 'no WebSocket backend of that name');
  return backend as SocketBackend;
}
