/*
 * Faults of MCP upstreams: a server SIGKILLed mid-run, a crash loop (manual clock driving the
 * backoff), garbage on stdout, hanging tools (timeout, cancellation, breaker), isolation between
 * upstreams, redaction of secrets, and no orphan process after stop or after the bridge is SIGKILLed.
 * Real processes: the lab upstream (test/fixtures/mcp-lab-upstream.mjs) and server-everything.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { type McpBackend, mcpConfigSchema, mcpKind } from '../src/backends/mcp/index.js';
import { createManualClock } from '../src/clock.js';
import {
  alive,
  groupMembers,
  LAB_UPSTREAM,
  recordingLogger,
  referenceServer,
  serverIn,
  testDeps,
  waitFor,
} from './mcp-support.js';

const backends: McpBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.stop()));
}, 60_000);

function lab(name: string, extra: Record<string, unknown> = {}, deps = testDeps()) {
  const config = mcpConfigSchema.parse({
    kind: 'mcp',
    command: process.execPath,
    args: [LAB_UPSTREAM],
    ...extra,
  });
  const backend = mcpKind.create(name, config, deps) as McpBackend;
  backends.push(backend);
  return backend;
}

const ready = (backend: McpBackend) =>
  waitFor(() => backend.state === 'READY', 15_000, `${backend.name} READY`);
/** The lab server under the backend's reaper. */
const serverPid = (backend: McpBackend) => serverIn(backend.pid as number, LAB_UPSTREAM);

test('a server SIGKILLed mid-run is READY again within 2 s; calls in between answer at once', async () => {
  const backend = lab('lab', { minUptimeMs: 200 });
  backend.start();
  await ready(backend);
  await new Promise((resolve) => setTimeout(resolve, 300)); // outlive minUptime: a quick restart
  const inFlight = backend.callTool('slow', { ms: 10_000 }).catch((e: unknown) => e);
  const victim = serverPid(backend);
  const killedAt = Date.now();
  let initializingAt = 0;
  backend.subscribe(() => {
    if (backend.state === 'INITIALIZING' && initializingAt === 0) initializingAt = Date.now();
  });
  process.kill(victim, 'SIGKILL');
  await waitFor(() => backend.state === 'RESTARTING', 5_000, 'RESTARTING');
  // The call in flight: BACKEND_UNAVAILABLE with when to come back (the SDK's error as its cause).
  expect(await inFlight).toMatchObject({ name: 'BackendUnavailableError', cause: { name: 'McpError' } });
  expect(((await inFlight) as { retryAfterMs: number }).retryAfterMs).toBeGreaterThanOrEqual(0);
  const askedAt = Date.now();
  const refused = await backend.callTool('echo', { text: 'x' }).catch((e: unknown) => e);
  expect(refused).toMatchObject({ name: 'BackendUnavailableError', state: 'RESTARTING' });
  expect(Date.now() - askedAt).toBeLessThan(100);
  expect(backend.listTools().map((t) => t.name)).toContain('echo');
  expect(backend.status()).toMatchObject({
    kind: 'mcp',
    state: 'RESTARTING',
    lastError: 'exited on SIGKILL',
  });
  await ready(backend);
  const recovery = Date.now() - killedAt;
  // The server's own start (Node booting the SDK: ~0.2 s idle, seconds on a loaded machine) is the
  // one bound left generous; detection + backoff + spawn must fit in 2 s.
  const serverStart = Date.now() - initializingAt;
  console.log(`recovery ${recovery} ms, of which the server's own start ${serverStart} ms`);
  expect(recovery - serverStart).toBeLessThan(2_000);
  expect(recovery).toBeLessThan(2_000 + serverStart);
  expect(await backend.callTool('echo', { text: 'back' })).toMatchObject({ content: [{ text: 'back' }] });
  expect(alive(victim)).toBe(false);
}, 60_000);

