/*
 * The socket backend's outbox: the bounded queue of messages waiting for an open socket, their
 * writes in order, and — on a connection that can confirm — the written messages kept until the
 * receiver confirms them (a ping sent after a write is answered after the peer read it), written
 * again first after an abnormal close (at-least-once delivery).
 *
 * The outbox owns no socket: it asks its host for the current one, and the host tells it when a
 * connection starts (`attach`), when a pong confirms writes (`confirmed`) and when it ends (`end`).
 */
import type { Clock } from '../../clock.js';
import { BackendStoppedError, QueueFullError } from '../errors.js';
import type { ConfirmMark, DeliveryPromise, PendingRequest, QueueEntry, WebSocketLike } from './types.js';

const OPEN = 1;
const noop = () => {};

/** What the outbox needs from the connection that owns it. */
export interface OutboxHost {
  readonly name: string;
  readonly clock: Clock;
  readonly queueLimit: number;
  readonly confirmAfterMs: number;
  /** The application ping frame, for sockets without protocol ping. */
  readonly pingMessage: string | (() => string) | undefined;
  /** Shared with the backend's stats. */
  readonly counters: { messagesSent: number; redelivered: number };
  /** The current socket, or null between connections. */
  socket(): WebSocketLike | null;
  /** An open socket and the machine CONNECTED. */
  isOpen(): boolean;
  isStopped(): boolean;
  /** Asks the machine for its heartbeat ping, when one can go now (it then calls `ping`). */
  heartbeatDue(): void;
  /** Whether a request with this `requestId` still waits for its reply (a settled one is never written again). */
  isPending(requestId: string): boolean;
}

/** The queue, the unconfirmed writes and the confirmation pings of one socket backend. */
export class Outbox {
  private queue: QueueEntry[] = [];
  private seq = 0;
  /** Whether the current connection keeps written messages until confirmed. */
  private confirming = false;
  /** Whether the current socket has protocol ping/pong (and write callbacks). */
  private protocolPing = false;
  private unconfirmed: QueueEntry[] = [];
  private writes = 0;
  private pingToken = 0;
  private marks: ConfirmMark[] = [];
  private confirmTimer: unknown = null;

  constructor(private readonly host: OutboxHost) {}

  /** Messages waiting for an open socket. */
  get queueLength(): number {
    return this.queue.length;
  }

  /** Messages written and kept until the receiver confirms them. */
  get unconfirmedLength(): number {
    return this.unconfirmed.length;
  }

  /** A confirmation ping is out: the next application pong answers it. */
  get awaitingConfirmation(): boolean {
    return this.marks.length > 0;
  }

  /** Whether the current connection confirms writes. */
  get isConfirming(): boolean {
    return this.confirming;
  }

  /** A new socket: how it pings and whether its writes are kept until confirmed. */
  attach(protocolPing: boolean, confirming: boolean): void {
    this.protocolPing = protocolPing;
    this.confirming = confirming;
  }

