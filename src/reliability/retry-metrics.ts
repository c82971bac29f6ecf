export interface OperationRetryMetrics {
  /** Attempts made, the first included. */
  attempts: number;
  /** Operations that ended in success. */
  successes: number;
  /** Operations that ended in failure (aborts included). */
  failures: number;
  /** Milliseconds spent waiting between attempts. */
  totalDelayMs: number;
}

export interface RetryMetricsSnapshot {
  /** Attempts after the first, summed over all operations. */
  totalRetries: number;
  /** Operations that succeeded after at least one retry. */
  successfulRetries: number;
  /** Operations that failed after at least one retry. */
  failedRetries: number;
  /** successfulRetries / (successfulRetries + failedRetries); null when both are 0. */
  successRate: number | null;
  operations: Record<string, OperationRetryMetrics>;
}

/** What one finished `retry()` call reports. */
export interface RetryOutcome {
  operation: string;
  attempts: number;
  succeeded: boolean;
  totalDelayMs: number;
}

/** A registry that `retry({ metrics })` records into. */
export interface RetryMetrics {
  record(outcome: RetryOutcome): void;
  snapshot(): RetryMetricsSnapshot;
}

/** Creates an empty {@link RetryMetrics} registry. */
export function createRetryMetrics(): RetryMetrics {
  let totalRetries = 0;
  let successfulRetries = 0;
  let failedRetries = 0;
  const operations = new Map<string, OperationRetryMetrics>();
  return {
    record({ operation, attempts, succeeded, totalDelayMs }) {
      let entry = operations.get(operation);
      if (!entry) {
        entry = { attempts: 0, successes: 0, failures: 0, totalDelayMs: 0 };
        operations.set(operation, entry);
      }
      entry.attempts += attempts;
      entry.totalDelayMs += totalDelayMs;
      if (succeeded) entry.successes++;
      else entry.failures++;
      if (attempts > 1) {
        totalRetries += attempts - 1;
        if (succeeded) successfulRetries++;
        else failedRetries++;
      }
    },
    snapshot() {
      const finished = successfulRetries + failedRetries;
      return {
        totalRetries,
        successfulRetries,
        failedRetries,
        successRate: finished === 0 ? null : successfulRetries / finished,
        operations: Object.fromEntries([...operations].map(([name, entry]) => [name, { ...entry }])),
      };
    },
  };
}
