/**
 * The lab: local backends that speak backends.md's wire formats (evolution, agents and a2a over
 * WebSocket, an OpenAI-compatible LM Studio over HTTP), with faults injected per backend through
 * `lab.fault()` or a token-protected control API on 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import { CONTROL_HOST, createControlApi } from './control.js';
import { createLabCore } from './core.js';
import { FaultTable } from './faults.js';
import { closeServer, displayHost, listenOrSay } from './http-util.js';
import { createLmStudio } from './lm-studio.js';
import {
  type FaultCommand,
  type FaultPatch,
  type FaultState,
  isLabBackend,
  type Lab,
  type LabBackend,
  type LabLogger,
  type LabOptions,
  type LabStats,
  WS_BACKENDS,
  type WsBackend,
  type WsPathStats,
} from './types.js';
import { createWsBackends } from './ws-backends.js';

export { FaultTable, mulberry32, noFaults, parseFaultCommand } from './faults.js';
export { chatCompletion, modelsResponse } from './openai.js';
export { A2A_ROUTER_ID, A2A_SCHEMA, evolve, validateEnvelope } from './protocols.js';
export * from './types.js';

/**
 * Starts the lab's servers: the WebSocket backends (ws-backends.ts), LM Studio (lm-studio.ts) and
 * the control API (control.ts). Rejects (with everything closed again) when a port is taken.
 */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomUUID();
  if (token.length < 8 || /\s/.test(token))
    throw new TypeError('lab: token must be ≥ 8 characters, no spaces');
  const log: LabLogger = options.logger ?? {};
  const faults = new FaultTable(options.seed ?? 1);
  const core = createLabCore({ host, maxPayload: options.maxPayloadBytes ?? 1024 * 1024, log, faults });
  const ws = createWsBackends(core);
  const lm = createLmStudio(core);

  faults.onChange((backend, state, previous) => {
    log.info?.('lab: fault changed', { backend, fault: state as unknown as Record<string, unknown> });
    if (!state.down || previous.down) return;
    if (backend === 'lmStudio') {
      for (const socket of lm.rawSockets) core.resetSocket(socket);
      lm.stats.resets += lm.rawSockets.size;
    } else {
      for (const socket of ws.sockets[backend]) socket.terminate();
    }
  });

  // ------------------------------------------------------------ lab object

  const fault = (backend: LabBackend, change: FaultPatch | FaultCommand): FaultState => {
    if (!isLabBackend(backend)) throw new TypeError(`lab: unknown backend ${String(backend)}`);
    return faults.apply(backend, change);
  };

  const stats = (): LabStats => {
    const byPath = {} as Record<WsBackend, WsPathStats>;
    for (const backend of WS_BACKENDS)
      byPath[backend] = { ...ws.stats[backend], connections: ws.sockets[backend].size };
    return {
      ws: byPath,
      lmStudio: { ...lm.stats },
      control: { ...control.stats },
      a2a: { received: ws.inbox.received.length, duplicates: ws.inbox.duplicates },
    };
  };

  const control = createControlApi(core, token, stats, () => urls);

  // ------------------------------------------------------------ start

  const servers = [ws.server, lm.server, control.server];
  let urls: Lab['urls'];
  try {
    core.ports = {
      ws: await listenOrSay(ws.server, options.wsPort ?? 8765, host),
      http: await listenOrSay(lm.server, options.httpPort ?? 1234, host),
      control: await listenOrSay(control.server, options.controlPort ?? 0, CONTROL_HOST),
    };
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
  const { ports } = core;
  const shown = displayHost(host);
  urls = {
    evolution: `ws://${shown}:${ports.ws}/evolution`,
    agents: `ws://${shown}:${ports.ws}/agents`,
    a2a: `ws://${shown}:${ports.ws}/a2a`,
    lmStudio: `http://${shown}:${ports.http}/v1`,
    control: `http://${CONTROL_HOST}:${ports.control}`,
  };
  log.info?.('lab: started', { ...urls });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    if (stopping) return stopping;
    core.stopped = true;
    stopping = (async () => {
      for (const timer of core.timers) clearTimeout(timer);
      core.timers.clear();
      for (const waiter of ws.inbox.waiters) waiter.reject(new Error('lab stopped'));
      ws.inbox.waiters.clear();
      for (const backend of WS_BACKENDS) {
        for (const socket of ws.sockets[backend]) socket.terminate();
        ws.servers[backend].close();
      }
      for (const res of lm.hungResponses) res.destroy();
      for (const socket of [...ws.rawSockets, ...lm.rawSockets]) socket.destroy();
      await Promise.all(servers.map(closeServer));
      log.info?.('lab: stopped');
    })();
    return stopping;
  };

  return {
    urls,
    token,
    ports: { ...core.ports },
    a2a: ws.a2a,
    fault,
    clear: (backend) => {
      if (backend !== undefined && !isLabBackend(backend))
        throw new TypeError(`lab: unknown backend ${String(backend)}`);
      faults.clear(backend);
    },
    faults: () => faults.all(),
    stats,
    stop,
  };
}
