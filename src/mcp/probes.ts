/*
 * The HTTP probes of `serve --http`: `GET /healthz` (the process is alive: always 200) and
 * `GET /readyz` (200 unless the bridge's health report is `fail`, then 503). They need no token and
 * no allowed Host, so load balancers and orchestrators can call them; `/readyz` shows the whole
 * report only to a caller that may see it (loopback server, or the right bearer token), and
 * otherwise only `{ status }`.
 */
import type http from 'node:http';
import type { Bridge } from '../bridge/types.js';

export const HEALTHZ_PATH = '/healthz';
export const READYZ_PATH = '/readyz';

/** Answers a probe request for `path`; false when `path` is not a probe. */
export function answerProbe(
  bridge: Bridge,
  path: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  showReport: boolean,
): boolean {
  if (path !== HEALTHZ_PATH && path !== READYZ_PATH) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' });
    res.end();
    return true;
  }
  let status = 200;
  let body: unknown = { status: 'alive' };
  if (path === READYZ_PATH) {
    const report = bridge.health();
    status = report.status === 'fail' ? 503 : 200;
    body = showReport ? report : { status: report.status };
  }
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
  return true;
}
