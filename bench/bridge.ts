/*
 * Bridge benchmark: the cost of `health()` with 4 and with 100 backends, and a tool call's overhead
 * through the bridge compared with calling the same lab backend directly, against the lab on
 * 127.0.0.1: a direct call and a bridged one, one after the other, 4,000 times (bench/interleave.ts
 * `paired`), so a slow spell of the machine falls on both calls of a pair; printed as median (p25–p75)
 * of the calls and of the difference within each pair. Each call has a floor row: the direct call
 * given only the guards every bridged call has (a timeout timer; for HTTP an AbortSignal, for the
 * socket a write callback). With `BASELINE=<checkout of an earlier commit>`, that version's bridge
 * runs on the same lab and the two are called in alternation (`BASELINE_LABEL` names it). Then the
 * split in process (bench/bridge-split.ts): no network, each piece timed alone.
 * Alone: `npx tsx --expose-gc bench/bridge.ts`.
 */
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import type { BackendConfig, Bridge } from '../src/bridge/index.js';
import { createNodeBridge } from '../src/bridge/node.js';
import { systemClock } from '../src/clock.js';
import { startLab } from '../src/lab/index.js';
import { runBridgeSplit } from './bridge-split.js';
import { paired, pairRow } from './interleave.js';
import { formatTable } from './table.js';

const quiet = { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} };

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('bench setup timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function nsPer(ops: number, fn: () => unknown): number {
  for (let i = 0; i < Math.min(ops, 10_000); i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) fn();
  return Number(process.hrtime.bigint() - start) / ops;
}

/** A started bridge with every backend connected. */
async function connectedBridge(
  create: typeof createNodeBridge,
  backends: Record<string, BackendConfig>,
): Promise<Bridge> {
  const bridge = create({ backends, logger: quiet });
  try {
    await bridge.start();
    await until(() =>
      Object.values(bridge.health().backends).every(
        (b) => b.state === 'CONNECTED' || b.state === 'UP' || b.kind === 'webmcp',
      ),
    );
  } catch (error) {
    await bridge.stop();
    throw error;
  }
  return bridge;
}

/**
 * This version's bridge and the one of the checkout named by `BASELINE` (if any), made alike, side
 * by side on the same lab.
 */
async function versusBaseline(
  backends: Record<string, BackendConfig>,
): Promise<{ current: Bridge; baseline: Bridge; label: string } | undefined> {
  const dir = process.env.BASELINE;
  if (!dir) return undefined;
  const module = (await import(pathToFileURL(`${dir}/src/bridge/node.ts`).href)) as {
    createNodeBridge: typeof createNodeBridge;
  };
  return {
    current: await connectedBridge(createNodeBridge, backends),
    baseline: await connectedBridge(module.createNodeBridge, backends),
    label: process.env.BASELINE_LABEL ?? dir,
  };
}

