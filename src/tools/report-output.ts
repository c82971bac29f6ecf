/*
 * The shapes of the bridge's reports inside tool answers (`get_os_state`, `reliability_get_status`):
 * the health report, breaker metrics, retry metrics, call counts and the A2A ledger. Nested objects
 * list the fields they always have and allow more (a new backend kind may add to its health line):
 * each tool's own top level is closed.
 */
import { z } from 'zod';

const isoTime = z.string().describe('ISO 8601 time.');
const isoTimeOrNull = isoTime.nullable();
const count = z.number().int().min(0);
const status = z.enum(['pass', 'warn', 'fail']);
const breakerState = z.enum(['CLOSED', 'OPEN', 'HALF_OPEN']);

/** One backend's line of the health report (`BackendHealth`). */
export const backendHealthOutput = z.looseObject({
  kind: z.string(),
  status,
  state: z.string(),
  breaker: breakerState,
  consecutiveFailures: count,
  lastCheckAt: isoTimeOrNull,
  lastSuccessAt: isoTimeOrNull,
  lastError: z.string().nullable(),
  lastErrorAt: isoTimeOrNull.optional(),
  latencyMs: z.number().nullable(),
  critical: z.boolean(),
  recoveringUntil: isoTimeOrNull.optional(),
  throttling: z.boolean().optional(),
  rejectProbability: z.number().min(0).max(1).optional(),
});

/** The health report (`HealthReport`). */
export const healthReportOutput = z.looseObject({
  status,
  checkedAt: isoTime,
  backends: z.record(z.string(), backendHealthOutput),
});

/** One breaker's metrics (`CircuitBreakerMetrics`). */
export const breakerMetricsOutput = z.looseObject({
  name: z.string(),
  state: breakerState,
  consecutiveFailures: count,
  totalSuccesses: count,
  totalFailures: count,
  rejectedCalls: count,
  cancelledCalls: count,
  tripsCount: count,
  openCount: count,
  lastOpenDurationMs: z.number().nullable(),
  timeInStateMs: z.looseObject({ CLOSED: z.number(), OPEN: z.number(), HALF_OPEN: z.number() }),
  transitions: z.array(
    z.looseObject({ from: breakerState, to: breakerState, at: z.number(), reason: z.string() }),
  ),
});

/** Metrics of every backend's breaker, by backend name. */
export const breakersOutput = z.record(z.string(), breakerMetricsOutput);

/** The retry metrics (`RetryMetricsSnapshot`). */
export const retryMetricsOutput = z.looseObject({
  totalRetries: count,
  successfulRetries: count,
  failedRetries: count,
  successRate: z.number().min(0).max(1).nullable(),
  operations: z.record(
    z.string(),
    z.looseObject({ attempts: count, successes: count, failures: count, totalDelayMs: z.number().min(0) }),
  ),
});

/** Call counts by tool name. */
const perTool = z.record(z.string(), count);

/** `get_os_state`'s `tools` section: the tools listed and their call counts. */
export const toolStatsOutput = z.looseObject({
  registered: count,
  names: z.array(z.string()),
  totalCalls: count,
  callBreakdown: perTool,
  failureBreakdown: perTool,
});

const queuedMessage = z.looseObject({
  message_id: z.string(),
  to_agent: z.string(),
  message_type: z.string(),
  queuedAt: isoTime,
  failedAt: isoTime.optional(),
  error: z.string().optional(),
});

/** The A2A ledger (`A2ALedgerSnapshot`). */
export const a2aLedgerOutput = z.looseObject({
  pending: count,
  delivered: count,
  failed: count,
  undelivered: z.array(queuedMessage),
  waiting: z.array(queuedMessage),
});
