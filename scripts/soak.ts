/*
 * Soak: `npm run soak -- --minutes 10` (or `--seconds N`).
 *
 * Starts the lab (random ports), a bridge pointed at it and clients making ~200 tool calls per second
 * (a mix of every tool, a few with bad arguments) while the lab's backends flap at random: down/up,
 * latency, 503 with Retry-After, silent and injected errors (the a2a router only goes down, gets slow
 * or answers 503: a silent router drops frames by design, which no sender can detect). Prints every
 * `--every` seconds and at the end: calls, errors by code, p50/p99 latency, heap over time (after a
 * GC when one is exposed: the npm script runs `tsx --expose-gc`) and A2A messages accepted versus
 * delivered, each checked by its sequence number (missing and duplicated ones are counted). Delivery is
 * at least once (a message written just before a reset is written again after the reconnect) and the
 * router deduplicates by `message_id`: the copies it dropped are reported apart, as expected.
 *
 * After the run every fault is cleared and the bridge drains its queues; then the exit code is 1 if an
 * accepted A2A message was lost or recorded twice by the router, or if the heap grew more than `--heap-bound-mb`
 * (default 24) from the first sample after warm-up to the end.
 *
 * `runSoak()` is exported for test/soak.test.ts.
 */
import type { SocketBackend } from '../src/backends/socket.js';
import { createNodeBridge } from '../src/bridge/node.js';
import type { ToolResult } from '../src/bridge/types.js';
import { isMainModule } from '../src/is-main.js';
import { type FaultPatch, type Lab, type LabBackend, mulberry32, startLab } from '../src/lab/index.js';
import { findGc } from './gc.js';

export interface SoakOptions {
  seconds: number;
  /** Seconds between progress lines. Default 10. */
  everySeconds?: number;
  /** Tool calls started per second. Default 200. */
  rate?: number;
  seed?: number;
  /** Allowed heap growth from the first sample after warm-up to the end, in MiB. Default 24. */
  heapBoundMb?: number;
  /** Where lines go. Default console.log. */
  log?: (line: string) => void;
}

export interface SoakReport {
  seconds: number;
  calls: number;
  successes: number;
  errors: Record<string, number>;
  /** Calls not started because too many were in flight. */
  skipped: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Heap used (MiB) at each progress line, after a GC when one is available. */
  heapMb: number[];
  heapGrowthMb: number;
  gc: boolean;
  a2a: {
    sent: number;
    delivered: number;
    missing: number;
    /** Missing ones that had been answered `queued: true` (the bridge's queue promised delivery). */
    missingQueued: number;
    /** Missing ones answered `queued: false`: written to an open socket that the router then reset. */
    missingWritten: number;
    /** Recorded twice by the router (its deduplication failed): a problem. */
    duplicates: number;
    /** Copies the router received again and dropped by `message_id` (at-least-once resends): fine. */
    routerDuplicates: number;
    queuedAnswers: number;
  };
  faultsApplied: number;
  problems: string[];
  ok: boolean;
}

