/**
 * The page's state, fed by inspector messages (live or replayed). Bounded: the event log is a ring
 * of `LOG_CAP` entries, latency histories keep `LATENCY_POINTS` samples, finished retry actors are
 * forgotten beyond `MAX_FINISHED`.
 */
import type {
  ActorMessage,
  HealthReportData,
  InspectedSnapshot,
  InspectorMessage,
  LabMessage,
  MetricsMessage,
} from '../../src/inspector/protocol.js';
import type { StateDef } from './diagram.js';

export const LOG_CAP = 2_000;
export const LATENCY_POINTS = 120;
export const MAX_FINISHED = 10;

export interface ActorView {
  sessionId: string;
  name: string;
  role: ActorMessage['role'];
  backend: string | undefined;
  parentId: string | undefined;
  definition: StateDef | undefined;
  snapshot: InspectedSnapshot;
  done: boolean;
  /** Last event that produced a snapshot, and when. */
  lastEvent: string;
  updatedAt: number;
  /** Bumped on every snapshot, for the renderer. */
  revision: number;
}

export interface LogEntry {
  seq: number;
  at: number;
  sessionId: string;
  actor: string;
  eventType: string;
  event: unknown;
  snapshot: InspectedSnapshot;
}

function parseDefinition(definition: unknown): StateDef | undefined {
  if (!definition) return undefined;
  try {
    const parsed = typeof definition === 'string' ? JSON.parse(definition) : definition;
    return parsed && typeof parsed === 'object' && 'states' in parsed && parsed.states
      ? (parsed as StateDef)
      : undefined;
  } catch {
    return undefined;
  }
}

export class Store {
  actors = new Map<string, ActorView>();
  log: LogEntry[] = [];
  health: HealthReportData | undefined;
  healthAt = 0;
  latency = new Map<string, { t: number; v: number | null }[]>();
  metrics: MetricsMessage | undefined;
  lab: LabMessage | undefined;
  dropped = 0;
  /** Time of the latest message applied (the replay clock). */
  now = 0;
  /** Bumped when actors appear or disappear. */
  structure = 0;
  /** Bumped on every change. */
  revision = 0;
  /** Bumped whenever the event log changes (an entry may land before the last one). */
  logRevision = 0;
  private seq = 0;
  private finished: string[] = [];

  reset() {
    this.actors.clear();
    this.log = [];
    this.logRevision++;
    this.health = undefined;
    this.healthAt = 0;
    this.latency.clear();
    this.metrics = undefined;
    this.dropped = 0;
    this.now = 0;
    this.finished = [];
    this.structure++;
    this.revision++;
  }

  /**
   * Keeps the log in time order: a replay after a late join brings each actor's latest snapshot
   * actor by actor, not in time order. Live entries arrive in order and are appended at once.
   */
  private insertByTime(entry: LogEntry): void {
    let index = this.log.length;
    while (index > 0 && (this.log[index - 1] as LogEntry).at > entry.at) index--;
    if (index === this.log.length) this.log.push(entry);
    else this.log.splice(index, 0, entry);
    this.logRevision++;
  }

  apply(message: InspectorMessage): void {
    this.revision++;
    const at = 'createdAt' in message ? Number(message.createdAt) || Date.now() : Date.now();
    if (at > this.now) this.now = at;
    switch (message.type) {
      case '@xstate.actor': {
        const existing = this.actors.get(message.sessionId);
        const view: ActorView = {
          sessionId: message.sessionId,
          name: message.name,
          role: message.role ?? 'actor',
          backend: message.backend,
          parentId: message.parentId,
          definition: parseDefinition(message.definition) ?? existing?.definition,
          snapshot: existing?.snapshot ?? message.snapshot ?? { status: 'active' },
          done: existing?.done ?? false,
          lastEvent: existing?.lastEvent ?? '',
          updatedAt: at,
          revision: (existing?.revision ?? 0) + 1,
        };
        this.actors.set(message.sessionId, view);
        this.structure++;
        return;
      }
      case '@xstate.snapshot': {
        const view = this.actors.get(message.sessionId);
        const eventType = message.event?.type ?? '';
        if (view) {
          view.snapshot = message.snapshot;
          view.lastEvent = eventType;
          view.updatedAt = at;
          view.revision++;
          const done = message.snapshot.status !== undefined && message.snapshot.status !== 'active';
          if (done && !view.done) {
            view.done = true;
            if (view.role === 'retry' || view.role === 'actor') {
              this.finished.push(view.sessionId);
              while (this.finished.length > MAX_FINISHED) {
                const old = this.finished.shift();
                if (old) this.actors.delete(old);
                this.structure++;
              }
            }
          }
        }
        this.insertByTime({
          seq: ++this.seq,
          at,
          sessionId: message.sessionId,
          actor: view?.name ?? message.sessionId,
          eventType,
          event: message.event,
          snapshot: message.snapshot,
        });
        if (this.log.length > LOG_CAP) this.log.splice(0, this.log.length - LOG_CAP);
        return;
      }
      case 'health': {
        this.health = message.report;
        this.healthAt = at;
        for (const [name, line] of Object.entries(message.report.backends)) {
          const points = this.latency.get(name) ?? [];
          const last = points.at(-1);
          if (!last || last.v !== line.latencyMs || at - last.t > 1_000)
            points.push({ t: at, v: line.latencyMs });
          if (points.length > LATENCY_POINTS) points.splice(0, points.length - LATENCY_POINTS);
          this.latency.set(name, points);
        }
        return;
      }
      case 'metrics':
        this.metrics = message;
        return;
      case 'lab':
        this.lab = message;
        return;
      case 'dropped':
        this.dropped += message.count;
        return;
      default:
        return;
    }
  }
}
