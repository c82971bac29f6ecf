import type { A2AEnvelope } from '../wire/a2a.js';

/** The lab's backends, named as the bridge names them (design.md, backends.md). */
export const LAB_BACKENDS = ['evolution', 'agents', 'a2a', 'lmStudio'] as const;
export type LabBackend = (typeof LAB_BACKENDS)[number];

export const WS_BACKENDS = ['evolution', 'agents', 'a2a'] as const;
export type WsBackend = (typeof WS_BACKENDS)[number];

export function isLabBackend(value: unknown): value is LabBackend {
  return typeof value === 'string' && (LAB_BACKENDS as readonly string[]).includes(value);
}

/** The faults currently injected into one backend. */
export interface FaultState {
  /** WS: the path's sockets are terminated and upgrades refused (503); HTTP: connections are reset. */
  down: boolean;
  /** Every reply is delayed by this many milliseconds. */
  latencyMs: number;
  /** Share (0..1) of requests answered with a failure (WS `success: false`, HTTP 500); seeded, reproducible. */
  errorRate: number;
  /** WS: no pongs, no replies, sockets stay open; HTTP: requests are accepted and never answered. */
  silent: boolean;
  /** HTTP requests (and WS upgrades) are answered 503 with this `Retry-After`. */
  status503: { retryAfterSeconds: number } | null;
}

/** A change to a backend's faults: the fields given replace the current ones. */
export type FaultPatch = Partial<FaultState>;

/** Shorthands accepted by `lab.fault()`. `reset` clears every fault of that backend. */
export type FaultCommand = 'down' | 'up' | 'silent' | 'unsilent' | 'reset';

export type LabFaults = Record<LabBackend, FaultState>;

export interface LabLogger {
  debug?(message: string, data?: Record<string, unknown>): void;
  info?(message: string, data?: Record<string, unknown>): void;
  warn?(message: string, data?: Record<string, unknown>): void;
  error?(message: string, data?: Record<string, unknown>): void;
}

export interface LabOptions {
  /** Interface of the WebSocket and LM Studio servers. Default '127.0.0.1'. */
  host?: string;
  /** Port of the WebSocket server (paths /evolution, /agents, /a2a). Default 8765; 0 = random. */
  wsPort?: number;
  /** Port of the OpenAI-compatible server. Default 1234; 0 = random. */
  httpPort?: number;
  /** Port of the fault-control API (always on 127.0.0.1). Default 0 = random. */
  controlPort?: number;
  /** Bearer token of the control API. Default: `crypto.randomUUID()`, new every run. */
  token?: string;
  /** Seed of the `errorRate` pseudo-random sequences. Default 1. */
  seed?: number;
  /** Largest WebSocket frame or HTTP body accepted, in bytes. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Default: silent. */
  logger?: LabLogger;
}

export interface LabUrls {
  evolution: string;
  agents: string;
  a2a: string;
  /** Base URL of the OpenAI-compatible API, ending in `/v1`. */
  lmStudio: string;
  /** Base URL of the fault-control API. */
  control: string;
}

export interface WsPathStats {
  /** Sockets open now. */
  connections: number;
  /** Sockets accepted since start. */
  connectionsTotal: number;
  /** Upgrades refused (down, 503, foreign Origin/Host). */
  refusedUpgrades: number;
  /** Frames received (including malformed ones, excluding those dropped while silent). */
  messages: number;
  /** Frames that were not a JSON object. */
  malformed: number;
  /** JSON frames rejected by validation (bad request, bad envelope, unknown action). */
  invalid: number;
  /** Frames ignored while the backend was silent. */
  dropped: number;
  /** Failures injected by `errorRate`. */
  injectedErrors: number;
  /** Frames sent back. */
  replies: number;
}

export interface HttpStats {
  /** Requests received (connections reset while down are counted in `resets`). */
  requests: number;
  /** Requests answered 2xx. */
  ok: number;
  /** Requests answered 4xx (the caller's fault). */
  clientErrors: number;
  injectedErrors: number;
  status503: number;
  resets: number;
  /** Requests left unanswered while silent. */
  hung: number;
  /** Requests whose client disconnected before the answer (a cancelled or timed-out call). */
  aborted: number;
}

export interface LabStats {
  ws: Record<WsBackend, WsPathStats>;
  lmStudio: HttpStats;
  control: { requests: number; unauthorized: number; forbidden: number };
  /**
   * `received`: A2A messages recorded (each `message_id` once); `duplicates`: copies of an already
   * recorded message dropped by the router (senders deliver at least once).
   */
  a2a: { received: number; duplicates: number };
}

export type { A2AEnvelope };

export interface LabA2A {
  /** Every valid message received, in arrival order (copies). */
  received(): A2AEnvelope[];
  count(): number;
  clear(): void;
  /** Resolves once `count()` reaches `n`; rejects after `timeoutMs` (default 5 000). */
  waitForCount(n: number, timeoutMs?: number): Promise<A2AEnvelope[]>;
  /** Sends a message from the router to every connected a2a client. Returns how many got it. */
  broadcast(message: Record<string, unknown>): number;
}

export interface Lab {
  readonly urls: LabUrls;
  readonly token: string;
  readonly ports: { ws: number; http: number; control: number };
  readonly a2a: LabA2A;
  /** Applies a fault to one backend and returns its new state. Effects (terminated sockets) are immediate. */
  fault(backend: LabBackend, fault: FaultPatch | FaultCommand): FaultState;
  /** Clears the faults of one backend, or of all. */
  clear(backend?: LabBackend): void;
  faults(): LabFaults;
  stats(): LabStats;
  /** Closes every server and terminates every socket. Idempotent. */
  stop(): Promise<void>;
}
