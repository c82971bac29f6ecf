/*
 * The lab's LM Studio: an OpenAI-compatible HTTP server (`GET /v1/models`, `POST /v1/chat/completions`)
 * with its faults: down (connections reset), silent (requests hang), latency, 503 with Retry-After,
 * injected 500s.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { checkHostAndOrigin, hostHeadersFor } from '../net/loopback.js';
import type { LabCore } from './core.js';
import { readBody, sendJson } from './http-util.js';
import { chatCompletion, modelsResponse } from './openai.js';
import type { HttpStats } from './types.js';

/** The LM Studio backend of a lab: its server (not listening yet) and counters. */
export interface LmStudioBackend {
  server: http.Server;
  stats: HttpStats;
  /** Raw TCP connections of the server, reset when it goes down and destroyed on stop. */
  rawSockets: Set<Socket>;
  /** Requests held open by a silent fault, destroyed on stop. */
  hungResponses: Set<http.ServerResponse>;
}

/** Creates the LM Studio server; the caller listens on it. */
export function createLmStudio(core: LabCore): LmStudioBackend {
  const stats: HttpStats = {
    requests: 0,
    ok: 0,
    clientErrors: 0,
    injectedErrors: 0,
    status503: 0,
    resets: 0,
    hung: 0,
    aborted: 0,
  };
  const rawSockets = new Set<Socket>();
  const hungResponses = new Set<http.ServerResponse>();

  const answerLmStudio = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://lab');
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
    let body: string | { tooLarge: true } = '';
    if (req.method === 'POST') body = await readBody(req, core.maxPayload);
    const f = core.faults.get('lmStudio');
    const respond = (status: number, payload: unknown, headers: http.OutgoingHttpHeaders = {}) =>
      core.later(core.faults.get('lmStudio').latencyMs, () => {
        if (core.faults.get('lmStudio').down) {
          core.resetSocket(req.socket);
          return;
        }
        if (status < 300) stats.ok++;
        else if (status < 500) stats.clientErrors++;
        sendJson(res, status, payload, headers);
      });
    if (f.status503) {
      stats.status503++;
      respond(
        503,
        { error: { message: 'lab: service unavailable', type: 'server_error' } },
        {
          'Retry-After': String(f.status503.retryAfterSeconds),
        },
      );
      return;
    }
    if (route !== 'GET /v1/models' && route !== 'POST /v1/chat/completions') {
      const known = url.pathname === '/v1/models' || url.pathname === '/v1/chat/completions';
      respond(known ? 405 : 404, {
        error: {
          message: known ? 'method not allowed' : `no route ${url.pathname}`,
          type: 'invalid_request_error',
        },
      });
      return;
    }
    if (core.faults.shouldFail('lmStudio')) {
      stats.injectedErrors++;
      respond(500, { error: { message: 'lab: injected failure (errorRate)', type: 'server_error' } });
      return;
    }
    if (route === 'GET /v1/models') {
      respond(200, modelsResponse());
      return;
    }
    if (typeof body !== 'string') {
      respond(413, { error: { message: 'request body too large', type: 'invalid_request_error' } });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      respond(400, { error: { message: 'body is not valid JSON', type: 'invalid_request_error' } });
      return;
    }
    const result = chatCompletion(parsed);
    if (result.status === 400) {
      respond(400, { error: { message: result.error, type: 'invalid_request_error' } });
      return;
    }
    respond(200, result.body);
  };

  const server = http.createServer((req, res) => {
    stats.requests++;
    const f = core.faults.get('lmStudio');
    if (f.down) {
      stats.resets++;
      core.resetSocket(req.socket);
      return;
    }
    // The client went away before its answer (a cancelled call): counted, so a test can see it.
    res.once('close', () => {
      if (!res.writableFinished && !core.stopped && !core.resetByLab.has(req.socket)) stats.aborted++;
    });
    const forbidden = checkHostAndOrigin(req.headers, {
      allowedHosts: hostHeadersFor(core.host, core.ports.http),
    });
    if (forbidden) {
      stats.clientErrors++;
      sendJson(res, 403, { error: { message: forbidden, type: 'invalid_request_error' } });
      return;
    }
    if (f.silent) {
      stats.hung++;
      hungResponses.add(res);
      res.on('close', () => hungResponses.delete(res));
      req.resume();
      return;
    }
    answerLmStudio(req, res).catch((error) => {
      core.log.warn?.('lab: lmStudio request failed', { error: String(error) });
      if (!res.headersSent) res.destroy();
    });
  });
  server.on('connection', (socket: Socket) => {
    if (core.faults.get('lmStudio').down) {
      stats.resets++;
      core.resetSocket(socket);
      return;
    }
    rawSockets.add(socket);
    socket.on('close', () => rawSockets.delete(socket));
  });

  return { server, stats, rawSockets, hungResponses };
}
