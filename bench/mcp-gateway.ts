/*
 * MCP gateway overhead and recovery: `npx tsx bench/mcp-gateway.ts` (or `runMcpGatewayBench()`).
 *
 * 1. Overhead: the same tool call (lab upstream, stdio) made through an `mcp` backend (machine check,
 *    breaker, retry wrapper for read-only tools, clock timeout) and directly with the SDK `Client` on
 *    another process of the same server. Rounds interleave the two (order alternating) so load drifts
 *    hit both; each round's mean per call is one sample; the table gives median and spread (p10–p90).
 * 2. Recovery: the server is SIGKILLed; time to READY and to the first successful call again, and the
 *    share of it that is the server's own start (INITIALIZING → READY: Node booting the SDK).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type McpBackend, mcpConfigSchema, mcpKind } from '../src/backends/mcp/index.js';
import { LAB_UPSTREAM, serverIn, testDeps, waitFor } from '../test/mcp-support.js';
import { formatTable } from './table.js';

const ROUNDS = Number(process.env.MCP_BENCH_ROUNDS ?? 30);
const CALLS_PER_ROUND = Number(process.env.MCP_BENCH_CALLS ?? 50);
const RECOVERIES = Number(process.env.MCP_BENCH_RECOVERIES ?? 5);

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))] as number;
};
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;

async function timed(calls: number, call: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < calls; i++) await call();
  return (performance.now() - start) / calls;
}

async function overhead(backend: McpBackend, direct: Client): Promise<string[][]> {
  const rows: string[][] = [];
  for (const tool of ['echo', 'counter'] as const) {
    const args = tool === 'echo' ? { text: 'hello' } : {};
    const viaBackend = () => backend.callTool(tool, args);
    const viaClient = () => direct.callTool({ name: tool, arguments: args });
    await timed(CALLS_PER_ROUND, viaBackend); // warm-up
    await timed(CALLS_PER_ROUND, viaClient);
    const a: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        a.push(await timed(CALLS_PER_ROUND, viaBackend));
        b.push(await timed(CALLS_PER_ROUND, viaClient));
      } else {
        b.push(await timed(CALLS_PER_ROUND, viaClient));
        a.push(await timed(CALLS_PER_ROUND, viaBackend));
      }
    }
    const diffs = a.map((value, i) => value - (b[i] as number));
    const medianA = quantile(a, 0.5);
    const medianB = quantile(b, 0.5);
    const medianDiff = quantile(diffs, 0.5);
    rows.push([
      `${tool}${tool === 'echo' ? ' (read-only: breaker + retry)' : ' (breaker only)'}`,
      `${us(medianB)} (${us(quantile(b, 0.1))}–${us(quantile(b, 0.9))})`,
      `${us(medianA)} (${us(quantile(a, 0.1))}–${us(quantile(a, 0.9))})`,
      `${us(medianDiff)} (${us(quantile(diffs, 0.1))}–${us(quantile(diffs, 0.9))})`,
      `${((medianDiff / medianB) * 100).toFixed(1)} %`,
    ]);
  }
  return rows;
}

async function recovery(backend: McpBackend): Promise<string[][]> {
  const rows: string[][] = [];
  for (let i = 0; i < RECOVERIES; i++) {
    await new Promise((resolve) => setTimeout(resolve, 600)); // outlive minUptime: a quick restart
    const victim = serverIn(backend.pid as number, LAB_UPSTREAM);
    let initializingAt = 0;
    let restartingAt = 0;
    const unsubscribe = backend.subscribe(() => {
      if (backend.state === 'RESTARTING' && restartingAt === 0) restartingAt = performance.now();
      if (backend.state === 'INITIALIZING' && initializingAt === 0) initializingAt = performance.now();
    });
    const killedAt = performance.now();
    process.kill(victim, 'SIGKILL');
    await waitFor(() => backend.state === 'READY' && initializingAt > 0, 30_000, 'READY');
    const readyAt = performance.now();
    await backend.callTool('echo', { text: 'back' });
    const servingAt = performance.now();
    unsubscribe();
    rows.push([
      String(i + 1),
      `${(restartingAt - killedAt).toFixed(0)} ms`,
      `${(initializingAt - restartingAt).toFixed(0)} ms`,
      `${(readyAt - initializingAt).toFixed(0)} ms`,
      `${(readyAt - killedAt).toFixed(0)} ms`,
      `${(servingAt - killedAt).toFixed(0)} ms`,
    ]);
  }
  return rows;
}

/** Runs both parts and prints their tables. */
export async function runMcpGatewayBench(): Promise<void> {
  const config = mcpConfigSchema.parse({
    kind: 'mcp',
    command: process.execPath,
    args: [LAB_UPSTREAM],
    minUptimeMs: 500,
  });
  const backend = mcpKind.create('lab', config, testDeps()) as McpBackend;
  backend.start();
  const direct = new Client({ name: 'bench-direct', version: '1.0.0' });
  await direct.connect(new StdioClientTransport({ command: process.execPath, args: [LAB_UPSTREAM] }));
  await waitFor(() => backend.state === 'READY', 30_000, 'READY');
  try {
    console.log(
      formatTable(
        `Call overhead: ${ROUNDS} interleaved rounds × ${CALLS_PER_ROUND} sequential calls; per call, median (p10–p90)`,
        ['tool', 'SDK client direct', 'through the mcp backend', 'difference', 'overhead'],
        await overhead(backend, direct),
      ),
    );
    console.log(
      formatTable(
        'Recovery after SIGKILL of the server (real clock, default backoff)',
        [
          '#',
          'kill → RESTARTING',
          'backoff + spawn',
          'server start (→ READY)',
          'kill → READY',
          'kill → first answer',
        ],
        await recovery(backend),
      ),
    );
  } finally {
    await direct.close();
    await backend.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMcpGatewayBench();
  process.exit(0);
}
