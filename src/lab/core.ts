/*
 * What every part of a running lab shares: its options, its fault table, its timers and its way of
 * resetting a connection the way a crashed process would.
 */
import type { Socket } from 'node:net';
import type { FaultTable } from './faults.js';
import type { LabLogger } from './types.js';

/** The state shared by the lab's servers. */
export interface LabCore {
  /** Host the backends listen on. */
  readonly host: string;
  /** Largest WebSocket frame and HTTP body accepted. */
  readonly maxPayload: number;
  readonly log: LabLogger;
  readonly faults: FaultTable;
  /** Set when `stop()` begins. */
  stopped: boolean;
  /** Ports actually listened on (0 until started). */
  ports: { ws: number; http: number; control: number };
  /** Pending `later()` timers, cleared on stop. */
  readonly timers: Set<NodeJS.Timeout>;
  /** Sockets the lab itself reset ("down"): their unanswered requests were not aborted by the client. */
  readonly resetByLab: WeakSet<Socket>;
  /** Runs `fn` after `ms` (at once when `ms` ≤ 0), unless the lab stopped meanwhile. */
  later(ms: number, fn: () => void): void;
  /** Resets a connection with an RST, as from a crashed process. */
  resetSocket(socket: Socket): void;
}

/** A lab's shared state, not started. */
export function createLabCore(options: {
  host: string;
  maxPayload: number;
  log: LabLogger;
  faults: FaultTable;
}): LabCore {
  const timers = new Set<NodeJS.Timeout>();
  const resetByLab = new WeakSet<Socket>();
  const core: LabCore = {
    ...options,
    stopped: false,
    ports: { ws: 0, http: 0, control: 0 },
    timers,
    resetByLab,
    later: (ms, fn) => {
      if (ms <= 0) {
        fn();
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!core.stopped) fn();
      }, ms);
      timers.add(timer);
    },
    resetSocket: (socket) => {
      resetByLab.add(socket);
      if (socket.destroyed) return;
      // An RST, as from a crashed process; resetAndDestroy needs a connected TCP handle.
      try {
        socket.resetAndDestroy();
      } catch {
        socket.destroy();
      }
    },
  };
  return core;
}
