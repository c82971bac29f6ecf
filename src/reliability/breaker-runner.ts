/*
 * How a breaker runs its machine: without an actor until someone asks for one.
 *
 * A started XState actor costs about 2 KB of heap, more than the rest of a breaker (`npm run bench`,
 * "Heap per breaker, by part"), and most breakers are never inspected. So a breaker keeps the
 * machine's snapshot itself and advances it with the machine's pure transition; the only actions
 * that transition hands back besides assigning context are the `after` timer's delayed raise (on
 * entering OPEN) and its cancel (on leaving it), which the breaker runs on its own Clock.
 *
 * Reading `actor` makes a real actor of {@link breakerMachine}, restored from the current snapshot,
 * and hands the pending delayed events over to that actor's scheduler (same ids, the time left):
 * from then on the actor holds the state and the timers, the breaker sends it every event and
 * follows it through a subscription, exactly as when the actor exists from the start (with
 * `inspect`, so that the inspector sees every event).
 *
 * Events sent while a transition is being observed (a transition listener calling the breaker)
 * wait until the current one is observed by everyone, as an actor's mailbox makes them wait.
 *
 * Successes of CLOSED calls under the failure-rate rule (`countSuccess`) are counted here and handed
 * to the machine as one SUCCESS with a `count`, so a run of successes costs one transition instead of
 * one each (`npx tsx --expose-gc bench/bridge-split.ts`). They are flushed, in order, before any other
 * event, before the snapshot is read (`latest()`, the actor, stop) and before a success of another
 * time slot; n successes in one event leave the machine exactly where n events would. With an actor
 * every success is sent on its own, as before, so the inspector sees each.
 */
import {
  type Actor,
  type AnyEventObject,
  createActor,
  type InspectionEvent,
  type Observer,
  type SnapshotFrom,
} from 'xstate';
import {
  type BreakerEvent,
  type BreakerMachine,
  type BreakerMachineInput,
  breakerMachine,
} from '../../machines/breaker.machine.js';
import type { Clock } from '../clock.js';
import { abandoned, hostFor, stopActor } from './breaker-host.js';
import { type PlannedAction, pureTransition } from './breaker-transition.js';

export type BreakerSnapshot = SnapshotFrom<BreakerMachine>;

/** A delayed event waiting on the clock (before the actor exists). */
interface Delayed {
  event: AnyEventObject;
  dueAt: number;
  handle: unknown;
}

export abstract class BreakerRunner {
  /** The machine's latest snapshot. */
  protected current!: BreakerSnapshot;
  protected stopped = false;
  protected readonly clock: Clock;
  /** The actor, once made. */
  private made: Actor<BreakerMachine> | undefined;
  /** Delayed events by id; made on the first one (most breakers never open). */
  private delayed: Map<string, Delayed> | undefined;
  private queue: AnyEventObject[] | undefined;
  private stepping = false;
  /** Successes counted and not yet sent, the time of the last one (time windows) and its window slot. */
  private unsent = 0;
  private unsentAt: number | undefined;
  private unsentSlot = 0;

  protected constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Called with every new snapshot of the machine, before any later event is taken. */
  protected abstract observe(snapshot: BreakerSnapshot): void;

  /** Starts the machine: pure, or as an actor from the start when `inspect` wants to see it. */
  protected startMachine(
    input: BreakerMachineInput,
    inspect: Observer<InspectionEvent> | ((event: InspectionEvent) => void) | undefined,
  ): void {
    if (inspect) {
      // With an inspector the breaker gets an actor system of its own, so the inspector sees only it.
      const actor = createActor(breakerMachine, { input, clock: this.clock, inspect });
      this.follow(actor);
      actor.start();
      this.current = actor.getSnapshot();
      return;
    }
    const [snapshot, actions] = pureTransition.initial(input);
    this.current = snapshot;
    this.schedule(actions);
  }

  /** The breaker's XState actor: made from the current snapshot on first read (see above). */
  get actor(): Actor<BreakerMachine> {
    if (this.made) return this.made;
    this.flush();
    // It joins the shared system of its clock (see `hostFor`).
    // Restored from a snapshot, it reads no input (XState's types ask for one all the same).
    const actor = createActor(breakerMachine, {
      snapshot: this.current,
      parent: hostFor(this.clock),
      input: undefined as unknown as BreakerMachineInput,
    });
    this.follow(actor);
    actor.start();
    if (this.stopped) {
      abandoned.unregister(actor);
      stopActor(actor);
    } else {
      this.handOver(actor);
    }
    return actor;
  }

