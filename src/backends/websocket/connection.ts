/*
 * The WebSocket backend: the runtime around `socketMachine`.
 *
 * The machine decides (connect, wait, reconnect, suspend, stop); this class does the I/O it asks for
 * through the actions it is provided with, and reports what the socket and the breaker do as events.
 * Every connection attempt runs inside this backend's own breaker; the breaker's state changes are
 * forwarded to the machine (OPEN → SUSPENDED, HALF_OPEN → one probe connect).
 *
 * Sockets are replaced, never reused: each handler checks that its socket is still the current one,
 * so a late `close` of an abandoned socket cannot be mistaken for the current connection's.
 */
import { type Actor, assign, createActor, type SnapshotFrom } from 'xstate';
import {
  fullJitterDelay,
  type SocketEvent,
  type SocketMachine,
  type SocketState,
  socketMachine,
} from '../../../machines/socket.machine.js';
import { type Clock, systemClock } from '../../clock.js';
import { type CircuitBreaker, createCircuitBreaker } from '../../reliability/breaker.js';
import { DEFAULT_RETRY_POLICIES } from '../../reliability/policies.js';
import { BackendStoppedError, ConnectionLostError, QueueFullError, RequestTimeoutError } from '../errors.js';
import type { BackendHealth, HealthStatus } from '../types.js';
import {
  connectFailure,
  describe,
  type FrameLimits,
  parseFrame,
  positiveOr,
  serializeFrame,
} from './frames.js';
import type {
  ConfirmMark,
  DeliveryPromise,
  PendingRequest,
  QueueEntry,
  SocketBackend,
  SocketBackendOptions,
  SocketBackendStats,
  SocketLogger,
  SocketRequestOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

const OPEN = 1;
const BACKOFF_HISTORY = 100;
const noop = () => {};
const isNode =
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
// A variable specifier keeps bundlers from pulling `ws` into browser builds.
const wsModule = 'ws';

/** Backend of each running actor: lets every backend share one provided machine (a machine costs ~16 KB). */
const instances = new WeakMap<object, SocketBackendImpl>();

export class SocketBackendImpl implements SocketBackend {
  /** `socketMachine` with the runtime's I/O actions; they find their backend through `self`. */
  private static readonly machine = socketMachine.provide({
    actions: {
      openSocket: ({ self }) => instances.get(self)?.openSocket(),
      closeSocket: ({ self, event }) => instances.get(self)?.closeSocket(event),
      sendPing: ({ self }) => instances.get(self)?.sendPing(),
      flushQueue: ({ self }) => instances.get(self)?.flushQueue(),
      failInFlight: ({ self }) => instances.get(self)?.failInFlight(),
      planBackoff: assign({
        nextDelayMs: ({ context, self }) => {
          const backend = instances.get(self);
          const delay = fullJitterDelay(context.attempt, context, backend?.random ?? Math.random);
          backend?.recordBackoff(delay);
          return delay;
        },
      }),
    },
  });

  readonly kind = 'websocket' as const;
  readonly name: string;
  readonly url: string;
  readonly breaker: CircuitBreaker;
  readonly actor: Actor<SocketMachine>;

  private current: SnapshotFrom<SocketMachine>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: SocketLogger;
  private readonly critical: boolean;
  private readonly queueLimit: number;
  private readonly maxFrameBytes: number;
  private readonly maxFrameDepth: number;
  private readonly requestTimeoutMs: number;
  private readonly protocols: string | string[] | undefined;
  private readonly validateFrame: ((frame: Record<string, unknown>) => string | null) | undefined;
  private readonly frameLimits: FrameLimits;
  private readonly pingMessage: string | (() => string) | undefined;
  private readonly isPong: ((frame: Record<string, unknown>) => boolean) | undefined;
  private readonly redeliverOption: boolean | undefined;
  private readonly confirmAfterMs: number;
  private Ctor: WebSocketConstructor | undefined;
  private loadingCtor: Promise<void> | null = null;

  private socket: WebSocketLike | null = null;
  private protocolPing = false;
  private attempt: { resolve: () => void; reject: (error: unknown) => void } | null = null;
  private attemptToken = 0;
  private attemptStartedAt = 0;
  private pingSentAt = 0;
  private probeWaiters: Array<() => void> = [];

  private queue: QueueEntry[] = [];
  private seq = 0;
  /** Whether the current connection keeps written messages until confirmed. */
  private confirming = false;
  private unconfirmed: QueueEntry[] = [];
  private writes = 0;
  private pingToken = 0;
  private marks: ConfirmMark[] = [];
  private confirmTimer: unknown = null;
  private readonly pending = new Map<string, PendingRequest>();
  private readonly messageListeners = new Set<(message: Record<string, unknown>) => void>();
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribeBreaker: () => void;
  private lastBreakerState: string;
  private started = false;
  private stopped = false;

  private lastCheckAt: number | null = null;
  private lastSuccessAt: number | null = null;
  /** When the machine last recorded an error (its `errorCount` grew). */
  private lastErrorAt: number | null = null;
  private latencyMs: number | null = null;
  private counters = {
    connectAttempts: 0,
    connections: 0,
    malformedFrames: 0,
    framesReceived: 0,
    messagesSent: 0,
    redelivered: 0,
    unmatchedReplies: 0,
    lastBackoffMs: 0,
  };
  private backoffHistory: number[] = [];

  constructor(options: SocketBackendOptions) {
    if (!options.name) throw new TypeError('createSocketBackend: name is required');
    if (!options.url) throw new TypeError('createSocketBackend: url is required');
    this.name = options.name;
    this.url = options.url;
    this.protocols = options.protocols;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? console;
    this.critical = options.critical ?? false;
    this.queueLimit = positiveOr('queueLimit', options.queueLimit, 1000, true);
    this.maxFrameBytes = positiveOr('maxFrameBytes', options.maxFrameBytes, 1024 * 1024);
    this.maxFrameDepth = positiveOr('maxFrameDepth', options.maxFrameDepth, 100);
    this.requestTimeoutMs = positiveOr('requestTimeoutMs', options.requestTimeoutMs, 30_000);
    this.validateFrame = options.validateFrame;
    this.frameLimits = {
      maxFrameBytes: this.maxFrameBytes,
      maxFrameDepth: this.maxFrameDepth,
      validateFrame: this.validateFrame,
    };
    this.redeliverOption = options.redeliverUnconfirmed;
    this.confirmAfterMs = positiveOr('confirmAfterMs', options.confirmAfterMs, 50, true);

    const globalCtor = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.Ctor = options.WebSocket ?? (isNode ? undefined : globalCtor);
    if (!this.Ctor && !isNode) throw new TypeError('createSocketBackend: no WebSocket constructor available');
    // `ws` (given or loaded by default in Node) has protocol ping/pong.
    const protocolPing = this.Ctor ? typeof this.Ctor.prototype?.ping === 'function' : true;

    const heartbeat = options.heartbeat === false ? { intervalMs: 0 } : (options.heartbeat ?? {});
    this.pingMessage = heartbeat.message;
    this.isPong = heartbeat.isPong;
    let heartbeatIntervalMs = positiveOr('heartbeat.intervalMs', heartbeat.intervalMs, 10_000, true);
    if (!protocolPing && heartbeat.message === undefined) heartbeatIntervalMs = 0;

    const policy = DEFAULT_RETRY_POLICIES[options.retryPolicy ?? 'connectEvolutionSocket'];
    const maxRetries = options.retry?.maxRetries ?? policy?.maxRetries ?? 5;
    const baseDelayMs = positiveOr(
      'retry.baseDelayMs',
      options.retry?.baseDelayMs ?? policy?.baseDelayMs,
      200,
    );
    const maxDelayMs = Math.max(baseDelayMs, positiveOr('retry.maxDelayMs', options.retry?.maxDelayMs, 4000));

    const userIsFailure = options.breaker?.isFailure;
    this.breaker = createCircuitBreaker({
      failureThreshold: maxRetries + 1,
      // Spread per backend, so that the HALF_OPEN probes of backends that opened together do not
      // align. Drawn once here rather than through `resetJitter`, whose per-breaker machine costs
      // ~8 KB per backend; pass `breaker.resetJitter` to redraw it every OPEN period instead.
      resetTimeoutMs: maxDelayMs * (1 - 0.5 * this.random()),
      halfOpenMaxCalls: 1,
      successThreshold: 1,
      random: this.random,
      ...options.breaker,
      isFailure: (error) =>
        !(error instanceof BackendStoppedError) && (userIsFailure ? userIsFailure(error) : true),
      name: this.name,
      clock: this.clock,
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.lastBreakerState = this.breaker.state;

    this.actor = createActor(SocketBackendImpl.machine, {
      input: {
        connectTimeoutMs: positiveOr('connectTimeoutMs', options.connectTimeoutMs, 5000),
        baseDelayMs,
        maxDelayMs,
        heartbeatIntervalMs,
        heartbeatTimeoutMs: positiveOr('heartbeat.timeoutMs', heartbeat.timeoutMs, 5000),
        minUptimeMs: positiveOr('minUptimeMs', options.minUptimeMs, 5000, true),
      },
      clock: this.clock,
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    instances.set(this.actor, this);
    this.current = this.actor.getSnapshot();
    this.actor.subscribe((snapshot) => {
      const changed = snapshot.value !== this.current.value;
      if (snapshot.context.errorCount !== this.current.context.errorCount)
        this.lastErrorAt = this.clock.now();
      this.current = snapshot;
      if (changed) this.lastCheckAt = this.clock.now();
      this.notify();
    });
    this.actor.start();
    this.current = this.actor.getSnapshot();

    const subscription = this.breaker.actor.subscribe((snapshot) => {
      if (snapshot.value === this.lastBreakerState) return;
      this.lastBreakerState = snapshot.value;
      this.actor.send({ type: `BREAKER_${snapshot.value}` } as SocketEvent);
      this.notify();
    });
    this.unsubscribeBreaker = () => subscription.unsubscribe();
  }

  get state(): SocketState {
    return this.current.value;
  }

  get queueLength(): number {
    return this.queue.length;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.actor.send({ type: 'START' });
  }

  reconnect(): void {
    if (!this.stopped) this.actor.send({ type: 'RESUME' });
  }

  reportProblem(message: string): void {
    if (!this.stopped) this.actor.send({ type: 'ERROR', message });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribeBreaker();
    this.breaker.stop();
    this.actor.send({ type: 'STOP' });
    const stoppedError = new BackendStoppedError(this.name);
    const queued = this.queue;
    this.queue = [];
    for (const entry of queued) {
      entry.reject(stoppedError);
      this.unconfirmable(entry, stoppedError);
    }
    this.dropUnconfirmed();
    for (const request of [...this.pending.values()]) this.settleRequest(request, stoppedError);
    this.resolveProbes();
    this.notify();
  }

  status(): BackendHealth {
    const { value, context } = this.current;
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
      breaker: this.breaker.state,
      consecutiveFailures: this.breaker.actor.getSnapshot().context.consecutiveFailures,
      lastCheckAt: this.iso(this.lastCheckAt),
      lastSuccessAt: this.iso(this.lastSuccessAt),
      lastError: context.lastError,
      lastErrorAt: this.iso(this.lastErrorAt),
      latencyMs: this.latencyMs,
      critical: this.critical,
    };
  }

  probe(): Promise<void> {
    if (this.current.value !== 'CONNECTED' || this.current.context.heartbeatIntervalMs === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.probeWaiters.push(resolve);
      this.actor.send({ type: 'HEARTBEAT_DUE' });
    });
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onMessage(listener: (message: Record<string, unknown>) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  stats(): SocketBackendStats {
    return {
      ...this.counters,
      state: this.current.value,
      queueLength: this.queue.length,
      unconfirmed: this.unconfirmed.length,
      pendingRequests: this.pending.size,
      backoffHistory: this.backoffHistory.slice(),
    };
  }

  send(message: unknown): DeliveryPromise {
    const refused = (error: unknown): DeliveryPromise => {
      const confirmed = Promise.reject(error);
      confirmed.catch(noop);
      return Object.assign(Promise.reject(error), { confirmed });
    };
    if (this.stopped) return refused(new BackendStoppedError(this.name));
    let data: string;
    try {
      data = this.serialize(message);
    } catch (error) {
      return refused(error);
    }
    let settleConfirmed: (error?: unknown) => void = noop;
    const confirmed = new Promise<void>((resolve, reject) => {
      settleConfirmed = (error) => (error === undefined ? resolve() : reject(error));
    });
    confirmed.catch(noop); // a caller that only awaits the write must not see an unhandled rejection
    const written = new Promise<void>((resolve, reject) =>
      this.enqueue(data, resolve, reject, null, settleConfirmed),
    );
    return Object.assign(written, { confirmed });
  }

  request<T = Record<string, unknown>>(
    message: Record<string, unknown>,
    options: SocketRequestOptions = {},
  ): Promise<T> {
    if (this.stopped) return Promise.reject(new BackendStoppedError(this.name));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    let requestId = message.requestId;
    let payload = message;
    if (requestId === undefined) {
      requestId = `req_${this.clock.now()}_${Math.floor(this.random() * 1e9).toString(36)}`;
      payload = { ...message, requestId };
    }
    if (typeof requestId !== 'string' || !requestId) {
      return Promise.reject(new TypeError('request(): requestId must be a non-empty string'));
    }
    if (this.pending.has(requestId)) {
      return Promise.reject(new Error(`request(): requestId ${requestId} is already in flight`));
    }
    let data: string;
    try {
      data = this.serialize(payload);
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
        onAbort: null,
      };
      this.pending.set(id, request);
      request.timer = this.clock.setTimeout(() => this.timedOut(request, timeoutMs), timeoutMs);
      if (signal) {
        request.onAbort = () => this.settleRequest(request, signal.reason);
        signal.addEventListener('abort', request.onAbort, { once: true });
      }
      this.enqueue(
        data,
        () => {
          request.sent = true;
          request.entry = null;
        },
        (error) => this.settleRequest(request, error),
        request,
      );
    });
  }

  // ——— sending ———

  private serialize(message: unknown): string {
    return serializeFrame(this.name, message, this.maxFrameBytes);
  }

  private enqueue(
    data: string,
    resolve: () => void,
    reject: (error: unknown) => void,
    request: PendingRequest | null,
    settleConfirmed: ((error?: unknown) => void) | null = null,
  ): void {
    const entry: QueueEntry = {
      seq: this.seq++,
      data,
      resolve,
      reject,
      request,
      writeNo: 0,
      where: 'queue',
      settleConfirmed,
    };
    if (this.queue.length === 0 && this.isOpen() && this.canWrite()) {
      this.write(entry);
      return;
    }
    if (this.queue.length >= this.queueLimit) {
      const error = new QueueFullError(this.name, this.queueLimit);
      reject(error);
      this.unconfirmable(entry, error);
      return;
    }
    if (request) request.entry = entry;
    this.queue.push(entry);
  }

  /** Room to keep one more unconfirmed message (always, when not confirming). */
  private canWrite(): boolean {
    return !this.confirming || this.unconfirmed.length < this.queueLimit;
  }

  private isOpen(): boolean {
    return this.socket !== null && this.socket.readyState === OPEN && this.current.value === 'CONNECTED';
  }

  private write(entry: QueueEntry): void {
    const socket = this.socket as WebSocketLike;
    const writeNo = ++this.writes;
    entry.writeNo = writeNo;
    // Kept from the moment it is handed to the socket: a ping sent after it is ordered after it.
    const keep = this.confirming && entry.request === null;
    entry.where = keep ? 'unconfirmed' : 'done';
    if (keep) {
      this.unconfirmed.push(entry);
      this.scheduleConfirmation();
    }
    if (this.protocolPing) {
      socket.send(entry.data, (error) => {
        if (entry.writeNo !== writeNo) return; // written again since
        if (error) this.requeue(entry);
        else this.written(entry);
      });
    } else {
      try {
        socket.send(entry.data);
      } catch {
        this.requeue(entry);
        return;
      }
      this.written(entry);
    }
  }

  private written(entry: QueueEntry): void {
    this.counters.messagesSent++;
    entry.resolve();
    // Not kept for confirmation (no way to confirm on this connection): written is all we will know.
    if (entry.where === 'done') this.confirmedRead(entry);
  }

  /** The receiver read `entry`: its `confirmed` promise resolves. */
  private confirmedRead(entry: QueueEntry): void {
    entry.where = 'done';
    const settle = entry.settleConfirmed;
    entry.settleConfirmed = null;
    settle?.();
  }

  /** `entry` will never be confirmed in this process: its `confirmed` promise rejects. */
  private unconfirmable(entry: QueueEntry, error: unknown): void {
    entry.where = 'done';
    const settle = entry.settleConfirmed;
    entry.settleConfirmed = null;
    settle?.(error);
  }

  /** A write that failed (the socket closed under it) goes back into the queue, in its original order. */
  private requeue(entry: QueueEntry): void {
    if (entry.where === 'queue') return; // already put back by an abnormal close
    if (entry.where === 'unconfirmed') {
      const index = this.unconfirmed.indexOf(entry);
      if (index >= 0) this.unconfirmed.splice(index, 1);
    }
    entry.where = 'queue';
    if (this.stopped) {
      const error = new BackendStoppedError(this.name);
      entry.reject(error);
      this.unconfirmable(entry, error);
      return;
    }
    if (entry.request && !this.pending.has(entry.request.requestId)) return;
    let index = this.queue.length;
    while (index > 0 && (this.queue[index - 1] as QueueEntry).seq > entry.seq) index--;
    this.queue.splice(index, 0, entry);
    if (entry.request) entry.request.entry = entry;
    if (this.isOpen()) this.flushQueue();
  }

  private flushQueue(): void {
    // Runs as the CONNECTED entry action, before the snapshot says CONNECTED: check the socket only.
    while (this.queue.length > 0 && this.socket?.readyState === OPEN && this.canWrite()) {
      const entry = this.queue.shift() as QueueEntry;
      if (entry.request) entry.request.entry = null;
      this.write(entry);
    }
  }

  // ——— confirmation and redelivery ———

  /** One coalesced confirmation ping `confirmAfterMs` after the first write it will cover. */
  private scheduleConfirmation(): void {
    if (this.confirmTimer !== null) return;
    this.confirmTimer = this.clock.setTimeout(() => {
      this.confirmTimer = null;
      this.confirm();
    }, this.confirmAfterMs);
  }

  private cancelConfirmation(): void {
    if (this.confirmTimer === null) return;
    this.clock.clearTimeout(this.confirmTimer);
    this.confirmTimer = null;
  }

  private confirm(): void {
    const last = this.unconfirmed[this.unconfirmed.length - 1];
    if (!last || !this.socket || this.socket.readyState !== OPEN) return;
    const covered = this.marks[this.marks.length - 1];
    if (covered && covered.upTo >= last.writeNo) return; // a ping already out covers them
    // The heartbeat ping when it can go now (it also watches for a dead peer), else a ping of our own.
    const before = this.pingToken;
    if (this.current.context.heartbeatIntervalMs > 0 && !this.current.context.awaitingPong) {
      this.actor.send({ type: 'HEARTBEAT_DUE' });
    }
    if (this.pingToken === before) this.ping(this.socket);
  }

  /** Sends a ping carrying a fresh token; when confirming, it will confirm every write so far. */
  private ping(socket: WebSocketLike): void {
    const token = ++this.pingToken;
    if (this.confirming) this.marks.push({ token, upTo: this.writes });
    if (this.protocolPing) socket.ping?.(String(token));
    else if (this.pingMessage !== undefined) {
      socket.send(typeof this.pingMessage === 'function' ? this.pingMessage() : this.pingMessage);
    }
  }

  /** A pong: protocol pongs echo their ping's token; application pongs answer the oldest ping. */
  private confirmed(token: number | null): void {
    let upTo = 0;
    if (token === null) {
      const mark = this.marks.shift();
      if (mark) upTo = mark.upTo;
    } else {
      while (this.marks.length > 0 && (this.marks[0] as ConfirmMark).token <= token) {
        upTo = (this.marks.shift() as ConfirmMark).upTo;
      }
    }
    if (upTo === 0) return;
    let count = 0;
    while (count < this.unconfirmed.length && (this.unconfirmed[count] as QueueEntry).writeNo <= upTo) {
      this.confirmedRead(this.unconfirmed[count] as QueueEntry);
      count++;
    }
    if (count === 0) return;
    const wasFull = !this.canWrite();
    this.unconfirmed.splice(0, count);
    if (this.unconfirmed.length > 0) this.scheduleConfirmation();
    if (wasFull && this.isOpen()) this.flushQueue();
  }

  /**
   * The connection ended. Abnormally (`redeliver`): every unconfirmed message goes back into the
   * queue, ahead of what was queued after it, to be written again first. Cleanly: the closing
   * handshake means the peer read everything, so they are done.
   */
  private endConfirmation(redeliver: boolean): void {
    this.cancelConfirmation();
    this.marks = [];
    const unconfirmed = this.unconfirmed;
    this.unconfirmed = [];
    if (this.stopped) {
      // Stopped before the peer confirmed them: not delivered (a durable outbox resends them next start).
      const error = new BackendStoppedError(this.name);
      for (const entry of unconfirmed) this.unconfirmable(entry, error);
      return;
    }
    if (!redeliver || unconfirmed.length === 0) {
      for (const entry of unconfirmed) this.confirmedRead(entry);
      return;
    }
    for (const entry of unconfirmed) entry.where = 'queue';
    this.counters.redelivered += unconfirmed.length;
    this.queue = unconfirmed.concat(this.queue).sort((a, b) => a.seq - b.seq);
  }

  private dropUnconfirmed(): void {
    this.endConfirmation(false);
  }

  private failInFlight(): void {
    const error = this.stopped
      ? new BackendStoppedError(this.name)
      : new ConnectionLostError(this.name, this.current.context.lastError);
    for (const request of [...this.pending.values()]) {
      if (request.sent) this.settleRequest(request, error);
    }
    this.resolveProbes();
  }

  /**
   * A request with no reply in time: a failure of this backend (a daemon that accepts and never
   * answers is not healthy), recorded in its breaker and as its last error. An aborted request is not.
   */
  private timedOut(request: PendingRequest, timeoutMs: number): void {
    if (this.pending.get(request.requestId) !== request) return;
    const error = new RequestTimeoutError(this.name, request.requestId, timeoutMs);
    this.settleRequest(request, error);
    if (this.stopped) return;
    this.actor.send({ type: 'ERROR', message: error.message });
    // Only while CLOSED: a HALF_OPEN slot belongs to the probe connect.
    if (this.breaker.state === 'CLOSED') this.breaker.execute(() => Promise.reject(error)).catch(noop);
  }

  /** A reply: the peer serves again, so earlier request timeouts stop counting. */
  private replied(): void {
    if (this.breaker.state === 'CLOSED' && this.breaker.actor.getSnapshot().context.consecutiveFailures > 0)
      this.breaker.execute(noop).catch(noop);
  }

  private settleRequest(request: PendingRequest, error: unknown, reply?: unknown): void {
    if (this.pending.get(request.requestId) !== request) return;
    this.pending.delete(request.requestId);
    this.clock.clearTimeout(request.timer);
    if (request.onAbort) request.signal?.removeEventListener('abort', request.onAbort);
    if (request.entry) {
      const index = this.queue.indexOf(request.entry);
      if (index >= 0) this.queue.splice(index, 1);
      request.entry = null;
    }
    if (error === undefined) request.resolve(reply as never);
    else request.reject(error);
  }

  // ——— the socket ———

  private openSocket(): void {
    const token = ++this.attemptToken;
    if (this.Ctor) {
      this.connect(token);
      return;
    }
    this.loadingCtor ??= import(wsModule).then(
      (module: { WebSocket?: WebSocketConstructor; default?: WebSocketConstructor }) => {
        this.Ctor = module.WebSocket ?? module.default;
      },
    );
    this.loadingCtor.then(
      () => {
        if (token === this.attemptToken && this.current.value === 'CONNECTING' && !this.stopped)
          this.connect(token);
      },
      (error: unknown) => {
        this.logger.warn(`socket backend "${this.name}": cannot load ws`, { error: describe(error) });
        this.actor.send({ type: 'ERROR', message: `cannot load ws: ${describe(error)}` });
      },
    );
  }

  private connect(token: number): void {
    const Ctor = this.Ctor as WebSocketConstructor;
    this.counters.connectAttempts++;
    this.attemptStartedAt = this.clock.now();
    const attempt = this.breaker.execute(
      () =>
        new Promise<void>((resolve, reject) => {
          this.attempt = { resolve, reject };
        }),
    );
    attempt.catch((error: unknown) => {
      if (token !== this.attemptToken || this.stopped) return;
      if (error instanceof Error && error.name === 'BrokenCircuitError')
        this.actor.send({ type: 'BREAKER_OPEN' });
    });
    if (!this.attempt) return; // refused by the breaker: the catch above suspends
    let socket: WebSocketLike;
    try {
      socket = new Ctor(this.url, this.protocols);
    } catch (error) {
      const message = describe(error);
      this.failAttempt(new Error(message));
      queueMicrotask(() => {
        if (token !== this.attemptToken) return;
        this.actor.send({ type: 'ERROR', message });
        this.actor.send({ type: 'CLOSED', code: 1006, reason: message });
      });
      return;
    }
    this.socket = socket;
    this.protocolPing = typeof socket.ping === 'function' && typeof socket.on === 'function';
    this.confirming =
      this.queueLimit > 0 &&
      (this.protocolPing
        ? this.redeliverOption !== false
        : this.redeliverOption === true && this.pingMessage !== undefined && this.isPong !== undefined);
    socket.onopen = () => {
      if (this.socket !== socket) return;
      const now = this.clock.now();
      this.latencyMs = now - this.attemptStartedAt;
      this.lastSuccessAt = now;
      this.counters.connections++;
      const pending = this.attempt;
      this.attempt = null;
      pending?.resolve();
      this.actor.send({ type: 'OPENED' });
    };
    let failure: string | null = null; // why the connection could not be made, for a close with no frame
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.detach(socket);
      this.socket = null;
      this.endConfirmation(event.code === 1006);
      const reason = event.code === 1006 && failure !== null ? failure : (event.reason ?? '');
      this.actor.send({ type: 'CLOSED', code: event.code, reason });
      this.failAttempt(new Error(`closed before open (code ${event.code})`));
    };
    socket.onerror = (event) => {
      if (this.socket !== socket) return;
      const error = (event as { error?: unknown } | null)?.error;
      const message = describe(error ?? event);
      if (this.current.value === 'CONNECTING') failure = connectFailure(error, this.url);
      this.actor.send({
        type: 'ERROR',
        message: failure ?? (message === '[object Event]' ? 'socket error' : message),
      });
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.receive(event.data);
    };
    if (this.protocolPing) {
      socket.on?.('pong', (data: unknown) => {
        if (this.socket !== socket) return;
        const token = Number(String(data ?? ''));
        if (Number.isSafeInteger(token) && token > 0) this.confirmed(token);
        this.pong();
      });
    }
  }

  private recordBackoff(delay: number): void {
    this.counters.lastBackoffMs = delay;
    this.backoffHistory.push(delay);
    if (this.backoffHistory.length > BACKOFF_HISTORY) this.backoffHistory.shift();
  }

  private failAttempt(error: Error): void {
    const pending = this.attempt;
    this.attempt = null;
    pending?.reject(error);
  }

  private detach(socket: WebSocketLike): void {
    socket.onopen = null;
    socket.onclose = null;
    socket.onmessage = null;
    // `ws` emits 'error' when a socket is aborted during its handshake: keep a listener.
    socket.onerror = noop;
    socket.removeAllListeners?.('pong');
  }

  private closeSocket(event: SocketEvent): void {
    const socket = this.socket;
    this.failAttempt(
      new Error(
        this.stopped ? 'backend stopped' : (this.current.context.lastError ?? 'connection abandoned'),
      ),
    );
    if (!socket) return;
    this.socket = null;
    this.detach(socket);
    // Abandoned without a closing handshake (heartbeat missed, timeout): the peer may not have read them.
    this.endConfirmation(event.type !== 'STOP');
    try {
      if (event.type === 'STOP' || !socket.terminate)
        socket.close(1000, event.type === 'STOP' ? 'backend stopped' : '');
      else socket.terminate();
    } catch {
      // already closing
    }
  }

  private sendPing(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return;
    this.pingSentAt = this.clock.now();
    try {
      this.ping(socket);
    } catch (error) {
      this.actor.send({ type: 'ERROR', message: `ping failed: ${describe(error)}` });
    }
  }

  private pong(): void {
    const now = this.clock.now();
    if (this.current.context.awaitingPong) this.latencyMs = now - this.pingSentAt;
    this.lastSuccessAt = now;
    this.lastCheckAt = now;
    this.actor.send({ type: 'PONG' });
    this.resolveProbes();
  }

  private resolveProbes(): void {
    if (this.probeWaiters.length === 0) return;
    const waiters = this.probeWaiters;
    this.probeWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private receive(data: unknown): void {
    this.counters.framesReceived++;
    const parsed = parseFrame(data, this.frameLimits);
    if (typeof parsed === 'string') {
      this.malformed(parsed, typeof data === 'string' ? data : undefined);
      return;
    }
    const object = parsed;
    this.lastSuccessAt = this.clock.now();
    if (
      !this.protocolPing &&
      (this.current.context.awaitingPong || this.marks.length > 0) &&
      (!this.isPong || this.isPong(object))
    ) {
      if (this.confirming) this.confirmed(null);
      this.pong();
      if (this.isPong) return;
    }
    const requestId = object.requestId as string | undefined;
    if (requestId !== undefined) {
      const request = this.pending.get(requestId);
      if (request) {
        this.settleRequest(request, undefined, object);
        this.replied();
        return;
      }
      this.counters.unmatchedReplies++;
    }
    for (const listener of this.messageListeners) {
      try {
        listener(object);
      } catch (error) {
        this.logger.warn(`socket backend "${this.name}": onMessage listener threw`, {
          error: describe(error),
        });
      }
    }
  }

  private malformed(reason: string, text?: string): void {
    this.counters.malformedFrames++;
    this.logger.warn(`socket backend "${this.name}": malformed frame dropped (${reason})`, {
      backend: this.name,
      reason,
      ...(text === undefined ? {} : { sample: text.slice(0, 120) }),
      malformedFrames: this.counters.malformedFrames,
    });
    this.notify();
  }

  // ——— health ———

  private iso(at: number | null): string | null {
    return at === null ? null : new Date(at).toISOString();
  }

  private notify(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.logger.warn(`socket backend "${this.name}": health listener threw`, { error: describe(error) });
      }
    }
  }
}