export async function runBridgeBench(): Promise<void> {
  const lab = await startLab({ wsPort: 0, httpPort: 0 });
  const bridges: Bridge[] = [];
  try {
    const defaults: Record<string, BackendConfig> = {
      evolution: { url: lab.urls.evolution },
      agents: { url: lab.urls.agents },
      a2a: { url: lab.urls.a2a },
      lmStudio: { url: lab.urls.lmStudio },
    };
    const many: Record<string, BackendConfig> = { ...defaults };
    for (let i = 0; i < 96; i++) many[`extra${i}`] = { kind: 'websocket', url: lab.urls.agents };

    const healthRows: string[][] = [];
    for (const [label, backends] of [
      ['4 backends', defaults],
      ['100 backends', many],
    ] as const) {
      const bridge = await connectedBridge(createNodeBridge, backends);
      bridges.push(bridge);
      const ns = nsPer(label === '4 backends' ? 200_000 : 20_000, () => bridge.health());
      healthRows.push([label, `${(ns / 1_000).toFixed(2)}`]);
    }
    console.log(
      formatTable('health() cost (all backends connected)', ['bridge', 'µs per health()'], healthRows),
    );

    const bridge = bridges[0] as Bridge;
    const prompt = { prompt: 'hello lab', max_tokens: 16 };
    /** `send_llm_prompt`'s request made directly (`signal` undefined: fetch reads it as absent). */
    const askDirectly = async (signal?: AbortSignal) => {
      const response = await fetch(`${lab.urls.lmStudio}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'local',
          messages: [{ role: 'user', content: prompt.prompt }],
          max_tokens: 16,
        }),
        signal,
      });
      await response.json();
    };
    const direct = () => askDirectly();
    // The floor of an attempt the bridge guards: the same fetch given an AbortSignal (a controller
    // reused for 8 attempts, as the transport's pool does) and a timeout timer on the clock, nothing
    // else. Node 20's fetch pays for the signal (a listener, a WeakRef and a finalizer per request).
    let guard = new AbortController();
    let guardUses = 0;
    const guardedDirect = async () => {
      if (++guardUses > 8) {
        guard = new AbortController();
        guardUses = 1;
      }
      const controller = guard;
      const timer = systemClock.setTimeout(() => controller.abort(), 30_000);
      try {
        await askDirectly(controller.signal);
      } finally {
        systemClock.clearTimeout(timer);
      }
    };
    /** A tool call through `on` that throws unless it succeeded. */
    const call = (on: Bridge, name: string, args: Record<string, unknown>) => async () => {
      const result = await on.callTool(name, args);
      if (!result.success) throw new Error(`${name} failed: ${result.error}`);
    };
    const viaBridge = call(bridge, 'send_llm_prompt', prompt);
    const socket = new WebSocket(lab.urls.evolution);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    let next = 0;
    // `guarded`: the floor of a request the bridge guards — a timeout timer on the clock and a write
    // callback (how the backend learns that a frame was not written), nothing else.
    const evolve = (guarded: boolean) => () => {
      const requestId = `bench_${next++}`;
      return new Promise<void>((resolve) => {
        const timer = guarded ? systemClock.setTimeout(() => {}, 60_000) : undefined;
        const onMessage = (data: Buffer) => {
          if ((JSON.parse(String(data)) as { requestId?: string }).requestId !== requestId) return;
          socket.off('message', onMessage);
          if (guarded) systemClock.clearTimeout(timer);
          resolve();
        };
        socket.on('message', onMessage);
        const frame = JSON.stringify({
          requestId,
          action: 'evolve',
          seed_shader: 'void main(){}',
          generations: 1,
        });
        if (guarded) socket.send(frame, () => {});
        else socket.send(frame);
      });
    };
    const directEvolve = evolve(false);
    const evolveArgs = { seed_shader: 'void main(){}', generations: 1 };
    const bridgeEvolve = call(bridge, 'trigger_evolution', evolveArgs);
    const pairs = 4_000;
    const http = await paired(direct, viaBridge, { pairs, warmup: 300 });
    const httpFloor = await paired(direct, guardedDirect, { pairs, warmup: 300 });
    const ws = await paired(directEvolve, bridgeEvolve, { pairs, warmup: 300 });
    const wsFloor = await paired(directEvolve, evolve(true), { pairs, warmup: 300 });
    socket.close();
    console.log(
      formatTable(
        `Tool call through the bridge vs the backend called directly (lab on 127.0.0.1), µs per call: median (p25–p75) of ${pairs.toLocaleString('en')} pairs of calls, direct and through the bridge one after the other`,
        [
          'call',
          'direct',
          'through bridge (floor: guarded direct)',
          'overhead (difference within each pair)',
        ],
        [
          pairRow('send_llm_prompt (HTTP)', http),
          pairRow('floor: the direct call with a signal and a timeout', httpFloor),
          pairRow('trigger_evolution (WebSocket)', ws),
          pairRow('floor: the direct call with a timeout and a write callback', wsFloor),
        ],
      ),
    );
    const versus = await versusBaseline(defaults);
    if (versus) {
      bridges.push(versus.current, versus.baseline);
      const cases = [
        ['send_llm_prompt (HTTP)', 'send_llm_prompt', prompt],
        ['trigger_evolution (WebSocket)', 'trigger_evolution', evolveArgs],
      ] as const;
      const rows: string[][] = [];
      for (const [label, name, args] of cases) {
        const p = await paired(call(versus.baseline, name, args), call(versus.current, name, args), {
          pairs,
          warmup: 300,
        });
        rows.push(pairRow(label, p));
      }
      console.log(
        formatTable(
          `This version vs ${versus.label} through the lab: two bridges made alike on one lab, called in alternation, µs per call: median (p25–p75) of ${pairs.toLocaleString('en')} pairs`,
          ['call', versus.label, 'this version', 'this version − baseline (within each pair)'],
          rows,
        ),
      );
    }
    await runBridgeSplit();
  } finally {
    for (const bridge of bridges) await bridge.stop();
    await lab.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runBridgeBench();
  process.exit(0);
}
