import { z } from 'zod';
import { breakersOutput, healthReportOutput, retryMetricsOutput, toolStatsOutput } from './report-output.js';
import type { ToolDefinition } from './types.js';

export const OS_STATE_SECTIONS = ['bridge', 'tools', 'health', 'retries', 'breakers', 'all'] as const;

export const getOsStateInput = z.object({
  include: z
    .array(z.enum(OS_STATE_SECTIONS))
    .optional()
    .describe('Sections to return (default all): bridge, tools, health, retries, breakers.'),
});

/** `get_os_state`'s answer: the timestamp and the sections asked for. */
export const getOsStateOutput = z.object({
  timestamp: z.string().describe('ISO time of the answer.'),
  bridge: z
    .looseObject({
      state: z.string(),
      startedAt: z.string().nullable(),
      uptimeMs: z.number(),
      backends: z.array(z.string()),
      healthCheckIntervalMs: z.number(),
    })
    .optional()
    .describe('The orchestrator: state, start time, uptime, backend names, health check interval.'),
  tools: toolStatsOutput.optional().describe('Tools listed and their call and failure counts.'),
  health: healthReportOutput.optional().describe('The health report.'),
  retries: retryMetricsOutput.optional().describe('Retry metrics.'),
  breakers: breakersOutput.optional().describe('Breaker metrics per backend.'),
});

/**
 * `get_os_state`: the bridge's state in one answer: `{ timestamp, bridge, tools: { registered, names,
 * totalCalls, callBreakdown, failureBreakdown }, health, retries, breakers }` (only the sections asked for).
 */
export function getOsStateTool(): ToolDefinition<typeof getOsStateInput> {
  return {
    name: 'get_os_state',
    title: 'Bridge state',
    annotations: { readOnlyHint: true, openWorldHint: false },
    description:
      'State of the bridge: health of every backend, tool call counts, retry metrics and circuit breakers.',
    inputSchema: getOsStateInput,
    outputSchema: getOsStateOutput,
    handler({ include }, { bridge, clock }) {
      const wanted = new Set(include ?? ['all']);
      const all = wanted.has('all');
      const has = (section: (typeof OS_STATE_SECTIONS)[number]) => all || wanted.has(section);
      const now = clock.now();
      const result: Record<string, unknown> = { timestamp: new Date(now).toISOString() };
      if (has('bridge')) {
        result.bridge = {
          state: bridge.state,
          startedAt: bridge.startedAt === null ? null : new Date(bridge.startedAt).toISOString(),
          uptimeMs: bridge.startedAt === null ? 0 : now - bridge.startedAt,
          backends: bridge.backendNames(),
          healthCheckIntervalMs: bridge.healthCheckIntervalMs,
        };
      }
      if (has('tools')) {
        const names = bridge.toolNames();
        result.tools = { registered: names.length, names, ...bridge.toolCalls() };
      }
      if (has('health')) result.health = bridge.health();
      if (has('retries')) result.retries = bridge.retryMetrics.snapshot();
      if (has('breakers')) {
        const breakers: Record<string, unknown> = {};
        for (const name of bridge.backendNames()) {
          const backend = bridge.backend(name);
          if (backend) breakers[name] = backend.breaker.metrics();
        }
        result.breakers = breakers;
      }
      return result;
    },
  };
}
