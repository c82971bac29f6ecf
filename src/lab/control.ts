/*
 * The lab's control API on 127.0.0.1: faults read and set per backend, stats, resets; every
 * request needs the lab's bearer token, and browsers only from a loopback origin (CORS).
 */
import http from 'node:http';
import { checkHostAndOrigin, hostHeadersFor, isLoopbackOrigin } from '../net/loopback.js';
import type { LabCore } from './core.js';
import { faultPatchSchema, formatIssues } from './faults.js';
import { readBody, sendJson } from './http-util.js';
import { hasBearerToken } from './security.js';
import { isLabBackend, LAB_BACKENDS, type Lab, type LabStats } from './types.js';

/** The control API always listens on loopback, whatever host the backends use. */
export const CONTROL_HOST = '127.0.0.1';
const CONTROL_BODY_LIMIT = 64 * 1024;

/** The control API of a lab: its server (not listening yet) and counters. */
export interface ControlApi {
  server: http.Server;
  stats: { requests: number; unauthorized: number; forbidden: number };
}

/** Creates the control API's server; the caller listens on it. */
export function createControlApi(
  core: LabCore,
  token: string,
  labStats: () => LabStats,
  urls: () => Lab['urls'],
): ControlApi {
  const stats = { requests: 0, unauthorized: 0, forbidden: 0 };

  const server = http.createServer((req, res) => {
    stats.requests++;
    const forbidden = checkHostAndOrigin(req.headers, {
      allowedHosts: hostHeadersFor(CONTROL_HOST, core.ports.control),
    });
    if (forbidden) {
      stats.forbidden++;
      sendJson(res, 403, { error: forbidden });
      return;
    }
    const origin = req.headers.origin;
    const cors: http.OutgoingHttpHeaders =
      origin && isLoopbackOrigin(origin)
        ? {
            'Access-Control-Allow-Origin': origin,
            'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
            'Access-Control-Allow-Headers': 'Authorization, Content-Type',
            'Access-Control-Max-Age': '600',
            Vary: 'Origin',
          }
        : {};
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    if (!hasBearerToken(req, token)) {
      stats.unauthorized++;
      sendJson(
        res,
        401,
        { error: 'missing or wrong bearer token' },
        { ...cors, 'WWW-Authenticate': 'Bearer' },
      );
      return;
    }
    handleControl(req, res, cors).catch((error) => {
      core.log.warn?.('lab: control request failed', { error: String(error) });
      sendJson(res, 500, { error: 'internal error' }, cors);
    });
  });

  async function handleControl(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    cors: http.OutgoingHttpHeaders,
  ): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://lab');
    const parts = pathname.split('/').filter(Boolean);
    const [first, second, ...rest] = parts;
    if (req.method === 'GET' && parts.length === 0) {
      sendJson(
        res,
        200,
        {
          backends: LAB_BACKENDS,
          urls: urls(),
          endpoints: [
            'GET /faults',
            'GET /stats',
            'POST /faults/<backend>',
            'POST /reset',
            'POST /reset/<backend>',
          ],
        },
        cors,
      );
      return;
    }
    if (req.method === 'GET' && first === 'faults' && !second) {
      sendJson(res, 200, core.faults.all(), cors);
      return;
    }
    if (req.method === 'GET' && first === 'stats' && !second) {
      sendJson(res, 200, labStats(), cors);
      return;
    }
    if (req.method === 'POST' && (first === 'faults' || first === 'reset') && rest.length === 0) {
      if (second !== undefined && !isLabBackend(second)) {
        sendJson(res, 404, { error: `unknown backend ${second}`, backends: LAB_BACKENDS }, cors);
        return;
      }
      if (first === 'reset') {
        core.faults.clear(second);
        sendJson(res, 200, core.faults.all(), cors);
        return;
      }
      if (second === undefined) {
        sendJson(res, 404, { error: 'POST /faults/<backend>', backends: LAB_BACKENDS }, cors);
        return;
      }
      const body = await readBody(req, CONTROL_BODY_LIMIT);
      if (typeof body !== 'string') {
        sendJson(res, 413, { error: 'body too large' }, cors);
        return;
      }
      let json: unknown;
      try {
        json = body.trim() === '' ? {} : JSON.parse(body);
      } catch {
        sendJson(res, 400, { error: 'body is not valid JSON' }, cors);
        return;
      }
      const parsed = faultPatchSchema.safeParse(json);
      if (!parsed.success) {
        sendJson(res, 400, { error: formatIssues(parsed.error) }, cors);
        return;
      }
      const state = core.faults.apply(second, parsed.data);
      sendJson(res, 200, { backend: second, fault: state }, cors);
      return;
    }
    const known = ['faults', 'stats', 'reset'].includes(first ?? '');
    sendJson(res, known ? 405 : 404, { error: `no route ${req.method} ${pathname}` }, cors);
  }

  return { server, stats };
}
