/**
 * The inspector's WebSocket server: streams a bridge's inspection messages (see `protocol.ts`) to
 * pages on 127.0.0.1, replays the current actors and snapshots to each client that connects late,
 * and optionally records every message as JSON lines. Binds to loopback only and checks `Host` and
 * `Origin` like the lab does (a defence against DNS rebinding and foreign pages). Opens no outside
 * connection and no browser.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import http from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Bridge } from '../bridge/types.js';
import { listen } from '../net/listen.js';
import { checkHostAndOrigin, hostHeadersFor, isLoopbackHost } from '../net/loopback.js';
import type { InspectorMessage, LabMessage, RecordLine } from './protocol.js';
import { INSPECTOR_PROTOCOL_VERSION } from './protocol.js';
import { type InspectionRelay, relayOf } from './relay.js';

export interface InspectorServerOptions {
  /** The bridge to inspect. It must have been created with the relay's `inspect` observer. */
  bridge: Bridge;
  /** The relay whose observer the bridge was created with. Default: the relay attached to `bridge`. */
  relay?: InspectionRelay;
  /** Loopback only. Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Appends every inspection message and health report to this file as JSON lines. */
  record?: string;
  /**
   * The lab's control API, passed for the fault buttons only to pages whose `Origin` is exactly one
   * of `pageOrigins` (e.g. `http://127.0.0.1:5173`; more with `allowPageOrigin`) — never to another
   * loopback origin or port, nor to a client without an `Origin`. Never recorded.
   */
  labControl?: { url: string; token: string; backends?: string[]; pageOrigins?: string[] };
  /** A client whose unsent data exceeds this is skipped for a batch (counted as dropped). Default 8 MiB. */
  maxBufferedBytes?: number;
}

export interface InspectorServer {
  /** ws://127.0.0.1:PORT/ */
  readonly url: string;
  /** http://127.0.0.1:PORT/ (a small JSON status). */
  readonly httpUrl: string;
  readonly port: number;
  /** Connected pages. */
  clients(): number;
  /** Lets the page served at `origin` (`http://HOST:PORT`, exact) receive the lab control token. */
  allowPageOrigin(origin: string): void;
  stop(): Promise<void>;
}

/** `http://host:port` in lower case; throws for anything that is not an http(s) origin. */
function exactOrigin(origin: string): string {
  const parsed = new URL(origin);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`inspector: a page origin must be http(s)://HOST:PORT, got ${origin}`);
  return parsed.origin.toLowerCase();
}

function writeLine(stream: WriteStream, message: InspectorMessage) {
  if (message.type === 'lab' || message.type === 'hello') return;
  const line: RecordLine = { t: Date.now(), message };
  stream.write(`${JSON.stringify(line)}\n`);
}

/** Starts the server; resolves once it listens. */
export async function startInspectorServer(options: InspectorServerOptions): Promise<InspectorServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) throw new Error(`inspector: host must be a loopback address, got ${host}`);
  const relay = options.relay ?? relayOf(options.bridge);
  if (!relay) {
    throw new Error(
      'inspector: the bridge has no inspection relay; create it with createInspectedBridge() or pass { relay }',
    );
  }
  if (relayOf(options.bridge) !== relay) relay.attach(options.bridge);
  const maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const lab: LabMessage | undefined = options.labControl
    ? {
        type: 'lab',
        url: options.labControl.url,
        token: options.labControl.token,
        backends: options.labControl.backends ?? options.bridge.backendNames(),
      }
    : undefined;

  const pageOrigins = new Set((options.labControl?.pageOrigins ?? []).map(exactOrigin));
  let port = 0;
  const server = http.createServer((req, res) => {
    const forbidden = checkHostAndOrigin(req.headers, { allowedHosts: hostHeadersFor(host, port) });
    if (forbidden) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: forbidden }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(
      JSON.stringify({
        name: 'mcp-lifeline inspector',
        protocol: INSPECTOR_PROTOCOL_VERSION,
        ws: `ws://${req.headers.host}/`,
        clients: wss.clients.size,
      }),
    );
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const forbidden = checkHostAndOrigin(req.headers, { allowedHosts: hostHeadersFor(host, port) });
    if (forbidden) {
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: ${forbidden.length}\r\n\r\n${forbidden}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const send = (ws: WebSocket, batch: InspectorMessage[]) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > maxBuffered) {
      skipped.set(ws, (skipped.get(ws) ?? 0) + batch.length);
      return;
    }
    const dropped = skipped.get(ws);
    if (dropped) {
      skipped.delete(ws);
      batch = [{ type: 'dropped', createdAt: String(Date.now()), count: dropped }, ...batch];
    }
    ws.send(JSON.stringify(batch));
  };
  const skipped = new WeakMap<WebSocket, number>();
  const ready = new Set<WebSocket>();

  wss.on('connection', (ws, req: http.IncomingMessage) => {
    const origin = req.headers.origin;
    const ownPage = origin !== undefined && pageOrigins.has(origin.toLowerCase());
    ws.on('error', () => {});
    // The page only listens; anything it sends is ignored.
    ws.on('message', () => {});
    const hello: InspectorMessage = {
      type: 'hello',
      protocol: INSPECTOR_PROTOCOL_VERSION,
      createdAt: String(Date.now()),
      replay: true,
    };
    // Pending messages go to the clients already replayed; this one starts from the replay.
    relay.flush();
    send(ws, [hello, ...(lab && ownPage ? [lab] : []), ...relay.replay()]);
    ready.add(ws);
    ws.on('close', () => ready.delete(ws));
  });

  let recorder: WriteStream | undefined;
  if (options.record) {
    recorder = createWriteStream(options.record, { flags: 'a' });
    recorder.on('error', () => {});
    for (const message of relay.replay()) writeLine(recorder, message);
  }

  const unsubscribe = relay.subscribe((batch) => {
    if (recorder) for (const message of batch) writeLine(recorder, message);
    for (const ws of ready) send(ws, batch);
  });

  port = await listen(server, options.port ?? 0, host);
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;

  let stopping: Promise<void> | undefined;
  return {
    url: `ws://${shown}:${port}/`,
    httpUrl: `http://${shown}:${port}/`,
    port,
    clients: () => wss.clients.size,
    allowPageOrigin(origin) {
      pageOrigins.add(exactOrigin(origin));
    },
    stop() {
      stopping ??= (async () => {
        relay.flush();
        unsubscribe();
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections?.();
        if (recorder) {
          const stream = recorder;
          await new Promise<void>((resolve) => stream.end(() => resolve()));
        }
      })();
      return stopping;
    },
  };
}
