/*
 * The WebSocket backend: the runtime around `socketMachine`.
 *
 * The machine decides (connect, wait, reconnect, suspend, stop); this class does the I/O it asks for
 * through the actions it is provided with, and reports what the socket and the breaker do as events.
 * Every connection attempt runs inside this backend's own breaker; the breaker's state changes are
 * forwarded to the machine (OPEN → SUSPENDED, HALF_OPEN → one probe connect).
 *
 * Its parts: settings.ts (options and defaults), link.ts (the socket and connection attempts),
 * outbox.ts (queue, writes, confirmation, redelivery), requests.ts (correlation by `requestId`,
 * timeouts), frames.ts (parsing and limits) and health.ts; this class wires them to the machine.
 */
import { type Actor, assign, createActor, type SnapshotFrom } from 'xstate';
import {
  fullJitterDelay,
  type SocketEvent,
  type SocketMachine,
  type SocketState,
  socketMachine,
} from '../../../machines/socket.machine.js';
import type { Clock } from '../../clock.js';
import { type CircuitBreaker, createCircuitBreaker } from '../../reliability/breaker.js';
import { BackendStoppedError, ConnectionLostError } from '../errors.js';
import type { BackendHealth } from '../types.js';
import { describe, parseFrame, serializeFrame } from './frames.js';
import { socketHealth } from './health.js';
import { SocketLink } from './link.js';
import { Outbox } from './outbox.js';
import { Requests } from './requests.js';
import { confirmsWrites, resolveSocketSettings, type SocketSettings } from './settings.js';
import type {
  DeliveryPromise,
  SocketBackend,
  SocketBackendOptions,
  SocketBackendStats,
  SocketRequestOptions,
} from './types.js';

const OPEN = 1;
const BACKOFF_HISTORY = 100;
const noop = () => {};

/** Backend of each running actor: lets every backend share one provided machine (a machine costs ~16 KB). */
const instances = new WeakMap<object, SocketBackendImpl>();

