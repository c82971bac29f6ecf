/*
 * One call of a page's tool, inside the tab: `executeTool` under a timeout on the injected clock,
 * cancelled in the page when the caller aborts or time runs out, its outcome turned into a
 * `RemoteCallResult` or into the backend's errors.
 */

import type { Clock } from '../../clock.js';
import { BackendUnavailableError, RequestTimeoutError } from '../errors.js';
import type { RemoteCallResult } from '../kind.js';
import { type CdpPageConnection, classifyEvaluateError } from './connection.js';
import { WebMcpPageNavigatedError, WebMcpToolNotFoundError, WebMcpWriteRefusedError } from './errors.js';
import type { PageCallOutcome } from './page-scripts.js';
import { markUntrusted, toCallResult } from './results.js';

export interface PageCallRequest {
  backend: string;
  connection: CdpPageConnection;
  clock: Clock;
  /** Unique among this backend's calls (names the call's AbortController in the page). */
  id: string;
  tool: string;
  args: Record<string, unknown>;
  signal: AbortSignal;
  timeoutMs: number;
  /** The page must find the tool marked readOnlyHint (it is not in `allowWrite`). */
  requireReadOnly: boolean;
  /** The page's origin (for the untrusted-content mark). */
  origin: string;
  /** The listing marks the tool `untrustedContentHint`. */
  listedUntrusted: boolean;
  /** The backend's state now (for errors). */
  state(): string;
  /** True while a navigated page may still register the tool again. */
  inReloadWindow(): boolean;
}

/**
 * Runs the call. Resolves with the result (a tool's own failure is `isError: true`); rejects with
 * the caller's `signal.reason`, `RequestTimeoutError`, `WebMcpPageNavigatedError` (the document
 * changed under the call, or the tool is not back yet), `BackendUnavailableError` (the tab went
 * away), `WebMcpWriteRefusedError`, `WebMcpToolNotFoundError`, or an unexpected CDP error.
 */
export async function runPageCall(request: PageCallRequest): Promise<RemoteCallResult> {
  const { backend, connection, clock, id, tool, signal } = request;
  let timer: unknown;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => {
      connection.abortCall(id);
      reject(new RequestTimeoutError(backend, `${tool} (call ${id})`, request.timeoutMs));
    }, request.timeoutMs);
    onAbort = () => {
      connection.abortCall(id);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  let outcome: PageCallOutcome;
  try {
    outcome = await Promise.race([
      connection.call({ id, name: tool, input: request.args, requireReadOnly: request.requireReadOnly }),
      stop,
    ]);
  } catch (error) {
    if (error === signal.reason || error instanceof RequestTimeoutError) throw error;
    const failure = classifyEvaluateError(error);
    if (failure === 'navigated') throw new WebMcpPageNavigatedError(backend, tool);
    if (failure === 'closed') {
      throw new BackendUnavailableError(backend, request.state(), 'the tab went away during the call');
    }
    throw error;
  } finally {
    clock.clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
  switch (outcome.kind) {
    case 'refused':
      throw new WebMcpWriteRefusedError(backend, tool);
    case 'missing':
      if (request.inReloadWindow()) throw new WebMcpPageNavigatedError(backend, tool);
      throw new WebMcpToolNotFoundError(backend, tool);
    case 'no-model-context':
      throw new BackendUnavailableError(backend, request.state(), 'the page has no document.modelContext');
    case 'error':
      if (outcome.aborted && signal.aborted) throw signal.reason;
      break;
    default:
      break;
  }
  const result = toCallResult(tool, outcome);
  const untrusted =
    request.listedUntrusted ||
    (outcome.kind === 'result' && outcome.annotations?.untrustedContentHint === true);
  return untrusted ? markUntrusted(result, request.origin, tool) : result;
}
