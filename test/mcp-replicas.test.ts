/**
 * Replicas behind a load balancer (issue 14): in the 2026-07-28 era a request needs no session, so
 * two `serve --http` replicas (real processes) behind Debian's haproxy serve one SDK v2 client
 * pinned to 2026-07-28. One replica is killed mid-run; at most 1 of 40 calls may fail.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startLab } from '../src/lab/index.js';
import { labEnv, waitFor, writeFastConfig } from './e2e/helpers.js';
import { httpClient, type ServeChild, spawnServeHttp } from './support/mcp-clients.js';

const HAPROXY = '/usr/sbin/haproxy';

/** A port free right now on 127.0.0.1 (haproxy needs a number in its config). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function status(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
  });
}

/** The haproxy configuration: one frontend on `port`, the replicas checked with GET /healthz. */
function haproxyConfig(port: number, replicas: number[]): string {
  return [
    'global',
    '  maxconn 256',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  retries 3',
    '  option redispatch',
    'frontend mcp',
    `  bind 127.0.0.1:${port}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    '  option httpchk GET /healthz',
    ...replicas.map((replica, i) => `  server r${i} 127.0.0.1:${replica} check inter 500ms fall 1 rise 1`),
    '',
  ].join('\n');
}

describe('two replicas behind haproxy', () => {
  let lab: Lab;
  let proxy: ChildProcess;
  let proxyPort: number;
  const replicas: ServeChild[] = [];

  beforeAll(async () => {
    lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
    proxyPort = await freePort();
    const config = writeFastConfig();
    const args = ['--config', config, '--allowed-host', `127.0.0.1:${proxyPort}`];
    replicas.push(...(await Promise.all([0, 1].map(() => spawnServeHttp(args, labEnv(lab))))));
    const dir = mkdtempSync(join(tmpdir(), 'mcp-lifeline-haproxy-'));
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(
      file,
      haproxyConfig(
        proxyPort,
        replicas.map((r) => Number(r.url.port)),
      ),
    );
    proxy = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitFor(async () => (await status(proxyPort, '/healthz')) === 200, 15_000, 'haproxy up');
  }, 150_000);

  afterAll(async () => {
    if (proxy && proxy.exitCode === null) {
      const exited = new Promise((resolve) => proxy.once('exit', resolve));
      proxy.kill('SIGTERM');
      await exited;
    }
    await Promise.all(replicas.map((replica) => replica.stop()));
    await lab?.stop();
  });

  it('a client pinned to 2026-07-28 loses at most 1 of 40 calls when a replica is killed', async () => {
    const client = await httpClient('v2 pinned 2026-07-28', new URL(`http://127.0.0.1:${proxyPort}/mcp`));
    let failed = 0;
    let survivorBefore = 0;
    /** Tool calls a replica has served, asked directly (this question counts as one). */
    const callsServed = async (replica: ServeChild) => {
      const direct = await httpClient('v2 pinned 2026-07-28', replica.url);
      try {
        const state = await direct.callTool({ name: 'get_os_state', arguments: { include: ['tools'] } });
        return (state.structuredContent as { tools: { totalCalls: number } }).tools.totalCalls - 1;
      } finally {
        await direct.close();
      }
    };
    try {
      for (let i = 0; i < 40; i++) {
        if (i === 15) {
          // Round robin: both replicas have served the calls so far.
          for (const replica of replicas) expect(await callsServed(replica)).toBeGreaterThanOrEqual(3);
          survivorBefore = await callsServed(replicas[1] as ServeChild);
          await replicas[0]?.stop('SIGKILL');
        }
        try {
          const result = await client.callTool({ name: 'reliability_get_status', arguments: {} });
          if (result.isError) failed++;
        } catch {
          failed++;
        }
      }
    } finally {
      await client.close();
    }
    expect(failed).toBeLessThanOrEqual(1);
    // The survivor answered the calls after the kill.
    expect(await callsServed(replicas[1] as ServeChild)).toBeGreaterThan(survivorBefore + 10);
  }, 90_000);
});