export class SocketBackendImpl implements SocketBackend {
  /** `socketMachine` with the runtime's I/O actions; they find their backend through `self`. */
  private static readonly machine = socketMachine.provide({
    actions: {
      openSocket: ({ self }) => instances.get(self)?.link.open(),
      closeSocket: ({ self, event }) => instances.get(self)?.link.close(event),
      sendPing: ({ self }) => instances.get(self)?.link.ping(),
      flushQueue: ({ self }) => instances.get(self)?.outbox.flush(),
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
  private readonly settings: SocketSettings;
  private readonly clock: Clock;
  private readonly random: () => number;
  private probeWaiters: Array<() => void> = [];

  private readonly outbox: Outbox;
  private readonly link: SocketLink;
  private readonly requests: Requests;
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
    const settings = resolveSocketSettings(options);
    this.settings = settings;
    this.name = settings.name;
    this.url = settings.url;
    this.clock = settings.clock;
    this.random = settings.random;
    this.breaker = createCircuitBreaker(settings.breaker);
    this.lastBreakerState = this.breaker.state;

    this.outbox = new Outbox({
      name: this.name,
      clock: this.clock,
      queueLimit: this.settings.queueLimit,
      confirmAfterMs: settings.confirmAfterMs,
      pingMessage: this.settings.pingMessage,
      counters: this.counters,
      socket: () => this.link.socket,
      isOpen: () => this.isOpen(),
      isStopped: () => this.stopped,
      heartbeatDue: () => {
        if (this.current.context.heartbeatIntervalMs > 0 && !this.current.context.awaitingPong)
          this.actor.send({ type: 'HEARTBEAT_DUE' });
      },
      isPending: (requestId) => this.requests.has(requestId),
    });
    this.requests = new Requests({
      name: this.name,
      clock: this.clock,
      random: this.random,
      breaker: this.breaker,
      requestTimeoutMs: settings.requestTimeoutMs,
      isStopped: () => this.stopped,
      serialize: (message) => this.serialize(message),
      enqueue: (data, resolve, reject, request) => this.outbox.enqueue(data, resolve, reject, request),
      unqueue: (entry) => this.outbox.remove(entry),
      reportError: (message) => this.actor.send({ type: 'ERROR', message }),
    });

    this.link = new SocketLink(
      {
        name: this.name,
        url: this.url,
        protocols: this.settings.protocols,
        clock: this.clock,
        logger: this.settings.logger,
        breaker: this.breaker,
        outbox: this.outbox,
        counters: this.counters,
        confirms: (protocolPing) => confirmsWrites(this.settings, protocolPing),
        state: () => this.current.value,
        lastError: () => this.current.context.lastError,
        isStopped: () => this.stopped,
        send: (event) => this.actor.send(event),
        opened: (at, latencyMs) => {
          this.latencyMs = latencyMs;
          this.lastSuccessAt = at;
          this.counters.connections++;
        },
        receive: (data) => this.receive(data),
        pong: (token) => {
          if (token !== null) this.outbox.confirmed(token);
          this.pong();
        },
      },
      settings.Ctor,
    );

    this.actor = createActor(SocketBackendImpl.machine, {
      input: settings.machineInput,
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

    // The breaker's own transitions, not its actor: reading `breaker.actor` would make one.
    this.unsubscribeBreaker = this.breaker.onTransition(({ to }) => {
      if (to === this.lastBreakerState) return;
      this.lastBreakerState = to;
      this.actor.send({ type: `BREAKER_${to}` } as SocketEvent);
      this.notify();
    });
  }

  get state(): SocketState {
    return this.current.value;
  }

  get queueLength(): number {
    return this.outbox.queueLength;
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
    this.outbox.stop(stoppedError);
    this.requests.failAll(stoppedError);
    this.resolveProbes();
    this.notify();
  }

  status(): BackendHealth {
    const { lastCheckAt, lastSuccessAt, lastErrorAt, latencyMs } = this;
    return socketHealth(
      this.current,
      this.breaker,
      { lastCheckAt, lastSuccessAt, lastErrorAt, latencyMs },
      this.settings.critical,
    );
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
      queueLength: this.outbox.queueLength,
      unconfirmed: this.outbox.unconfirmedLength,
      pendingRequests: this.requests.size,
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
    return this.outbox.send(data);
  }

  request<T = Record<string, unknown>>(
    message: Record<string, unknown>,
    options: SocketRequestOptions = {},
  ): Promise<T> {
    return this.requests.request<T>(message, options);
  }

  private serialize(message: unknown): string {
    return serializeFrame(this.name, message, this.settings.maxFrameBytes);
  }

  private isOpen(): boolean {
    const socket = this.link.socket;
    return socket !== null && socket.readyState === OPEN && this.current.value === 'CONNECTED';
  }

  private failInFlight(): void {
    const error = this.stopped
      ? new BackendStoppedError(this.name)
      : new ConnectionLostError(this.name, this.current.context.lastError);
    this.requests.failSent(error);
    this.resolveProbes();
  }

  // ——— what arrives ———

  private recordBackoff(delay: number): void {
    this.counters.lastBackoffMs = delay;
    this.backoffHistory.push(delay);
    if (this.backoffHistory.length > BACKOFF_HISTORY) this.backoffHistory.shift();
  }

  private pong(): void {
    const now = this.clock.now();
    if (this.current.context.awaitingPong) this.latencyMs = now - this.link.pingSentAt;
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
    const parsed = parseFrame(data, this.settings.frameLimits);
    if (typeof parsed === 'string') {
      this.malformed(parsed, typeof data === 'string' ? data : undefined);
      return;
    }
    const object = parsed;
    this.lastSuccessAt = this.clock.now();
    if (
      !this.link.protocolPing &&
      (this.current.context.awaitingPong || this.outbox.awaitingConfirmation) &&
      (!this.settings.isPong || this.settings.isPong(object))
    ) {
      if (this.outbox.isConfirming) this.outbox.confirmed(null);
      this.pong();
      if (this.settings.isPong) return;
    }
    const requestId = object.requestId as string | undefined;
    if (requestId !== undefined) {
      if (this.requests.reply(requestId, object)) return;
      this.counters.unmatchedReplies++;
    }
    for (const listener of this.messageListeners) {
      try {
        listener(object);
      } catch (error) {
        this.settings.logger.warn(`socket backend "${this.name}": onMessage listener threw`, {
          error: describe(error),
        });
      }
    }
  }

  private malformed(reason: string, text?: string): void {
    this.counters.malformedFrames++;
    this.settings.logger.warn(`socket backend "${this.name}": malformed frame dropped (${reason})`, {
      backend: this.name,
      reason,
      ...(text === undefined ? {} : { sample: text.slice(0, 120) }),
      malformedFrames: this.counters.malformedFrames,
    });
    this.notify();
  }

  // ——— health ———

  private notify(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.settings.logger.warn(`socket backend "${this.name}": health listener threw`, {
          error: describe(error),
        });
      }
    }
  }
}