  /**
   * Queues (or writes at once) a message: the returned promise resolves once it is written, and its
   * `confirmed` promise once the receiver confirmed it (or at once when this connection cannot).
   */
  send(data: string): DeliveryPromise {
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

  /** Queues (or writes at once) one frame; rejects with `QueueFullError` when the queue is full. */
  enqueue(
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
    if (this.queue.length === 0 && this.host.isOpen() && this.canWrite()) {
      this.write(entry);
      return;
    }
    if (this.queue.length >= this.host.queueLimit) {
      const error = new QueueFullError(this.host.name, this.host.queueLimit);
      reject(error);
      this.unconfirmable(entry, error);
      return;
    }
    if (request) request.entry = entry;
    this.queue.push(entry);
  }

  /** Takes a queued entry out (its request settled before it was written). */
  remove(entry: QueueEntry): void {
    const index = this.queue.indexOf(entry);
    if (index >= 0) this.queue.splice(index, 1);
  }

  /** Writes queued messages in order while the socket is open and there is room to keep them. */
  flush(): void {
    // Runs as the CONNECTED entry action, before the snapshot says CONNECTED: check the socket only.
    while (this.queue.length > 0 && this.host.socket()?.readyState === OPEN && this.canWrite()) {
      const entry = this.queue.shift() as QueueEntry;
      if (entry.request) entry.request.entry = null;
      this.write(entry);
    }
  }

  /** Stopped: every queued message is rejected, every unconfirmed one will never be confirmed. */
  stop(error: BackendStoppedError): void {
    const queued = this.queue;
    this.queue = [];
    for (const entry of queued) {
      entry.reject(error);
      this.unconfirmable(entry, error);
    }
    this.end(false);
  }

  /** Room to keep one more unconfirmed message (always, when not confirming). */
  private canWrite(): boolean {
    return !this.confirming || this.unconfirmed.length < this.host.queueLimit;
  }

  private write(entry: QueueEntry): void {
    const socket = this.host.socket() as WebSocketLike;
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
    this.host.counters.messagesSent++;
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
    if (this.host.isStopped()) {
      const error = new BackendStoppedError(this.host.name);
      entry.reject(error);
      this.unconfirmable(entry, error);
      return;
    }
    if (entry.request && !this.host.isPending(entry.request.requestId)) return;
    let index = this.queue.length;
    while (index > 0 && (this.queue[index - 1] as QueueEntry).seq > entry.seq) index--;
    this.queue.splice(index, 0, entry);
    if (entry.request) entry.request.entry = entry;
    if (this.host.isOpen()) this.flush();
  }

  // ——— confirmation and redelivery ———

  /** One coalesced confirmation ping `confirmAfterMs` after the first write it will cover. */
  private scheduleConfirmation(): void {
    if (this.confirmTimer !== null) return;
    this.confirmTimer = this.host.clock.setTimeout(() => {
      this.confirmTimer = null;
      this.confirm();
    }, this.host.confirmAfterMs);
  }

  private cancelConfirmation(): void {
    if (this.confirmTimer === null) return;
    this.host.clock.clearTimeout(this.confirmTimer);
    this.confirmTimer = null;
  }

  private confirm(): void {
    const last = this.unconfirmed[this.unconfirmed.length - 1];
    const socket = this.host.socket();
    if (!last || !socket || socket.readyState !== OPEN) return;
    const covered = this.marks[this.marks.length - 1];
    if (covered && covered.upTo >= last.writeNo) return; // a ping already out covers them
    // The heartbeat ping when it can go now (it also watches for a dead peer), else a ping of our own.
    const before = this.pingToken;
    this.host.heartbeatDue();
    if (this.pingToken === before) this.ping(socket);
  }

  /** Sends a ping carrying a fresh token; when confirming, it will confirm every write so far. */
  ping(socket: WebSocketLike): void {
    const token = ++this.pingToken;
    if (this.confirming) this.marks.push({ token, upTo: this.writes });
    if (this.protocolPing) socket.ping?.(String(token));
    else if (this.host.pingMessage !== undefined) {
      const { pingMessage } = this.host;
      socket.send(typeof pingMessage === 'function' ? pingMessage() : pingMessage);
    }
  }

  /** A pong: protocol pongs echo their ping's token (`token`); application pongs (null) answer the oldest ping. */
  confirmed(token: number | null): void {
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
    if (wasFull && this.host.isOpen()) this.flush();
  }

  /**
   * The connection ended. Abnormally (`redeliver`): every unconfirmed message goes back into the
   * queue, ahead of what was queued after it, to be written again first. Cleanly: the closing
   * handshake means the peer read everything, so they are done.
   */
  end(redeliver: boolean): void {
    this.cancelConfirmation();
    this.marks = [];
    const unconfirmed = this.unconfirmed;
    this.unconfirmed = [];
    if (this.host.isStopped()) {
      // Stopped before the peer confirmed them: not delivered (a durable outbox resends them next start).
      const error = new BackendStoppedError(this.host.name);
      for (const entry of unconfirmed) this.unconfirmable(entry, error);
      return;
    }
    if (!redeliver || unconfirmed.length === 0) {
      for (const entry of unconfirmed) this.confirmedRead(entry);
      return;
    }
    for (const entry of unconfirmed) entry.where = 'queue';
    this.host.counters.redelivered += unconfirmed.length;
    this.queue = unconfirmed.concat(this.queue).sort((a, b) => a.seq - b.seq);
  }
}
