/**
 * Types of the WebSocket backend: the socket API it needs, its options, stats and public interface,
 * and the records its outbox and request table keep.
 */
import type { Actor, InspectionEvent, Observer } from 'xstate';
import type { SocketMachine, SocketState } from '../../../machines/socket.machine.js';
import type { Clock } from '../../clock.js';
import type { AbortWatch } from '../../reliability/abort-watch.js';
import type { CircuitBreakerOptions } from '../../reliability/breaker.js';
import type { Backend } from '../types.js';

/** The part of the WebSocket API this backend uses: the browser's `WebSocket` and `ws` both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  /** `ws` calls `callback` once the data is written (or failed); browsers take no callback. */
  send(data: string, callback?: (error?: Error) => void): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: protocol-level ping (the pong echoes `data`). */
  ping?(data?: string): void;
  /** `ws` only: closes at once, without a closing handshake. */
  terminate?(): void;
  /** `ws` only: EventEmitter API (for `'pong'`). */
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
  removeAllListeners?(event?: string): unknown;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface SocketLogger {
  warn(message: string, details?: Record<string, unknown>): void;
  info?(message: string, details?: Record<string, unknown>): void;
}

export interface SocketHeartbeatOptions {
  /** Time between pings while connected. Default 10 000 ms. 0 disables the heartbeat. */
  intervalMs?: number;
  /** A ping not answered within this is a dead peer. Default 5 000 ms. */
  timeoutMs?: number;
  /**
   * Application-level ping for sockets with no protocol ping (browsers): the text frame to send.
   * Without it, browsers get no heartbeat. `ws` sockets use protocol ping/pong and ignore this.
   */
  message?: string | (() => string);
  /** Recognises the application-level pong. Default: any frame counts as one while a ping is out. */
  isPong?: (frame: Record<string, unknown>) => boolean;
}

