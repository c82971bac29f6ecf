/*
 * The inspection relay's types: its options, stats and interface (re-exported by ./relay.ts), and
 * the records it keeps between flushes.
 */
import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import type { Bridge } from '../bridge/types.js';
import type { ActorMessage, InspectorMessage, SnapshotMessage } from './protocol.js';
import type { JsonSafeLimits } from './redact.js';

export interface InspectionRelayOptions {
  /** Time between batches sent to subscribers. Default 50 ms. */
  flushIntervalMs?: number;
  /** Inspection records kept between flushes; beyond it the oldest events are dropped. Default 10 000. */
  maxPending?: number;
  /** After `attach`, health and metrics are sampled this often and sent when they moved. Default 1 000 ms. */
  sampleIntervalMs?: number;
  /** Finished actors (retries) kept for late joiners. Default 20. */
  maxFinishedActors?: number;
  /** Bounds of snapshots, contexts and events. */
  limits?: JsonSafeLimits;
  /** Time source of `createdAt`. Default `Date.now`. */
  now?: () => number;
}

export interface RelayStats {
  /** Inspection events received (all types). */
  received: number;
  /** Messages delivered to subscribers. */
  sent: number;
  /** Messages dropped under overload. */
  dropped: number;
}

export interface InspectionRelay {
  /** Pass as `createNodeBridge({ inspect: relay.inspect })` (or `createActor(m, { inspect })`). */
  readonly inspect: Observer<InspectionEvent>;
  /** Names the bridge's actors and starts streaming its health and metrics. Returns a detach function. */
  attach(bridge: Bridge): () => void;
  /** `listener` gets every batch of messages (in order) from now on. */
  subscribe(listener: (batch: InspectorMessage[]) => void): () => void;
  /** What a late joiner needs: every current actor, its latest snapshot, the latest health and metrics. */
  replay(): InspectorMessage[];
  /** Sends what is pending now instead of at the next tick. */
  flush(): void;
  /** Stops the timers; nothing more is sent. */
  stop(): void;
  readonly stats: RelayStats;
}

/** How the relay names an actor. */
export interface Label {
  name: string;
  role: ActorMessage['role'];
  backend?: string;
}

/** An inspection record waiting for the next flush. */
export type PendingRecord =
  | { kind: 'actor'; ref: AnyActorRef; at: number }
  | { kind: 'event'; ref: AnyActorRef; source: AnyActorRef | undefined; event: unknown; at: number }
  | { kind: 'snapshot'; ref: AnyActorRef; event: unknown; snapshot: unknown; at: number }
  | { kind: 'message'; message: InspectorMessage };

/** A current (or recently finished) actor, kept for late joiners. */
export interface ActorEntry {
  actor: ActorMessage;
  snapshot: SnapshotMessage | undefined;
  finished: boolean;
}