  /** The machine's snapshot with every success counted so far delivered. */
  protected latest(): BreakerSnapshot {
    this.flush();
    return this.current;
  }

  /**
   * A call admitted while CLOSED succeeded at clock time `at` (read by a time window only), in window
   * slot `slot`: counted, and sent with the next flush (see above); sent at once to an actor.
   */
  protected countSuccess(at: number | undefined, slot: number): void {
    if (this.made) {
      this.made.send(at === undefined ? { type: 'SUCCESS' } : { type: 'SUCCESS', at });
      return;
    }
    if (this.unsent > 0 && slot !== this.unsentSlot) this.flush();
    this.unsent++;
    this.unsentAt = at;
    this.unsentSlot = slot;
  }

  /** Sends `event` to the machine, after the successes counted before it. */
  protected send(event: BreakerEvent | AnyEventObject): void {
    this.flush();
    this.deliver(event);
  }

  /** Hands the counted successes to the machine as one event. */
  private flush(): void {
    if (this.unsent === 0) return;
    const count = this.unsent;
    const at = this.unsentAt;
    this.unsent = 0;
    const event: BreakerEvent =
      at === undefined ? { type: 'SUCCESS', count } : { type: 'SUCCESS', count, at };
    this.deliver(event);
  }

  private deliver(event: BreakerEvent | AnyEventObject): void {
    if (this.made) {
      this.made.send(event as BreakerEvent);
      return;
    }
    if (this.stepping) {
      if (!this.queue) this.queue = [];
      this.queue.push(event);
      return;
    }
    this.stepping = true;
    try {
      for (let next: AnyEventObject | undefined = event; next; next = this.queue?.shift()) {
        // A listener may have read `actor` meanwhile: the rest goes to it.
        const actor = this.made as Actor<BreakerMachine> | undefined;
        if (actor) actor.send(next as BreakerEvent);
        else this.step(next);
      }
    } finally {
      this.stepping = false;
    }
  }

  /** Stops the machine: its actor, or its timers. */
  protected halt(): void {
    this.flush();
    this.stopped = true;
    if (this.queue) this.queue.length = 0;
    if (this.made) {
      abandoned.unregister(this.made);
      stopActor(this.made);
    }
    if (this.delayed) for (const { handle } of this.delayed.values()) this.clock.clearTimeout(handle);
    this.delayed = undefined;
  }

  private step(event: AnyEventObject): void {
    const [snapshot, actions] = pureTransition.next(this.current, event);
    this.schedule(actions);
    if (snapshot !== this.current) this.observe(snapshot);
  }

  /** Runs the delayed raises and cancels of a pure transition. */
  private schedule(actions: readonly PlannedAction[]): void {
    for (const action of actions) {
      if (action.kind === 'cancel') {
        const pending = this.delayed?.get(action.id);
        if (pending) {
          this.clock.clearTimeout(pending.handle);
          this.delayed?.delete(action.id);
        }
        continue;
      }
      if (!this.delayed) this.delayed = new Map();
      const delayed = this.delayed;
      const previous = delayed.get(action.id);
      if (previous) this.clock.clearTimeout(previous.handle);
      const { id, event, delay } = action;
      const handle = this.clock.setTimeout(() => {
        delayed.delete(id);
        this.send(event);
      }, delay);
      delayed.set(id, { event, dueAt: this.clock.now() + delay, handle });
    }
  }

  /** Moves the pending delayed events to `actor`'s scheduler, with the time they had left. */
  private handOver(actor: Actor<BreakerMachine>): void {
    const delayed = this.delayed;
    this.delayed = undefined;
    if (!delayed) return;
    const now = this.clock.now();
    for (const [id, { event, dueAt, handle }] of delayed) {
      this.clock.clearTimeout(handle);
      actor.system.scheduler.schedule(actor, actor, event, Math.max(0, dueAt - now), id);
    }
  }

  /** From now on `actor` holds the state; the breaker follows its snapshots. */
  private follow(actor: Actor<BreakerMachine>): void {
    this.made = actor;
    // The actor holds the breaker only weakly, so a breaker dropped without stop() can be collected.
    const self = new WeakRef<BreakerRunner>(this);
    actor.subscribe((snapshot) => self.deref()?.observe(snapshot));
    abandoned.register(this, actor, actor);
  }
}
