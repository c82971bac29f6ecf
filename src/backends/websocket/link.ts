/*
 * The socket backend's link: one WebSocket at a time, opened, pinged and closed when the machine
 * asks. Every connection attempt runs inside the backend's breaker (a refused attempt suspends the
 * machine); what the socket does comes back to the machine as events (OPENED, CLOSED, ERROR).
 *
 * Sockets are replaced, never reused: each handler checks that its socket is still the current one,
 * so a late `close` of an abandoned socket cannot be mistaken for the current connection's.
 */
import type { SocketEvent, SocketState } from '../../../machines/socket.machine.js';
import type { Clock } from '../../clock.js';
import type { CircuitBreaker } from '../../reliability/breaker.js';
import { connectFailure, describe } from './frames.js';
import type { Outbox } from './outbox.js';
import type { SocketLogger, WebSocketConstructor, WebSocketLike } from './types.js';

const OPEN = 1;
const noop = () => {};
// A variable specifier keeps bundlers from pulling `ws` into browser builds.
const wsModule = 'ws';

/** What the link needs from the backend that owns it. */
export interface LinkHost {
  readonly name: string;
  readonly url: string;
  readonly protocols: string | string[] | undefined;
  readonly clock: Clock;
  readonly logger: SocketLogger;
  readonly breaker: CircuitBreaker;
  readonly outbox: Outbox;
  /** Shared with the backend's stats. */
  readonly counters: { connectAttempts: number };
  /** Whether a connection confirms writes, given whether its socket has protocol ping. */
  confirms(protocolPing: boolean): boolean;
  state(): SocketState;
  lastError(): string | null;
  isStopped(): boolean;
  /** Sends an event to the backend's machine. */
  send(event: SocketEvent): void;
  /** The socket opened at `at`, `latencyMs` after the attempt started. */
  opened(at: number, latencyMs: number): void;
  /** A frame arrived. */
  receive(data: unknown): void;
  /** A protocol pong arrived, echoing its ping's token (null when it carries none). */
  pong(token: number | null): void;
}

/** The current socket of one socket backend and its connection attempts. */
export class SocketLink {
  private current: WebSocketLike | null = null;
  private hasProtocolPing = false;
  private attempt: { resolve: () => void; reject: (error: unknown) => void } | null = null;
  private attemptToken = 0;
  private attemptStartedAt = 0;
  private lastPingAt = 0;
  private loadingCtor: Promise<void> | null = null;

  constructor(
    private readonly host: LinkHost,
    /** The WebSocket constructor; undefined in Node until `ws` is loaded. */
    private Ctor: WebSocketConstructor | undefined,
  ) {}

  /** The current socket, or null between connections. */
  get socket(): WebSocketLike | null {
    return this.current;
  }

  /** Whether the current socket has protocol ping/pong (`ws`). */
  get protocolPing(): boolean {
    return this.hasProtocolPing;
  }

  /** When the last heartbeat ping went out. */
  get pingSentAt(): number {
    return this.lastPingAt;
  }

  /** Starts a connection attempt (loading `ws` first in Node when no constructor was given). */
  open(): void {
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
        if (token === this.attemptToken && this.host.state() === 'CONNECTING' && !this.host.isStopped())
          this.connect(token);
      },
      (error: unknown) => {
        this.host.logger.warn(`socket backend "${this.host.name}": cannot load ws`, {
          error: describe(error),
        });
        this.host.send({ type: 'ERROR', message: `cannot load ws: ${describe(error)}` });
      },
    );
  }

  /**
   * Ends the current attempt and socket: with a closing handshake on STOP, else terminated (the peer
   * may not have read what was written: the outbox writes it again).
   */
  close(event: SocketEvent): void {
    const socket = this.current;
    this.failAttempt(
      new Error(
        this.host.isStopped() ? 'backend stopped' : (this.host.lastError() ?? 'connection abandoned'),
      ),
    );
    if (!socket) return;
    this.current = null;
    this.detach(socket);
    // Abandoned without a closing handshake (heartbeat missed, timeout): the peer may not have read them.
    this.host.outbox.end(event.type !== 'STOP');
    try {
      if (event.type === 'STOP' || !socket.terminate)
        socket.close(1000, event.type === 'STOP' ? 'backend stopped' : '');
      else socket.terminate();
    } catch {
      // already closing
    }
  }

  /** The heartbeat ping, on an open socket. */
  ping(): void {
    const socket = this.current;
    if (!socket || socket.readyState !== OPEN) return;
    this.lastPingAt = this.host.clock.now();
    try {
      this.host.outbox.ping(socket);
    } catch (error) {
      this.host.send({ type: 'ERROR', message: `ping failed: ${describe(error)}` });
    }
  }

  private connect(token: number): void {
    const { host } = this;
    const Ctor = this.Ctor as WebSocketConstructor;
    host.counters.connectAttempts++;
    this.attemptStartedAt = host.clock.now();
    const attempt = host.breaker.execute(
      () =>
        new Promise<void>((resolve, reject) => {
          this.attempt = { resolve, reject };
        }),
    );
    attempt.catch((error: unknown) => {
      if (token !== this.attemptToken || host.isStopped()) return;
      if (error instanceof Error && error.name === 'BrokenCircuitError') host.send({ type: 'BREAKER_OPEN' });
    });
    if (!this.attempt) return; // refused by the breaker: the catch above suspends
    let socket: WebSocketLike;
    try {
      socket = new Ctor(host.url, host.protocols);
    } catch (error) {
      const message = describe(error);
      this.failAttempt(new Error(message));
      queueMicrotask(() => {
        if (token !== this.attemptToken) return;
        host.send({ type: 'ERROR', message });
        host.send({ type: 'CLOSED', code: 1006, reason: message });
      });
      return;
    }
    this.current = socket;
    this.hasProtocolPing = typeof socket.ping === 'function' && typeof socket.on === 'function';
    host.outbox.attach(this.hasProtocolPing, host.confirms(this.hasProtocolPing));
    socket.onopen = () => {
      if (this.current !== socket) return;
      const now = host.clock.now();
      host.opened(now, now - this.attemptStartedAt);
      const pending = this.attempt;
      this.attempt = null;
      pending?.resolve();
      host.send({ type: 'OPENED' });
    };
    let failure: string | null = null; // why the connection could not be made, for a close with no frame
    socket.onclose = (event) => {
      if (this.current !== socket) return;
      this.detach(socket);
      this.current = null;
      host.outbox.end(event.code === 1006);
      const reason = event.code === 1006 && failure !== null ? failure : (event.reason ?? '');
      host.send({ type: 'CLOSED', code: event.code, reason });
      this.failAttempt(new Error(`closed before open (code ${event.code})`));
    };
    socket.onerror = (event) => {
      if (this.current !== socket) return;
      const error = (event as { error?: unknown } | null)?.error;
      const message = describe(error ?? event);
      if (host.state() === 'CONNECTING') failure = connectFailure(error, host.url);
      host.send({
        type: 'ERROR',
        message: failure ?? (message === '[object Event]' ? 'socket error' : message),
      });
    };
    socket.onmessage = (event) => {
      if (this.current !== socket) return;
      host.receive(event.data);
    };
    if (this.hasProtocolPing) {
      socket.on?.('pong', (data: unknown) => {
        if (this.current !== socket) return;
        const token = Number(String(data ?? ''));
        host.pong(Number.isSafeInteger(token) && token > 0 ? token : null);
      });
    }
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
}
