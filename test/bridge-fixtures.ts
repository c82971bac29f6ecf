/*
 * Small local backends for the bridge tests: one `ws` server with the evolution, agents and a2a paths
 * and one `node:http` OpenAI-compatible server, on 127.0.0.1 with random ports.
 */
import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { BridgeConfig } from '../src/bridge/types.js';

export { until } from './support/net.js';

export interface SocketLab {
  port: number;
  /** Frames received per path, parsed. */
  received: Record<string, Record<string, unknown>[]>;
  /** Drop every connection and stop listening. */
  kill(): Promise<void>;
  /** Listen again on the same port. */
  restart(): Promise<void>;
  /** When set, evolution replies `{ success: false, error }`. */
  failEvolution: string | null;
  /** When true, requests get no answer. */
  silent: boolean;
}

export async function startSocketLab(): Promise<SocketLab> {
  let wss: WebSocketServer | null = null;
  const lab: SocketLab = {
    port: 0,
    received: { '/evolution': [], '/agents': [], '/a2a': [] },
    failEvolution: null,
    silent: false,
    async kill() {
      if (!wss) return;
      const server = wss;
      wss = null;
      for (const socket of server.clients) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async restart() {
      await listen(lab.port);
    },
  };
  const onConnection = (socket: WebSocket, path: string) => {
    socket.on('message', (data) => {
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return;
      }
      lab.received[path] = [...(lab.received[path] ?? []), frame];
      if (lab.silent || typeof frame.requestId !== 'string') return;
      if (path === '/evolution') {
        socket.send(
          JSON.stringify(
            lab.failEvolution
              ? { requestId: frame.requestId, success: false, error: lab.failEvolution }
              : {
                  requestId: frame.requestId,
                  success: true,
                  bestFitness: 0.93,
                  generationsCompleted: frame.generations,
                  evolvedShader: `${String(frame.seed_shader)}// evolved`,
                  cartridgeId: 'cart_1',
                },
          ),
        );
      } else if (path === '/agents') {
        socket.send(JSON.stringify({ requestId: frame.requestId, success: true, agentId: 'agent-7' }));
      }
    });
  };
  const listen = async (port: number) => {
    const server = new WebSocketServer({ host: '127.0.0.1', port });
    server.on('connection', (socket, request) => onConnection(socket, request.url ?? '/'));
    server.on('error', () => {});
    await once(server, 'listening');
    wss = server;
    lab.port = (server.address() as net.AddressInfo).port;
  };
  await listen(0);
  return lab;
}

export interface LlmLab {
  port: number;
  baseUrl: string;
  /** 'ok' answers; 'error' answers 503; 'down' is not listening. */
  mode: 'ok' | 'error';
  requests: { method: string; url: string; body: unknown }[];
  close(): Promise<void>;
}

export async function startLlmLab(): Promise<LlmLab> {
  const server = http.createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      const body = text ? JSON.parse(text) : null;
      lab.requests.push({ method: request.method ?? 'GET', url: request.url ?? '/', body });
      response.setHeader('content-type', 'application/json');
      if (lab.mode === 'error') {
        response.statusCode = 503;
        response.end(JSON.stringify({ error: 'overloaded' }));
        return;
      }
      if (request.url === '/v1/models') {
        response.end(JSON.stringify({ data: [{ id: 'local' }] }));
        return;
      }
      if (request.url === '/v1/chat/completions' && request.method === 'POST') {
        const messages = (body as { messages: { content: string }[] }).messages;
        response.end(
          JSON.stringify({
            model: (body as { model: string }).model,
            choices: [{ message: { role: 'assistant', content: `echo: ${messages.at(-1)?.content}` } }],
            usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
          }),
        );
        return;
      }
      response.statusCode = 404;
      response.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const lab: LlmLab = {
    port,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    mode: 'ok',
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return lab;
}

/** The three socket backends switched off: a bridge with only its HTTP backend (`lmStudio`) and any others. */
export const SOCKETS_OFF = {
  evolution: { enabled: false },
  agents: { enabled: false },
  a2a: { enabled: false },
} as const;

export const quietLogger = { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} };

/** Bridge config pointing every default backend at the labs. */
export function labConfig(
  sockets: SocketLab,
  llm: { baseUrl: string },
  extra: BridgeConfig = {},
): BridgeConfig {
  const ws = (path: string) => `ws://127.0.0.1:${sockets.port}${path}`;
  const urls: Record<string, string> = {
    evolution: ws('/evolution'),
    agents: ws('/agents'),
    a2a: ws('/a2a'),
    lmStudio: llm.baseUrl,
  };
  const backends: NonNullable<BridgeConfig['backends']> = { ...(extra.backends ?? {}) };
  for (const [name, url] of Object.entries(urls)) backends[name] = { url, ...(backends[name] ?? {}) };
  return { logger: quietLogger, ...extra, backends };
}

/** Polls `check` until it returns true (real time). */