test('a crash loop spawns at most 10 processes in a minute (manual clock drives the backoff)', async () => {
  const clock = createManualClock();
  const counter = join(mkdtempSync(join(tmpdir(), 'mcp-loop-')), 'spawns');
  // random ≈ 1 draws the shortest delays (the worst case for the spawn rate).
  const backend = lab(
    'loop',
    { env: { LAB_EXIT_AT_START: '3', LAB_SPAWN_COUNTER: counter } },
    testDeps({ clock, random: () => 0.999 }),
  );
  backend.start();
  const delays: number[] = [];
  // Every spawn whose restart falls due within the first minute of clock time.
  for (;;) {
    await waitFor(() => backend.state === 'RESTARTING', 15_000, 'the crash');
    const { restartDelayMs } = backend.actor.getSnapshot().context as { restartDelayMs: number };
    if (clock.now() + restartDelayMs > 60_000) break;
    delays.push(restartDelayMs);
    await clock.advance(restartDelayMs);
  }
  const spawns = readFileSync(counter, 'utf8').trim().split('\n').length;
  console.log(
    `crash loop: ${spawns} spawns in 60 s of clock time, delays ${delays.map(Math.round).join(', ')} ms`,
  );
  expect(spawns).toBeLessThanOrEqual(10);
  expect(delays.slice(0, 4)).toEqual([...delays.slice(0, 4)].sort((a, b) => a - b));
  expect(delays.at(-1)).toBeGreaterThan(delays[0] as number);
  expect(backend.status()).toMatchObject({
    status: 'fail',
    state: 'RESTARTING',
    lastError: 'exited with code 3',
  });
}, 120_000);

test('garbage on stdout restarts the server', async () => {
  const backend = lab('lab');
  backend.start();
  await ready(backend);
  const first = backend.pid;
  await backend.callTool('garbage', {}).catch(() => undefined);
  await waitFor(() => backend.state !== 'READY', 5_000, 'leaving READY');
  expect(backend.status().lastError).toBe('wrote non-JSON to stdout');
  await ready(backend);
  expect(backend.pid).not.toBe(first);
}, 60_000);

test('timeouts: safe tools are retried, others never; the caller is cancelled at the server; the breaker suspends', async () => {
  const clock = createManualClock();
  const cancels = join(mkdtempSync(join(tmpdir(), 'mcp-cancel-')), 'cancels');
  const backend = lab(
    'lab',
    { timeoutMs: 1_000, maxRetries: 2, breaker: { failureThreshold: 3 }, env: { LAB_CANCEL_LOG: cancels } },
    testDeps({ clock }),
  );
  backend.start();
  await ready(backend);
  // Not safe to repeat: one attempt, then the timeout.
  const stalled = backend.callTool('stall', {}).catch((e: unknown) => e);
  await clock.advance(1_000);
  expect(await stalled).toMatchObject({ name: 'McpCallTimeoutError' });
  expect(backend.breaker.metrics().totalFailures).toBe(1);
  // Idempotent: retried after a timeout; the second timeout opens the breaker (3 failures), so the
  // third attempt is refused (a BrokenCircuitError is never retried).
  const hung = backend.callTool('hang', {}).catch((e: unknown) => e);
  for (let i = 0; i < 3; i++) {
    await clock.advance(1_000);
    await clock.advance(1_000); // the retry's backoff (≤ 1 s)
  }
  expect(await hung).toMatchObject({ name: 'BrokenCircuitError' });
  expect(backend.breaker.metrics().totalFailures).toBe(3);
  expect(backend.state).toBe('SUSPENDED');
  const refused = await backend.callTool('echo', { text: 'x' }).catch((e: unknown) => e);
  expect(refused).toMatchObject({ name: 'BrokenCircuitError', state: 'OPEN' });
  expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
  // The caller's abort reaches the server as notifications/cancelled.
  await clock.advance(31_000);
  expect(backend.state).toBe('READY');
  // Timed-out calls were cancelled at the server too: count only this call's start and cancellation.
  const logged = (line: string) =>
    existsSync(cancels)
      ? readFileSync(cancels, 'utf8')
          .split('\n')
          .filter((l) => l === line).length
      : 0;
  const started = logged('started stall');
  const cancelled = logged('stall');
  const controller = new AbortController();
  const aborted = backend.callTool('stall', {}, { signal: controller.signal }).catch((e: unknown) => e);
  // Aborted once the server runs it (an abort before the request is written sends nothing at all).
  // The bounds are on a child process's reply under a loaded machine, not a speed requirement.
  await waitFor(() => logged('started stall') > started, 30_000, 'the call at the server');
  controller.abort(new Error('caller gave up'));
  expect(await aborted).toMatchObject({ message: 'caller gave up' });
  await waitFor(() => logged('stall') > cancelled, 30_000, 'the cancellation at the server');
  expect(backend.breaker.metrics().totalFailures).toBe(3);
}, 60_000);

