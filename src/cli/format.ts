/** Text forms of the health report for the CLI. */
import type { BackendHealth } from '../backends/types.js';
import type { HealthReport } from '../bridge/types.js';

const MARK: Record<string, string> = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL' };

/** One line per backend, after a summary line. */
export function formatHealthReport(report: HealthReport): string {
  const names = Object.keys(report.backends);
  const width = Math.max(8, ...names.map((name) => name.length));
  const lines = [`health: ${report.status} (${report.checkedAt})`];
  for (const name of names) {
    const line = report.backends[name] as BackendHealth;
    const parts = [
      `  ${MARK[line.status] ?? line.status}`,
      name.padEnd(width),
      line.kind.padEnd(9),
      line.state.padEnd(12),
      `breaker ${line.breaker}`,
    ];
    if (line.critical) parts.push('critical');
    if (line.latencyMs !== null) parts.push(`${Math.round(line.latencyMs)} ms`);
    if (line.lastError && line.status !== 'pass')
      parts.push(`— ${line.lastError}${line.lastErrorAt ? ` (at ${line.lastErrorAt})` : ''}`);
    lines.push(parts.join('  '));
  }
  return `${lines.join('\n')}\n`;
}

/** A single line: overall status and each backend's status/state, e.g. for a terminal status bar. */
export function formatHealthSummary(report: HealthReport): string {
  const parts = Object.entries(report.backends).map(([name, line]) => {
    const breaker = line.breaker === 'CLOSED' ? '' : ` ${line.breaker}`;
    return `${name} ${line.status === 'pass' ? 'ok' : line.status} ${line.state}${breaker}`;
  });
  return `health ${report.status} | ${parts.join(' · ')}`;
}
