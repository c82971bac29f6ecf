/**
 * Who may reach `serve --http` (issue 14): configurable allowed hosts (flags and config file, as
 * behind a proxy), bearer-token authentication for a non-loopback bind, and the probes /healthz and
 * /readyz (open without a token; /readyz shows the report only to who may see it). Real processes,
 * the SDK v2 client for MCP traffic, node:http for plain GETs with a chosen Host header.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNodeBridge } from '../src/bridge/node.js';
import type { Bridge } from '../src/bridge/types.js';
import { type Lab, startLab } from '../src/lab/index.js';
import { type McpHttpServer, startMcpHttpServer } from '../src/mcp/http.js';
import { childEnv, labEnv, ROOT, TSX_CLI, waitFor, writeFastConfig } from './e2e/helpers.js';
import { httpClient, type ServeChild, spawnServeHttp } from './support/mcp-clients.js';

/** Runs `serve <args>` against the lab until it exits (a refused start): its exit code and stderr. */
async function serveUntilExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [TSX_CLI, 'src/cli.ts', 'serve', ...args], {
    cwd: ROOT,
    env: childEnv(labEnv(lab)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stderr };
}

const TOKEN = 's3cret-token-0123456789';

/** A GET with a chosen Host and headers: status and body. */
function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let lab: Lab;
const children: ServeChild[] = [];
beforeAll(async () => {
  lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
});
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.stop()));
});
afterAll(async () => {
  await lab?.stop();
});

describe('allowed hosts', () => {
  it('--allowed-host and the config file http.allowedHosts accept a proxy Host; others get 403', async () => {
    const config = writeFastConfig({ http: { allowedHosts: ['lb.internal'] } });
    const serve = await spawnServeHttp(
      ['--config', config, '--allowed-host', 'proxy.example:8080', '--allowed-host', 'other.example:81'],
      labEnv(lab),
    );
    children.push(serve);
    const port = Number(serve.url.port);
    expect((await get(port, '/metrics', { host: 'proxy.example:8080' })).status).toBe(200);
    expect((await get(port, '/metrics', { host: 'other.example:81' })).status).toBe(200);
    expect((await get(port, '/metrics', { host: 'lb.internal:9000' })).status).toBe(200);
    expect((await get(port, '/metrics', { host: 'proxy.example:8081' })).status).toBe(403);
    expect((await get(port, '/metrics', { host: 'evil.example' })).status).toBe(403);
  }, 40_000);

  it('a config file with a wrong http section is refused naming the field', async () => {
    const config = writeFastConfig({ http: { allowedHosts: 'lb.internal' } });
    const { code, stderr } = await serveUntilExit(['--http', '127.0.0.1:0', '--config', config]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/http\.allowedHosts/);
  }, 30_000);
});

describe('non-loopback with a bearer token', () => {
  it('is refused without a token, naming the flag', async () => {
    const { code, stderr } = await serveUntilExit(['--http', '0.0.0.0:0']);
    expect(code).not.toBe(0);
    expect(stderr).toContain('--auth-token-file');
    expect(stderr).toContain('MCP_LIFELINE_AUTH_TOKEN');
  }, 30_000);

  it('--auth-token-file: warning line; missing or wrong token 401; right token works; probes open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-lifeline-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    const serve = await spawnServeHttp(['--auth-token-file', file], labEnv(lab), '0.0.0.0:0');
    children.push(serve);
    await waitFor(() => serve.output().includes('warning'), 5_000, 'the warning line');
    expect(serve.output()).toMatch(/warning: serving on 0\.0\.0\.0/);
    const port = Number(serve.url.port);
    const host = { host: `0.0.0.0:${port}` };
    expect((await get(port, '/metrics', host)).status).toBe(401);
    expect((await get(port, '/metrics', { ...host, authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(port, '/metrics', { ...host, authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await get(port, '/metrics', { ...host, authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get(port, '/healthz')).status).toBe(200);
    const ready = await get(port, '/readyz');
    expect(Object.keys(JSON.parse(ready.body))).toEqual(['status']);
    const full = await get(port, '/readyz', { authorization: `Bearer ${TOKEN}` });
    expect(JSON.parse(full.body)).toHaveProperty('backends');
    const url = serve.url;
    await expect(httpClient('v2 pinned 2026-07-28', url)).rejects.toThrow();
    await expect(httpClient('v1', url, { authorization: 'Bearer nope' })).rejects.toThrow();
    for (const kind of ['v1', 'v2 default', 'v2 pinned 2026-07-28'] as const) {
      const client = await httpClient(kind, url, { authorization: `Bearer ${TOKEN}` });
      try {
        expect((await client.listTools()).tools.length).toBe(6);
      } finally {
        await client.close();
      }
    }
  }, 60_000);

  it('MCP_LIFELINE_AUTH_TOKEN sets the token too', async () => {
    const serve = await spawnServeHttp([], { ...labEnv(lab), MCP_LIFELINE_AUTH_TOKEN: TOKEN }, '0.0.0.0:0');
    children.push(serve);
    const port = Number(serve.url.port);
    const host = { host: `0.0.0.0:${port}` };
    expect((await get(port, '/metrics', host)).status).toBe(401);
    expect((await get(port, '/metrics', { ...host, authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  }, 40_000);
});

describe('probes', () => {
  let bridge: Bridge | undefined;
  let server: McpHttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    await bridge?.stop();
    server = undefined;
    bridge = undefined;
  });

  it('/healthz is 200; /readyz is 200 with the report, 503 once the report is fail', async () => {
    bridge = createNodeBridge({
      logger: { warn: () => {}, error: () => {} },
      healthCheckIntervalMs: 200,
      backends: {
        evolution: { url: lab.urls.evolution },
        agents: { url: lab.urls.agents },
        a2a: { url: lab.urls.a2a },
        lmStudio: {
          url: lab.urls.lmStudio,
          options: { probeIntervalMs: 100, breaker: { failureThreshold: 1, resetTimeoutMs: 60_000 } },
        },
      },
    });
    await bridge.start();
    server = await startMcpHttpServer(bridge, { port: 0 });
    const port = server.port;
    expect((await get(port, '/healthz')).status).toBe(200);
    await waitFor(() => bridge?.health().status === 'pass', 10_000, 'health pass');
    const ready = await get(port, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'pass', backends: { lmStudio: {} } });
    await lab.stop();
    await waitFor(() => bridge?.health().status === 'fail', 20_000, 'health fail');
    const failed = await get(port, '/readyz');
    expect(failed.status).toBe(503);
    expect(JSON.parse(failed.body)).toMatchObject({ status: 'fail' });
    expect((await get(port, '/healthz')).status).toBe(200);
    lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  }, 60_000);
});
