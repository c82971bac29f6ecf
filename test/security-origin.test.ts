/*
 * Every HTTP and WebSocket server we run binds 127.0.0.1 by default and refuses a foreign `Origin`
 * or a `Host` that is not the server (DNS rebinding): the lab's WebSocket server, its OpenAI-compatible
 * HTTP server and its fault-control API (which also needs its per-run bearer token), and MCP over
 * Streamable HTTP.
 */
import http from 'node:http';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createNodeBridge } from '../src/bridge/node.js';
import type { Bridge } from '../src/bridge/types.js';
import { type Lab, startLab } from '../src/lab/index.js';
import { type McpHttpServer, startMcpHttpServer } from '../src/mcp/http.js';

interface Answer {
  status: number;
  body: string;
}

/** A raw request with exactly the headers given (Host included), on 127.0.0.1:port. */
function request(
  port: number,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function upgrade(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return request(port, {
    path,
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'),
      ...headers,
    },
  });
}

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return undefined;
}

/** Whether a TCP connection to address:port is accepted. */
function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const FOREIGN_ORIGIN = { origin: 'http://evil.example' };
const foreignHost = (port: number) => ({ host: `evil.example:${port}` });

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
});
afterAll(async () => {
  await lab?.stop();
});

describe('the lab', () => {
  test('binds 127.0.0.1 by default: its URLs name it and another interface is refused', async () => {
    for (const url of Object.values(lab.urls)) expect(new URL(url).hostname).toBe('127.0.0.1');
    const external = externalAddress();
    if (external) {
      for (const port of Object.values(lab.ports)) expect(await accepts(external, port)).toBe(false);
    }
    for (const port of Object.values(lab.ports)) expect(await accepts('127.0.0.1', port)).toBe(true);
  });

  test('WebSocket upgrades: a foreign Origin or Host gets 403, a loopback one is accepted', async () => {
    const port = lab.ports.ws;
    for (const path of ['/evolution', '/agents', '/a2a']) {
      expect((await upgrade(port, path)).status).toBe(101);
      expect((await upgrade(port, path, { origin: `http://127.0.0.1:${port}` })).status).toBe(101);
      expect((await upgrade(port, path, FOREIGN_ORIGIN)).status).toBe(403);
      expect((await upgrade(port, path, { origin: 'null' })).status).toBe(403);
      expect((await upgrade(port, path, foreignHost(port))).status).toBe(403);
      expect((await upgrade(port, path, { host: `127.0.0.1:${port + 1}` })).status).toBe(403);
    }
    expect(lab.stats().ws.evolution.refusedUpgrades).toBeGreaterThanOrEqual(4);
  });

  test('the OpenAI-compatible server: a foreign Origin or Host gets 403', async () => {
    const port = lab.ports.http;
    expect((await request(port, { path: '/v1/models' })).status).toBe(200);
    expect((await request(port, { path: '/v1/models', headers: FOREIGN_ORIGIN })).status).toBe(403);
    expect((await request(port, { path: '/v1/models', headers: foreignHost(port) })).status).toBe(403);
    const post = {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json', ...FOREIGN_ORIGIN },
      body: JSON.stringify({ model: 'local', messages: [{ role: 'user', content: 'hi' }] }),
    };
    expect((await request(port, post)).status).toBe(403);
  });

  test('the control API: needs the per-run token, refuses a foreign Origin or Host even with it', async () => {
    const port = lab.ports.control;
    const auth = { authorization: `Bearer ${lab.token}` };
    const down = { method: 'POST', path: '/faults/evolution', body: '{"down":true}' };
    expect(lab.token.length).toBeGreaterThanOrEqual(16);
    expect((await request(port, { path: '/faults' })).status).toBe(401);
    expect((await request(port, { ...down })).status).toBe(401);
    expect(
      (await request(port, { ...down, headers: { authorization: 'Bearer wrong-token-123' } })).status,
    ).toBe(401);
    expect(
      (await request(port, { ...down, headers: { authorization: `Bearer ${lab.token}x` } })).status,
    ).toBe(401);
    expect((await request(port, { ...down, headers: { authorization: lab.token } })).status).toBe(401);
    expect(lab.faults().evolution.down).toBe(false);
    expect((await request(port, { ...down, headers: { ...auth, ...FOREIGN_ORIGIN } })).status).toBe(403);
    expect((await request(port, { ...down, headers: { ...auth, ...foreignHost(port) } })).status).toBe(403);
    expect(lab.faults().evolution.down).toBe(false);
    expect((await request(port, { path: '/faults', headers: auth })).status).toBe(200);
    expect((await request(port, { ...down, headers: auth })).status).toBe(200);
    expect(lab.faults().evolution.down).toBe(true);
    expect((await request(port, { method: 'POST', path: '/reset', headers: auth })).status).toBe(200);
    expect(lab.faults().evolution.down).toBe(false);
  });

  test('a second lab gets a different token', async () => {
    const other = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
    try {
      expect(other.token).not.toBe(lab.token);
      const status = (
        await request(other.ports.control, {
          path: '/faults',
          headers: { authorization: `Bearer ${lab.token}` },
        })
      ).status;
      expect(status).toBe(401);
    } finally {
      await other.stop();
    }
  });
});

describe('MCP over Streamable HTTP', () => {
  let bridge: Bridge;
  let server: McpHttpServer;
  beforeAll(async () => {
    bridge = createNodeBridge({
      logger: { warn: () => {}, error: () => {} },
      backends: {
        evolution: { url: lab.urls.evolution },
        agents: { url: lab.urls.agents },
        a2a: { url: lab.urls.a2a },
        lmStudio: { url: lab.urls.lmStudio },
      },
    });
    await bridge.start();
    server = await startMcpHttpServer(bridge, { port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await bridge?.stop();
  });

  const initialize = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
  const post = (headers: Record<string, string>) =>
    request(server.port, {
      method: 'POST',
      path: '/mcp',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: initialize,
    });

  test('binds 127.0.0.1 by default and refuses to bind a non-loopback address', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
    const external = externalAddress();
    if (external) expect(await accepts(external, server.port)).toBe(false);
    await expect(startMcpHttpServer(bridge, { host: '0.0.0.0', port: 0, surface: false })).rejects.toThrow(
      /loopback/,
    );
  });

  test('a foreign Origin or Host gets 403 before any MCP processing; loopback ones get through', async () => {
    expect((await post({})).status).toBe(200);
    expect((await post({ origin: `http://localhost:${server.port}` })).status).toBe(200);
    expect((await post(FOREIGN_ORIGIN)).status).toBe(403);
    expect((await post({ origin: 'null' })).status).toBe(403);
    expect((await post(foreignHost(server.port))).status).toBe(403);
    expect((await post({ host: `127.0.0.1:${server.port + 1}` })).status).toBe(403);
    expect((await post({ host: 'localhost.evil.example' })).status).toBe(403);
    // GET/DELETE are checked too.
    expect((await request(server.port, { path: '/mcp', headers: FOREIGN_ORIGIN })).status).toBe(403);
    expect(
      (await request(server.port, { method: 'DELETE', path: '/mcp', headers: foreignHost(server.port) }))
        .status,
    ).toBe(403);
  });
});
