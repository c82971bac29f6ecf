/*
 * `npm run bench`: every benchmark in one run, each printing its own tables. Run with --expose-gc.
 * `BENCH=breaker` (or `socket`, `bridge`, `storm`, `mcp`, a comma-separated list) runs one part.
 */
import { runBreakerBench } from './breaker.js';
import { runBridgeBench } from './bridge.js';
import { runMcpGatewayBench } from './mcp-gateway.js';
import { runSocketBench } from './socket.js';
import { runStormBench } from './storm-report.js';

const parts: Record<string, () => Promise<void>> = {
  breaker: runBreakerBench,
  socket: runSocketBench,
  bridge: runBridgeBench,
  storm: runStormBench,
  mcp: runMcpGatewayBench,
};
const selected = (process.env.BENCH ?? Object.keys(parts).join(',')).split(',');
console.log(`# mcp-lifeline benchmarks — ${new Date().toISOString()}`);
console.log(
  `Node ${process.version}, ${process.platform}/${process.arch}, ${(await import('node:os')).cpus().length} cores`,
);
for (const name of selected) {
  const run = parts[name.trim()];
  if (!run) throw new Error(`unknown benchmark part "${name}"; known: ${Object.keys(parts).join(', ')}`);
  console.log(`\n## ${name.trim()}`);
  await run();
}
process.exit(0);
