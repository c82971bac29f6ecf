/**
 * MCP over Streamable HTTP: `mcp-lifeline serve --http 127.0.0.1:0` spawned against the lab and
 * reached with the SDK's `StreamableHTTPClientTransport`; Host/Origin checks on an in-process server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeBridge } from '../src/bridge/node.js';
import type { Bridge } from '../src/bridge/types.js';
import { type Lab, startLab } from '../src/lab/index.js';
import { type McpHttpServer, startMcpHttpServer } from '../src/mcp/http.js';
import { childEnv, labEnv, ROOT, waitFor } from './e2e/helpers.js';

let lab: Lab;

beforeAll(async () => {
  lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
});
afterAll(async () => {
  await lab?.stop();
});

function firstText(result: unknown): Record<string, unknown> {
  const content = (result as { content: { text: string }[] }).content;
  return JSON.parse(content[0]?.text ?? 'null') as Record<string, unknown>;
}

describe('mcp-lifeline serve --http', () => {
  let child: ChildProcess;
  let stdout = '';
  let stderr = '';
  let url: URL;

  beforeAll(async () => {
    // The package's launcher (one process), not tsx's CLI: tsx relays SIGTERM to a second process and
    // exits 143 itself if that child does not acknowledge within 30 ms, which a loaded machine misses.
    child = spawn(process.execPath, ['bin/mcp-lifeline.js', 'serve', '--http', '127.0.0.1:0'], {
      cwd: ROOT,
      env: childEnv(labEnv(lab)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const match = await waitFor(
      () => /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stdout),
      60_000, // safety net: startup on a loaded machine takes what it takes
      `the MCP URL on stdout (stderr: ${stderr})`,
    );
    url = new URL(match[1] as string);
  }, 90_000);

  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  it('lists and calls tools through StreamableHTTPClientTransport', async () => {
    const client = new Client({ name: 'mcp-http-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(url));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('send_llm_prompt');
      expect(tools).toHaveLength(6);
      const state = firstText(await client.callTool({ name: 'get_os_state', arguments: {} }));
      expect(state).toMatchObject({ success: true, health: { backends: { webmcp: { state: 'SERVING' } } } });
      await waitFor(
        async () => {
          const result = firstText(
            await client.callTool({ name: 'send_llm_prompt', arguments: { prompt: 'hi' } }),
          );
          return result.success === true;
        },
        10_000,
        'send_llm_prompt through HTTP',
      );
      const bad = await client.callTool({ name: 'send_llm_prompt', arguments: { prompt: '' } });
      expect(bad.isError).toBe(true);
      expect(firstText(bad)).toMatchObject({ error_code: 'INVALID_INPUT', field: 'prompt' });
    } finally {
      await client.close();
    }
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

/** A raw POST so that Host and Origin can be set freely (fetch forbids `Host`). */
function post(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/mcp',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('startMcpHttpServer: Host and Origin', () => {
  let bridge: Bridge;
  let server: McpHttpServer;

  beforeAll(async () => {
    bridge = createNodeBridge({ logger: { warn: () => {} } });
    server = await startMcpHttpServer(bridge, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await bridge?.stop();
  });

  it('answers the bound host with or without a loopback Origin', async () => {
    expect((await post(server.port, { host: `127.0.0.1:${server.port}` })).status).toBe(200);
    expect((await post(server.port, { host: `localhost:${server.port}` })).status).toBe(200);
    const withOrigin = await post(server.port, {
      host: `127.0.0.1:${server.port}`,
      origin: 'http://localhost:5173',
    });
    expect(withOrigin.status).toBe(200);
  });

  it('refuses a foreign Origin with 403', async () => {
    const res = await post(server.port, { host: `127.0.0.1:${server.port}`, origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(res.body).toContain('Origin');
    expect((await post(server.port, { host: `127.0.0.1:${server.port}`, origin: 'null' })).status).toBe(403);
  });

  it('refuses a Host that is not the bound host:port with 403 (DNS rebinding)', async () => {
    expect((await post(server.port, { host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await post(server.port, { host: '127.0.0.1:1' })).status).toBe(403);
    expect((await post(server.port, { host: '127.0.0.1' })).status).toBe(403);
  });

  it('shows the surface as serving while listening', () => {
    expect(bridge.health().backends.webmcp).toMatchObject({ status: 'pass', state: 'SERVING' });
  });

  it('refuses to bind a non-loopback address', async () => {
    await expect(startMcpHttpServer(bridge, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/loopback/);
  });
});
