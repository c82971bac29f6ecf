/*
 * Progress of one tool call: numbers the caller's reports 1, 2, 3… and words each retry wait
 * ("attempt 1 failed (503); retrying in 4000 ms, attempt 2 of 4"). A call without `onProgress` gets
 * the shared no-op and no retry hook, so nothing is built for it.
 */
import type { RetryInfo } from '../reliability/retry.js';
import { errorCodeOf } from '../tools/errors.js';
import type { ToolProgress } from '../tools/types.js';

export interface CallProgress {
  progress(message: string): void;
  onRetry: ((info: RetryInfo) => void) | undefined;
}

const SILENT: CallProgress = { progress: () => {}, onRetry: undefined };

/** Why an attempt failed, short: the HTTP status when there is one, else the tool error code. */
function failureOf(error: unknown): string {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? String(status) : errorCodeOf(error);
}

/** The words of one retry wait. */
export function retryMessage(info: RetryInfo): string {
  return `attempt ${info.attempt} failed (${failureOf(info.error)}); retrying in ${Math.round(info.delayMs)} ms, attempt ${info.attempt + 1} of ${info.maxAttempts}`;
}

/** The progress reporter of one call to `onProgress` (a listener that throws is ignored). */
export function callProgress(onProgress: ((progress: ToolProgress) => void) | undefined): CallProgress {
  if (!onProgress) return SILENT;
  let count = 0;
  const progress = (message: string) => {
    try {
      onProgress({ progress: ++count, message });
    } catch {
      // The caller's listener failed: the call goes on.
    }
  };
  return { progress, onRetry: (info) => progress(retryMessage(info)) };
}