/** Latencies in logarithmic buckets (5 % wide): constant memory for any run length. */
class Histogram {
  private readonly counts = new Float64Array(400);
  private total = 0;
  max = 0;
  add(ms: number): void {
    const index = Math.min(this.counts.length - 1, Math.floor(Math.log1p(Math.max(0, ms)) / Math.log(1.05)));
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.total++;
    if (ms > this.max) this.max = ms;
  }
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.max, 1.05 ** (i + 1) - 1);
    }
    return this.max;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => bytes / 1048576;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const seconds = options.seconds;
  const everyMs = (options.everySeconds ?? 10) * 1000;
  const rate = options.rate ?? 200;
  // Two streams from the seed: the calls' mix, and the faults. The fault schedule is then the same
  // sequence on every machine, however many calls a slow one fitted between two flaps.
  const random = mulberry32(options.seed ?? 1);
  const faultRandom = mulberry32(((options.seed ?? 1) ^ 0x9e3779b9) >>> 0);
  const heapBoundMb = options.heapBoundMb ?? 24;
  const log = options.log ?? ((line: string) => console.log(line));
  const gc = findGc();
  const heapNow = () => {
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  };

  const lab: Lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0, seed: options.seed ?? 1 });
  const socketOptions = {
    retry: { maxDelayMs: 1_000 },
    heartbeat: { intervalMs: 1_000, timeoutMs: 1_000 },
    connectTimeoutMs: 1_000,
    // A request whose frame the lab dropped while "silent" waits for its reply timeout: keep it well
    // inside the drain (the defaults are 60 s for evolution and 10 s for agents).
    requestTimeoutMs: 5_000,
  };
  let warnings = 0;
  const bridge = createNodeBridge({
    logger: {
      warn: () => {
        warnings++;
      },
      error: () => {
        warnings++;
      },
    },
    healthCheckIntervalMs: 2_000,
    surface: false, // no WebMCP/MCP surface here: health reflects the backends only
    backends: {
      evolution: { url: lab.urls.evolution, options: socketOptions },
      agents: { url: lab.urls.agents, options: socketOptions },
      a2a: { url: lab.urls.a2a, options: { ...socketOptions, queueLimit: 5_000 } },
      lmStudio: {
        url: lab.urls.lmStudio,
        options: { requestTimeoutMs: 2_000, probeTimeoutMs: 1_000, probeIntervalMs: 2_000 },
      },
    },
  });
  await bridge.start();

  // A2A: each accepted message carries its sequence number; the lab's copies are checked off here.
  const maxMessages = Math.ceil(seconds * rate * 1.2) + 1_000;
  const accepted = new Uint8Array(maxMessages);
  const seen = new Uint8Array(maxMessages);
  const queuedSeq = new Uint8Array(maxMessages);
  let a2aSeq = 0;
  let a2aSent = 0;
  let a2aDelivered = 0;
  let a2aDuplicates = 0;
  let queuedAnswers = 0;
  const collect = () => {
    for (const envelope of lab.a2a.received()) {
      const seq = (envelope.content as { seq?: unknown }).seq;
      if (typeof seq !== 'number' || seq < 0 || seq >= maxMessages) continue;
      if (seen[seq]) a2aDuplicates++;
      else {
        seen[seq] = 1;
        a2aDelivered++;
      }
    }
    lab.a2a.clear();
  };

  const histogram = new Histogram();
  const errors: Record<string, number> = {};
  let calls = 0;
  let successes = 0;
  let skipped = 0;
  let inFlight = 0;
  /** Calls in flight by tool name, so that a stuck drain says which tools are stuck. */
  const inFlightByTool = new Map<string, number>();
  const track = (name: string, delta: number) =>
    inFlightByTool.set(name, (inFlightByTool.get(name) ?? 0) + delta);
  const MAX_IN_FLIGHT = 5_000;

  const callArgs = (): [string, unknown] => {
    const r = random();
    if (r < 0.02) return ['send_llm_prompt', { prompt: 42 }]; // bad arguments
    if (r < 0.1) return ['get_os_state', random() < 0.5 ? {} : { include: ['health', 'tools'] }];
    if (r < 0.18) return ['reliability_get_status', {}];
    if (r < 0.4) return ['send_llm_prompt', { prompt: `soak ${calls}`, max_tokens: 16 }];
    if (r < 0.55) return ['trigger_evolution', { seed_shader: 'void main(){}', generations: 2 }];
    if (r < 0.7)
      return ['spawn_area_agent', { agent_type: 'monitor', region: { x: 0, y: 0, width: 8, height: 8 } }];
    return ['a2a', null];
  };

  const startCall = () => {
    if (inFlight >= MAX_IN_FLIGHT) {
      skipped++;
      return;
    }
    let [name, args] = callArgs();
    let seq = -1;
    if (name === 'a2a') {
      if (a2aSeq >= maxMessages) return;
      seq = a2aSeq++;
      name = 'send_a2a_message';
      args = { to_agent: 'soak-peer', message_type: 'task_update', content: { seq } };
    }
    calls++;
    inFlight++;
    track(name, 1);
    const started = performance.now();
    bridge.callTool(name, args).then(
      (result: ToolResult) => {
        inFlight--;
        track(name, -1);
        histogram.add(performance.now() - started);
        if (result.success) {
          successes++;
          if (seq >= 0) {
            accepted[seq] = 1;
            a2aSent++;
            if (result.queued === true) {
              queuedAnswers++;
              queuedSeq[seq] = 1;
            }
          }
        } else errors[result.error_code] = (errors[result.error_code] ?? 0) + 1;
      },
      (error: unknown) => {
        inFlight--;
        track(name, -1);
        errors.REJECTED = (errors.REJECTED ?? 0) + 1;
        log(`callTool rejected: ${String(error)}`);
      },
    );
  };

  // Faults: a random backend gets a random fault for 0.5–4 s, about every 1.5 s; at most two at once.
  // The first one is always the a2a router down for 2 s, so every run sends A2A messages into the
  // bridge's queue (answered `queued: true`) and checks that they arrive after the reconnect.
  const active = new Map<LabBackend, NodeJS.Timeout>();
  let faultsApplied = 0;
  const faultFor = (backend: LabBackend): FaultPatch => {
    const r = faultRandom();
    if (r < 0.35) return { down: true };
    if (r < 0.55) return { latencyMs: Math.round(50 + faultRandom() * 600) };
    if (r < 0.7) return { status503: { retryAfterSeconds: faultRandom() < 0.5 ? 0 : 1 } };
    if (backend === 'a2a') return { down: true };
    if (r < 0.85) return { silent: true };
    return { errorRate: 0.3 };
  };
  const flap = () => {
    if (active.size >= 2) return;
    const names: LabBackend[] = ['evolution', 'agents', 'a2a', 'lmStudio'];
    const opening = faultsApplied === 0;
    const backend = opening ? 'a2a' : (names[Math.floor(faultRandom() * names.length)] as LabBackend);
    if (active.has(backend)) return;
    lab.fault(backend, opening ? { down: true } : faultFor(backend));
    faultsApplied++;
    const timer = setTimeout(
      () => {
        active.delete(backend);
        lab.clear(backend);
      },
      opening ? 2_000 : 500 + faultRandom() * 3_500,
    );
    active.set(backend, timer);
  };

  const heapMb: number[] = [];
  const startedAt = Date.now();
  const endAt = startedAt + seconds * 1000;
  const tickMs = 10;
  let due = 0;
  let lastTick = performance.now();
  let nextFlap = startedAt + 1_000;
  let nextReport = startedAt + everyMs;
  let lastCalls = 0;
  const line = (label: string) => {
    collect();
    const heap = mib(heapNow());
    heapMb.push(Number(heap.toFixed(1)));
    const elapsed = (Date.now() - startedAt) / 1000;
    const codes = Object.entries(errors)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    const faults = Object.entries(lab.faults())
      .filter(([, f]) => f.down || f.silent || f.latencyMs > 0 || f.status503 || f.errorRate > 0)
      .map(([name]) => name)
      .join(',');
    log(
      `[${label.padStart(6)}] ${elapsed.toFixed(0)}s calls ${calls} (+${calls - lastCalls}) ok ${successes} ` +
        `errors {${codes}} p50 ${histogram.percentile(50).toFixed(1)}ms p99 ${histogram.percentile(99).toFixed(0)}ms ` +
        `heap ${heap.toFixed(1)} MiB in-flight ${inFlight} a2a sent ${a2aSent} delivered ${a2aDelivered} ` +
        `faults [${faults}] health ${bridge.health().status}`,
    );
    lastCalls = calls;
  };

  log(
    `soak: ${seconds}s at ${rate} calls/s, lab ws :${lab.ports.ws} http :${lab.ports.http}, gc ${gc ? 'exposed' : 'not available'}`,
  );
  while (Date.now() < endAt) {
    await sleep(tickMs);
    const now = performance.now();
    due += ((now - lastTick) / 1000) * rate;
    lastTick = now;
    while (due >= 1) {
      due--;
      startCall();
    }
    if (Date.now() >= nextFlap) {
      flap();
      nextFlap = Date.now() + 500 + faultRandom() * 2_000;
    }
    if (Date.now() >= nextReport) {
      line('run');
      nextReport += everyMs;
    }
  }

  // Drain: every fault cleared, the backends up, queues and calls in flight settled.
  for (const timer of active.values()) clearTimeout(timer);
  active.clear();
  lab.clear();
  log('soak: load stopped; faults cleared, draining…');
  const drainStarted = Date.now();
  const a2aSocket = bridge.backend('a2a') as SocketBackend;
  while (Date.now() - drainStarted < 15_000) {
    collect();
    if (inFlight === 0 && a2aSocket.queueLength === 0 && a2aDelivered + a2aDuplicates >= a2aSent) break;
    await sleep(100);
  }
  await sleep(500);
  line('drain');

  let missing = 0;
  let missingQueued = 0;
  for (let i = 0; i < a2aSeq; i++) {
    if (!accepted[i] || seen[i]) continue;
    missing++;
    if (queuedSeq[i]) missingQueued++;
  }
  const ledger = (await bridge.callTool('reliability_get_status', {})) as { a2a?: { failed?: number } };
  if (missing > 0)
    log(
      `soak: ${missing} accepted A2A messages never arrived (${missingQueued} answered queued, ${missing - missingQueued} answered written); ` +
        `lab dropped ${lab.stats().ws.a2a.dropped} a2a frames; bridge ledger reports ${ledger.a2a?.failed ?? 0} undelivered`,
    );
  const routerDuplicates = lab.stats().a2a.duplicates;
  const heapGrowthMb = heapMb.length >= 2 ? (heapMb.at(-1) as number) - (heapMb[0] as number) : 0;
  const problems: string[] = [];
  if (missing > 0 || a2aDelivered !== a2aSent)
    problems.push(`A2A: ${a2aSent} accepted, ${a2aDelivered} delivered, ${missing} missing`);
  if (a2aDuplicates > 0) problems.push(`A2A: ${a2aDuplicates} recorded twice by the router`);
  if (heapGrowthMb > heapBoundMb)
    problems.push(`heap grew ${heapGrowthMb.toFixed(1)} MiB (bound ${heapBoundMb} MiB)`);
  if (errors.REJECTED) problems.push(`${errors.REJECTED} callTool promises rejected`);
  if (inFlight > 0) {
    const stuck = [...inFlightByTool]
      .filter(([, count]) => count > 0)
      .map(([tool, count]) => `${tool} ${count}`);
    problems.push(`${inFlight} calls still in flight after the drain (${stuck.join(', ')})`);
  }

  await bridge.stop();
  await lab.stop();

  const report: SoakReport = {
    seconds,
    calls,
    successes,
    errors: { ...errors },
    skipped,
    p50Ms: Number(histogram.percentile(50).toFixed(1)),
    p99Ms: Number(histogram.percentile(99).toFixed(1)),
    maxMs: Number(histogram.max.toFixed(1)),
    heapMb,
    heapGrowthMb: Number(heapGrowthMb.toFixed(1)),
    gc: gc !== null,
    a2a: {
      sent: a2aSent,
      delivered: a2aDelivered,
      missing,
      missingQueued,
      missingWritten: missing - missingQueued,
      duplicates: a2aDuplicates,
      routerDuplicates,
      queuedAnswers,
    },
    faultsApplied,
    problems,
    ok: problems.length === 0,
  };
  log(
    [
      'soak summary',
      `  duration        ${seconds}s, ${faultsApplied} faults injected, ${warnings} bridge warnings`,
      `  calls           ${calls} (${(calls / seconds).toFixed(0)}/s), ${successes} ok, ${skipped} skipped`,
      `  errors by code  ${JSON.stringify(errors)}`,
      `  latency         p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms, max ${report.maxMs} ms`,
      `  heap (MiB)      ${heapMb.join(' → ')} (growth ${report.heapGrowthMb} MiB, ${gc ? 'after gc' : 'no gc'})`,
      `  a2a             ${a2aSent} accepted (${queuedAnswers} queued), ${a2aDelivered} delivered, ${missing} missing, ${a2aDuplicates} recorded twice; ${routerDuplicates} resent copies dropped by the router (expected)`,
      `  result          ${report.ok ? 'OK' : `FAILED: ${problems.join('; ')}`}`,
    ].join('\n'),
  );
  return report;
}

function parseCli(argv: string[]): SoakOptions {
  const options: SoakOptions = { seconds: 60 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = Number(argv[i + 1]);
    const need = () => {
      if (!Number.isFinite(value) || value <= 0) throw new Error(`${arg} needs a positive number`);
      i++;
      return value;
    };
    if (arg === '--minutes') options.seconds = need() * 60;
    else if (arg === '--seconds') options.seconds = need();
    else if (arg === '--every') options.everySeconds = need();
    else if (arg === '--rate') options.rate = need();
    else if (arg === '--seed') options.seed = need();
    else if (arg === '--heap-bound-mb') options.heapBoundMb = need();
    else if (arg === '-h' || arg === '--help') {
      console.log(
        'Usage: npm run soak -- [--minutes N | --seconds N] [--every S] [--rate CALLS_PER_S] [--seed N] [--heap-bound-mb MB]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

if (isMainModule(import.meta.url)) {
  let options: SoakOptions;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`soak: ${(error as Error).message}`);
    process.exit(2);
  }
  runSoak(options).then(
    (report) => process.exit(report.ok ? 0 : 1),
    (error: unknown) => {
      console.error('soak failed:', error);
      process.exit(1);
    },
  );
}
