/*
 * Bridges node:http and the web-standard `Request`/`Response` of the SDK v2 HTTP handler: the
 * request (its body already read) becomes a `Request` whose signal aborts when the client goes away;
 * a `Response` (JSON or an SSE stream) is written back to the node response.
 */
import type http from 'node:http';

/** A web `Request` for `req` with `body` (already read), aborted when `res` closes early. */
export function toWebRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: string | undefined,
): Request {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && body !== undefined;
  return new Request(url, {
    method: req.method ?? 'GET',
    headers,
    signal: controller.signal,
    ...(hasBody ? { body } : {}),
  });
}

/** Writes `response` (status, headers, body streamed as it comes) to `res`. */
export async function writeWebResponse(response: Response, res: http.ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.once('close', () => {
    void reader.cancel().catch(() => {});
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // The client went away or the stream was cancelled: nothing more to write.
  }
  res.end();
}
