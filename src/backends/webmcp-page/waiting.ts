/*
 * Whether a call of a page's tool can run now, must wait for the page to register the tool again
 * (after a navigation or a re-attach), or fails fast — and the bounded wait itself, on the
 * injected clock.
 */
import type { WebMcpPageState } from '../../../machines/webmcp-page.machine.js';
import type { Clock } from '../../clock.js';
import { BackendUnavailableError } from '../errors.js';
import type { RemoteTool } from '../kind.js';
import { WebMcpToolNotFoundError } from './errors.js';

/** What the decision reads of the backend. */
export interface CallableView {
  backend: string;
  tool: string;
  state: WebMcpPageState;
  lastError: string | null;
  /** The current document's tools. */
  current: readonly RemoteTool[];
  /** The tools listed before the page went away. */
  lastKnown: readonly RemoteTool[];
  /** Tools expected back after the last navigation or re-attach, and until when. */
  expected: { names: ReadonlySet<string>; until: number };
  now: number;
  reloadWaitMs: number;
}

/**
 * `run` (READY with the tool; SUSPENDED too, where the breaker rejects), `wait` (a tool the page
 * had, within the reload window), or the error to fail with at once.
 */
export function callableNow(view: CallableView): 'run' | 'wait' | Error {
  const { backend, tool, state } = view;
  if (state === 'CLOSED') return new BackendUnavailableError(backend, 'CLOSED');
  if (state === 'SUSPENDED') return 'run';
  if (state === 'IDLE' || state === 'ATTACHING' || state === 'DETACHED') {
    return new BackendUnavailableError(backend, state, view.lastError);
  }
  if (state === 'READY' && view.current.some((candidate) => candidate.name === tool)) return 'run';
  const known = view.lastKnown.some((candidate) => candidate.name === tool) || view.expected.names.has(tool);
  if (known && view.now < view.expected.until) return 'wait';
  if (state === 'RELOADING' || view.expected.names.has(tool)) {
    return new BackendUnavailableError(
      backend,
      state,
      `the page did not register "${tool}" again within ${view.reloadWaitMs} ms`,
    );
  }
  return new WebMcpToolNotFoundError(backend, tool);
}

/**
 * Resolves once `check()` says `run`; rejects with its error, or with `signal.reason`. `check` is
 * re-run whenever a function in `wakers` is called, and once at `until` (a timer on `clock`).
 */
export function waitUntilCallable(
  check: () => 'run' | 'wait' | Error,
  options: { clock: Clock; until: number; wakers: Set<() => void>; signal?: AbortSignal },
): Promise<void> {
  const { clock, wakers, signal } = options;
  const first = check();
  if (first === 'run') return Promise.resolve();
  if (first instanceof Error) return Promise.reject(first);
  return new Promise<void>((resolve, reject) => {
    const finish = (outcome: 'run' | Error) => {
      wakers.delete(onChange);
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (outcome === 'run') resolve();
      else reject(outcome);
    };
    const onChange = () => {
      const outcome = check();
      if (outcome !== 'wait') finish(outcome);
    };
    const onAbort = () => finish(signal?.reason);
    const timer = clock.setTimeout(onChange, Math.max(0, options.until - clock.now()));
    wakers.add(onChange);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
