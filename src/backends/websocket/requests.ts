/*
 * The socket backend's requests: a frame sent with a `requestId` waits for the reply that carries
 * the same `requestId`. Each request settles exactly once — with its reply, its timeout
 * (`RequestTimeoutError`, a failure of the backend), its caller's abort (`signal.reason`), a lost
 * connection once it was written (`ConnectionLostError`) or the backend's stop.
 */
import type { Clock } from '../../clock.js';
import { unwatchAbort, watchAbort } from '../../reliability/abort-watch.js';
import type { CircuitBreaker } from '../../reliability/breaker.js';
import { BackendStoppedError, RequestTimeoutError } from '../errors.js';
import type { PendingRequest, QueueEntry, SocketRequestOptions } from './types.js';

const noop = () => {};

/** What the request table needs from the connection that owns it. */
export interface RequestsHost {
  readonly name: string;
  readonly clock: Clock;
  readonly random: () => number;
  readonly breaker: CircuitBreaker;
  /** Default reply timeout. */
  readonly requestTimeoutMs: number;
  isStopped(): boolean;
  /** Serializes a frame within the size limit (throws otherwise). */
  serialize(message: unknown): string;
  /** Hands a frame to the outbox. */
  enqueue(data: string, resolve: () => void, reject: (error: unknown) => void, request: PendingRequest): void;
  /** Takes a still queued frame out of the outbox. */
  unqueue(entry: QueueEntry): void;
  /** Records a problem with the backend (its machine's `ERROR`). */
  reportError(message: string): void;
}

/** Requests waiting for their replies, by `requestId`. */
export class Requests {
  private readonly pending = new Map<string, PendingRequest>();

  constructor(private readonly host: RequestsHost) {}

  /** Requests waiting for a reply. */
  get size(): number {
    return this.pending.size;
  }

  /** Whether a request with this `requestId` waits for its reply. */
  has(requestId: string): boolean {
    return this.pending.has(requestId);
  }

  /** Whether `request` itself still waits for its reply. */
  private isPending(request: PendingRequest): boolean {
    return this.pending.get(request.requestId) === request;
  }

  /**
   * Sends `message` (given a `requestId` when it has none) and resolves with the reply frame that
   * carries the same `requestId`; see `SocketBackend.request`.
   */
  request<T = Record<string, unknown>>(
    message: Record<string, unknown>,
    options: SocketRequestOptions = {},
  ): Promise<T> {
    const { host } = this;
    if (host.isStopped()) return Promise.reject(new BackendStoppedError(host.name));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const timeoutMs = options.timeoutMs ?? host.requestTimeoutMs;
    let requestId = message.requestId;
    let payload = message;
    if (requestId === undefined) {
      requestId = `req_${host.clock.now()}_${Math.floor(host.random() * 1e9).toString(36)}`;
      payload = Object.assign({}, message, { requestId });
    }
    if (typeof requestId !== 'string' || !requestId) {
      return Promise.reject(new TypeError('request(): requestId must be a non-empty string'));
    }
    if (this.pending.has(requestId)) {
      return Promise.reject(new Error(`request(): requestId ${requestId} is already in flight`));
    }
    let data: string;
    try {
      data = host.serialize(payload);
    } catch (error) {
      return Promise.reject(error);
    }
    const id = requestId;
    return new Promise<T>((resolve, reject) => {
      const request: PendingRequest = {
        requestId: id,
        resolve: resolve as (value: never) => void,
        reject,
        timer: null,
        sent: false,
        entry: null,
        signal,
        watch: null,
      };
      this.pending.set(id, request);
      request.timer = host.clock.setTimeout(() => this.timedOut(request, timeoutMs), timeoutMs);
      if (signal) request.watch = watchAbort(signal, () => this.settle(request, signal.reason));
      host.enqueue(
        data,
        () => {
          request.sent = true;
          request.entry = null;
        },
        (error) => this.settle(request, error),
        request,
      );
    });
  }

  /**
   * A frame with a `requestId`: settles its request with it. False when no request waits for it (an
   * unmatched reply, or a message the peer started).
   */
  reply(requestId: string, frame: Record<string, unknown>): boolean {
    const request = this.pending.get(requestId);
    if (!request) return false;
    this.settle(request, undefined, frame);
    this.replied();
    return true;
  }

  /** Rejects every request already written (the connection that carried them is gone). */
  failSent(error: unknown): void {
    for (const request of [...this.pending.values()]) {
      if (request.sent) this.settle(request, error);
    }
  }

  /** Rejects every request, written or still queued. */
  failAll(error: unknown): void {
    for (const request of [...this.pending.values()]) this.settle(request, error);
  }

  /**
   * A request with no reply in time: a failure of this backend (a daemon that accepts and never
   * answers is not healthy), recorded in its breaker and as its last error. An aborted request is not.
   */
  private timedOut(request: PendingRequest, timeoutMs: number): void {
    if (!this.isPending(request)) return;
    const { host } = this;
    const error = new RequestTimeoutError(host.name, request.requestId, timeoutMs);
    this.settle(request, error);
    if (host.isStopped()) return;
    host.reportError(error.message);
    // Only while CLOSED: a HALF_OPEN slot belongs to the probe connect.
    if (host.breaker.state === 'CLOSED') host.breaker.execute(() => Promise.reject(error)).catch(noop);
  }

  /** A reply: the peer serves again, so earlier request timeouts stop counting. */
  private replied(): void {
    const { breaker } = this.host;
    if (breaker.state === 'CLOSED' && breaker.snapshot.context.consecutiveFailures > 0)
      breaker.execute(noop).catch(noop);
  }

  private settle(request: PendingRequest, error: unknown, reply?: unknown): void {
    if (!this.isPending(request)) return;
    this.pending.delete(request.requestId);
    this.host.clock.clearTimeout(request.timer);
    if (request.watch && request.signal) unwatchAbort(request.signal, request.watch);
    if (request.entry) {
      this.host.unqueue(request.entry);
      request.entry = null;
    }
    if (error === undefined) request.resolve(reply as never);
    else request.reject(error);
  }
}
