/* Shared helpers of the MCP upstream tests and the gateway bench. */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendDeps, BackendLogger } from '../src/backends/kind.js';
import { type Clock, systemClock } from '../src/clock.js';
import { createRetryBudget } from '../src/reliability/retry-budget.js';
import { createRetryMetrics } from '../src/reliability/retry-metrics.js';
import { createReliabilityEventHub } from '../src/telemetry/events.js';
import { until } from './support/net.js';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

/** Entry point of an installed reference server (`everything`, `memory`, `filesystem`). */
export function referenceServer(name: 'everything' | 'memory' | 'filesystem'): string {
  return join(
    dirname(require.resolve(`@modelcontextprotocol/server-${name}/package.json`)),
    'dist',
    'index.js',
  );
}

/** The lab upstream script (faults on demand). */
export const LAB_UPSTREAM = join(here, 'fixtures', 'mcp-lab-upstream.mjs');

/** A logger that keeps every entry (message and details) for assertions. */
export function recordingLogger(): BackendLogger & { entries: string[] } {
  const entries: string[] = [];
  const record = (level: string) => (message: string, details?: Record<string, unknown>) => {
    entries.push(`${level} ${message} ${details ? JSON.stringify(details) : ''}`);
  };
  return {
    entries,
    warn: record('warn'),
    info: record('info'),
    error: record('error'),
    debug: record('debug'),
  };
}

/** What the bridge would give a backend. */
export function testDeps(overrides: Partial<BackendDeps> & { clock?: Clock } = {}): BackendDeps {
  const clock = overrides.clock ?? systemClock;
  return {
    clock,
    random: Math.random,
    logger: recordingLogger(),
    critical: false,
    retryMetrics: createRetryMetrics(),
    budget: createRetryBudget({ clock }),
    events: createReliabilityEventHub(() => clock.now()),
    ...overrides,
  };
}

/** Resolves once `check()` is true, polling on real time; rejects after `timeoutMs`. */
/** `until` with a longer default: MCP servers start child processes. */
export const waitFor = (check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> =>
  until(check, timeoutMs, what);

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The live processes in process group `pgid` (zombies excluded), with their command lines. */
export function groupProcesses(pgid: number): { pid: number; args: string }[] {
  const output = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  const found: { pid: number; args: string }[] = [];
  for (const line of output.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (match && Number(match[2]) === pgid && !match[3]?.startsWith('Z'))
      found.push({ pid: Number(match[1]), args: match[4] ?? '' });
  }
  return found;
}

/** Pids of the live processes in process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  return groupProcesses(pgid).map((p) => p.pid);
}

/** The server process in a reaper's group: the one running `script`. */
export function serverIn(pgid: number, script: string): number {
  const server = groupProcesses(pgid).find((p) => p.pid !== pgid && p.args.includes(script));
  if (!server) throw new Error(`no process running ${script} in group ${pgid}`);
  return server.pid;
}