test('other upstreams keep serving while one is broken', async () => {
  const broken = lab('broken', { env: { LAB_EXIT_AT_START: '1' } });
  const everything = mcpKind.create(
    'everything',
    mcpConfigSchema.parse({
      kind: 'mcp',
      command: process.execPath,
      args: [referenceServer('everything'), 'stdio'],
    }),
    testDeps(),
  ) as McpBackend;
  backends.push(everything);
  broken.start();
  everything.start();
  await ready(everything);
  for (let i = 0; i < 20; i++) {
    const result = await everything.callTool('echo', { message: `n${i}` });
    expect(result.content[0]).toMatchObject({ text: `Echo: n${i}` });
    const refused = await broken.callTool('echo', { text: 'x' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'BackendUnavailableError' });
  }
  expect(everything.status().status).toBe('pass');
  expect(broken.status().state).not.toBe('READY');
}, 60_000);

test('secrets in env are redacted in logs and health', async () => {
  const logger = recordingLogger();
  const secret = 'sk-stdio-secret-456';
  const backend = lab(
    'lab',
    { env: { LAB_SECRET: secret, LAB_STDERR: 'using key $KEY now' } },
    testDeps({ logger }),
  );
  backend.start();
  await ready(backend);
  await waitFor(() => logger.entries.some((e) => e.includes('stderr: using key')), 5_000, 'the stderr line');
  process.kill(serverPid(backend), 'SIGKILL');
  await waitFor(() => backend.state === 'RESTARTING', 5_000, 'RESTARTING');
  const everything = `${logger.entries.join('\n')}\n${JSON.stringify(backend.status())}`;
  expect(everything).not.toContain(secret);
  expect(everything).toContain('using key [redacted] now');
}, 60_000);

test('stop terminates the server and its whole process group: no orphan', async () => {
  const backend = lab('lab');
  backend.start();
  await ready(backend);
  const group = backend.pid as number;
  expect(serverIn(group, LAB_UPSTREAM)).toBeGreaterThan(0);
  await backend.stop();
  expect(backend.state).toBe('CLOSED');
  expect(groupMembers(group)).toEqual([]);
  expect(await backend.callTool('echo', { text: 'x' }).catch((e: unknown) => e)).toMatchObject({
    name: 'BackendUnavailableError',
    state: 'CLOSED',
  });
}, 60_000);

test('a SIGKILLed bridge leaves no orphan, even with server-everything kept busy', async () => {
  const host = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'fixtures', 'mcp-bridge-host.ts'),
      process.execPath,
      referenceServer('everything'),
      'stdio',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, MCP_HOST_TOOL: 'toggle-subscriber-updates' },
    },
  );
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      host.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] as string);
      });
      host.once('exit', () => reject(new Error(`host exited early: ${out}`)));
    });
    const group = (JSON.parse(line) as { reaper: number }).reaper;
    const server = serverIn(group, 'server-everything');
    host.kill('SIGKILL');
    // The reaper's lifeline closes: SIGTERM to the group, SIGKILL after the 2 s grace.
    await waitFor(() => groupMembers(group).length === 0, 15_000, 'the server group to go');
    expect(alive(server)).toBe(false);
  } finally {
    host.kill('SIGKILL'); // also when an assertion failed: never leave the host behind
  }
}, 60_000);

test('control: without the reaper, a busy server-everything outlives its closed stdin', async () => {
  // Why the SIGKILL test above proves something: the reference server keeps running when its
  // client vanishes, as long as a timer keeps it busy.
  const server = spawn(process.execPath, [referenceServer('everything'), 'stdio'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  try {
    const answers: string[] = [];
    let buffer = '';
    server.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      answers.push(...lines);
    });
    const send = (message: object) => server.stdin.write(`${JSON.stringify(message)}\n`);
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'control', version: '1' },
      },
    });
    await waitFor(() => answers.some((a) => a.includes('"id":1')), 30_000, 'initialize');
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'toggle-subscriber-updates', arguments: {} },
    });
    await waitFor(() => answers.some((a) => a.includes('"id":2')), 30_000, 'the toggle');
    server.stdin.end();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(server.exitCode).toBeNull();
    expect(alive(server.pid as number)).toBe(true);
  } finally {
    server.kill('SIGKILL');
  }
}, 60_000);