export interface SocketBackendOptions {
  name: string;
  url: string;
  protocols?: string | string[];
  /**
   * The WebSocket constructor. Default: in Node, `ws` (loaded on first connect); elsewhere
   * `globalThis.WebSocket`. Pass `NodeWebSocket` from `./node-websocket.js` to avoid the lazy load.
   */
  WebSocket?: WebSocketConstructor;
  clock?: Clock;
  /** Source of the reconnect jitter and of the breaker's reset jitter. Default `Math.random`. */
  random?: () => number;
  /** Entry of `DEFAULT_RETRY_POLICIES` the reconnect backoff starts from. Default 'connectEvolutionSocket'. */
  retryPolicy?: string;
  /**
   * Overrides of that policy. `maxDelayMs` caps each reconnect window (default 4 000 ms, so that a
   * herd dropped together is back within a few seconds of a restart); `maxRetries` consecutive failed
   * reconnects after the first failed attempt open the breaker (its default `failureThreshold` is
   * `maxRetries + 1`).
   */
  retry?: { maxRetries?: number; baseDelayMs?: number; maxDelayMs?: number };
  /**
   * This backend's breaker. Defaults: failureThreshold `maxRetries + 1`, resetTimeoutMs drawn once per
   * backend from [maxDelayMs/2, maxDelayMs] (reconnect `maxDelayMs`), halfOpenMaxCalls 1,
   * successThreshold 1 (one probe connect).
   */
  breaker?: Omit<CircuitBreakerOptions, 'name' | 'clock' | 'inspect'>;
  heartbeat?: SocketHeartbeatOptions | false;
  /** Messages kept while disconnected. Default 1 000. */
  queueLimit?: number;
  /**
   * At-least-once delivery of `send()` messages. A message written to the socket stays unconfirmed
   * until a ping sent after it is answered (the peer read past it); when the connection then drops
   * abnormally (no closing handshake: code 1006, or a missed heartbeat), the unconfirmed messages go
   * back to the front of the queue, in order, and are written again first after reconnecting. Receivers
   * must therefore deduplicate (A2A: by `message_id`). At most `queueLimit` messages are kept
   * unconfirmed; past that, writing waits for a confirmation. Requests (`request()`) are never resent.
   * Needs a confirmation: protocol ping (`ws`, the default in Node, where this defaults to true) or
   * the application-level ping with `heartbeat.isPong` (set this to true to use it). `send()` still
   * resolves once the message is written.
   */
  redeliverUnconfirmed?: boolean;
  /** Delay from the first unconfirmed write to the confirmation ping (coalesced). Default 50 ms. */
  confirmAfterMs?: number;
  /** Frames larger than this (in UTF-8 bytes), in or out, are refused. Default 1 MiB. */
  maxFrameBytes?: number;
  /**
   * Incoming frames whose arrays/objects nest deeper than this are refused (malformed): a reply
   * nested 100 000 levels deep parses, but no one can `JSON.stringify` it again. Default 100.
   */
  maxFrameDepth?: number;
  /** Per-attempt connect timeout. Default 5 000 ms. */
  connectTimeoutMs?: number;
  /** A connection must stay up this long before the backoff starts over. Default 5 000 ms. */
  minUptimeMs?: number;
  /** Default timeout of `request()`. Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Extra frame check; return a reason to count the frame as malformed, or null to accept it. */
  validateFrame?: (frame: Record<string, unknown>) => string | null;
  critical?: boolean;
  /** Default: `console`. */
  logger?: SocketLogger;
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

export interface SocketRequestOptions {
  /** Default: the backend's `requestTimeoutMs`. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface SocketBackendStats {
  state: SocketState;
  connectAttempts: number;
  connections: number;
  malformedFrames: number;
  framesReceived: number;
  messagesSent: number;
  queueLength: number;
  /** Written but not yet confirmed read by the peer (kept for redelivery). */
  unconfirmed: number;
  /** Messages put back in the queue after an abnormal close, to be written again. */
  redelivered: number;
  pendingRequests: number;
  /** Replies whose requestId matched no pending request (delivered to `onMessage` listeners). */
  unmatchedReplies: number;
  /** The reconnect delay last planned. */
  lastBackoffMs: number;
  /** Reconnect delays planned so far (the last 100). */
  backoffHistory: number[];
}

/**
 * What `send()` returns: resolves once written; `confirmed` resolves once the receiver confirmed it
 * read the message (a ping sent after it was answered, or a clean closing handshake), and rejects when
 * that can no longer happen in this process (`stop()`, a full queue). Without a confirmation mechanism
 * (a browser socket with no `heartbeat.isPong`) `confirmed` resolves when written. "Delivered" means
 * `confirmed`, never merely written.
 */
export type DeliveryPromise = Promise<void> & { readonly confirmed: Promise<void> };

export interface SocketBackend extends Backend {
  readonly kind: 'websocket';
  readonly url: string;
  readonly actor: Actor<SocketMachine>;
  /** The machine's state value. */
  readonly state: SocketState;
  /** Messages waiting for a connection. */
  readonly queueLength: number;
  /**
   * Resolves once the message is written to an open socket. While disconnected it waits in the
   * bounded FIFO queue; a full queue rejects with `QueueFullError`, `stop()` with `BackendStoppedError`.
   * Strings are sent as they are, anything else as JSON. Delivery is at least once with
   * `redeliverUnconfirmed` (default with `ws`): a written message the peer may not have read is
   * written again after an abnormal disconnect, so receivers must deduplicate (e.g. by message id).
   */
  send(message: unknown): DeliveryPromise;
  /**
   * Sends `message` (given a `requestId` if it has none) and resolves with the reply carrying the
   * same `requestId`. Rejects with `RequestTimeoutError`, with `ConnectionLostError` at once when the
   * connection drops after the request was written, or with `signal.reason`.
   */
  request<T = Record<string, unknown>>(
    message: Record<string, unknown>,
    options?: SocketRequestOptions,
  ): Promise<T>;
  /** Unsolicited frames (parsed JSON objects). */
  onMessage(listener: (message: Record<string, unknown>) => void): () => void;
  /** Leaves SUSPENDED (e.g. after a policy close, once credentials are fixed) or skips the pending backoff. */
  reconnect(): void;
  /** Shows `message` as this backend's `lastError` (e.g. its outbox quarantined damaged records). */
  reportProblem(message: string): void;
  stats(): SocketBackendStats;
}

/** A message or request frame in the outbox. */
export interface QueueEntry {
  seq: number;
  data: string;
  resolve: () => void;
  reject: (error: unknown) => void;
  request: PendingRequest | null;
  /** Order of the last write (0: never written). */
  writeNo: number;
  /** Where the entry is: waiting in the queue, written and kept until confirmed, or done. */
  where: 'queue' | 'unconfirmed' | 'done';
  /** Settles the `confirmed` promise of a `send()` (null for requests, or once settled). */
  settleConfirmed: ((error?: unknown) => void) | null;
}

/** A ping that, once answered, confirms every write up to `upTo`. */
export interface ConfirmMark {
  token: number;
  upTo: number;
}

/** A request waiting for its reply. */
export interface PendingRequest {
  requestId: string;
  resolve: (value: never) => void;
  reject: (error: unknown) => void;
  timer: unknown;
  /** Written to the socket: in flight. */
  sent: boolean;
  entry: QueueEntry | null;
  signal: AbortSignal | undefined;
  /** Its watch of `signal` (a watcher, not a listener: the caller's signal is watched by the registry too). */
  watch: AbortWatch | null;
}
