/*
 * Where breaker actors live: one idle host actor per clock, and the clean-up of breakers dropped
 * without `stop()`.
 */
import { type Actor, type AnyActorRef, createActor, setup, stopChild } from 'xstate';
import type { BreakerMachine } from '../../machines/breaker.machine.js';
import type { Clock } from '../clock.js';

/**
 * One idle root actor per clock, parent of every breaker actor on that clock: its children share one
 * XState actor system (scheduler, registry) instead of building one each (`npm run bench` prints the
 * heap per breaker). The system keeps started children until they stop, hence `abandoned`.
 */
const hosts = new WeakMap<Clock, AnyActorRef>();
const hostMachine = setup({
  types: { events: {} as { type: 'RELEASE'; actor: AnyActorRef } },
  actions: { releaseChild: stopChild(({ event }) => event.actor) },
}).createMachine({ id: 'breakers', on: { RELEASE: { actions: 'releaseChild' } } });
/** The host actor of `clock`'s breakers, started on first use. */
export function hostFor(clock: Clock): AnyActorRef {
  let host = hosts.get(clock);
  if (!host) {
    host = createActor(hostMachine, { clock }).start();
    hosts.set(clock, host);
  }
  return host;
}

/** Stops the actor of a breaker that was garbage-collected without `stop()`. */
export const abandoned = new FinalizationRegistry<Actor<BreakerMachine>>(stopActor);

/** Stops a breaker's actor: through its host when it has one. */
export function stopActor(actor: Actor<BreakerMachine>): void {
  // A child actor is stopped by its parent.
  const parent = actor._parent;
  if (parent) parent.send({ type: 'RELEASE', actor });
  else actor.stop();
}
