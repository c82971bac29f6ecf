/**
 * Prometheus for real: Debian's `prometheus` (unprivileged, config and TSDB in a temp dir, 127.0.0.1,
 * 1 s scrapes) scrapes `/metrics` of a real `serve --http` process pointed at the lab, and the breaker
 * series comes back through Prometheus's HTTP API. Under CI (which installs prometheus) a missing
 * binary fails the test; locally it is skipped with the install hint.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findPrometheus,
  PROMETHEUS_INSTALL_HINT,
  type RunningPrometheus,
  startPrometheus,
} from '../scripts/prometheus.js';
import { type Lab, startLab } from '../src/lab/index.js';
import { childEnv, labEnv, ROOT, waitFor } from './e2e/helpers.js';
import { dashboardQueries } from './support/dashboard.js';

const BIN = join(ROOT, 'bin/mcp-lifeline.js');
const binary = findPrometheus();
if (!binary && !process.env.CI) console.warn(`test/prometheus.test.ts skipped: ${PROMETHEUS_INSTALL_HINT}`);

interface QueryAnswer {
  status: string;
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

/** Starts `serve --http 127.0.0.1:0`; resolves with its base URL once it prints it. */
function startServe(env: Record<string, string>): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--http', '127.0.0.1:0'], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /at (http:\/\/127\.0\.0\.1:\d+)\/mcp/.exec(out);
      if (match?.[1]) resolve({ child, base: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

describe.skipIf(!binary && !process.env.CI)('Prometheus scraping serve --http', () => {
  let lab: Lab;
  let serve: { child: ChildProcess; base: string } | undefined;
  let prometheus: RunningPrometheus | undefined;
  beforeAll(async () => {
    lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  });
  afterAll(async () => {
    await prometheus?.stop();
    if (serve && serve.child.exitCode === null) {
      const exited = new Promise((resolve) => serve?.child.once('exit', resolve));
      serve.child.kill('SIGTERM');
      await exited;
    }
    await lab?.stop();
  });

  it('queries mcp_lifeline_circuit_breaker_state back from Prometheus', async () => {
    if (!binary) throw new Error(`CI must install prometheus (.ci/run): ${PROMETHEUS_INSTALL_HINT}`);
    serve = await startServe(labEnv(lab));
    const target = new URL(serve.base).host;
    prometheus = await startPrometheus({ targets: [target], binary });
    const running = prometheus;
    const query = async (expr: string) => {
      const response = await fetch(`${running.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return (await response.json()) as QueryAnswer;
    };
    const closed = await waitFor(
      async () => {
        if (running.process.exitCode !== null) throw new Error(`prometheus exited: ${running.output()}`);
        const answer = await query('mcp_lifeline_circuit_breaker_state{backend="lmStudio",state="CLOSED"}');
        return answer.data.result.length > 0 ? answer : undefined;
      },
      60_000,
      'the breaker series in Prometheus',
    );
    expect(closed.status).toBe('success');
    expect(closed.data.result[0]?.metric).toMatchObject({
      __name__: 'mcp_lifeline_circuit_breaker_state',
      job: 'mcp-lifeline',
      instance: target,
      backend: 'lmStudio',
      state: 'CLOSED',
    });
    expect(closed.data.result[0]?.value[1]).toBe('1');
    const all = await query('mcp_lifeline_circuit_breaker_state');
    expect(new Set(all.data.result.map((r) => r.metric.backend))).toEqual(
      new Set(['evolution', 'agents', 'a2a', 'lmStudio']),
    );
    const up = await query(`up{job="mcp-lifeline"}`);
    expect(up.data.result[0]?.value[1]).toBe('1');

    // Every query of docs/grafana-dashboard.json is valid PromQL on this Prometheus.
    const promqlOf = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$backend', '.*');
    for (const expr of dashboardQueries()) {
      const promql = promqlOf(expr);
      const answer = promql.startsWith('label_values(') ? { status: 'success' } : await query(promql);
      expect(answer.status, promql).toBe('success');
    }
    const state = await query(promqlOf(dashboardQueries()[0] as string));
    expect(state.data.result.find((r) => r.metric.backend === 'lmStudio')?.value[1]).toBe('0');
  }, 90_000);
});
