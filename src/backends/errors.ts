/** The bounded send queue of a disconnected socket backend is full: the message was not accepted. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(
    readonly backend: string,
    readonly limit: number,
  ) {
    super(`Backend "${backend}": send queue is full (${limit} messages waiting for a connection)`);
  }
}

/** No reply with the request's `requestId` arrived in time. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  constructor(
    readonly backend: string,
    readonly requestId: string,
    readonly timeoutMs: number,
  ) {
    super(`Backend "${backend}": no reply to request ${requestId} within ${timeoutMs} ms`);
  }
}

/** The connection dropped while a request was in flight, or before a message could be written. */
export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
  constructor(
    readonly backend: string,
    readonly detail: string | null = null,
  ) {
    super(`Backend "${backend}": connection lost${detail ? ` (${detail})` : ''}`);
  }
}

/** The backend was stopped: queued messages and pending requests are rejected with this. */
export class BackendStoppedError extends Error {
  override readonly name = 'BackendStoppedError';
  constructor(readonly backend: string) {
    super(`Backend "${backend}" is stopped`);
  }
}

/** An outgoing message is larger than the backend's `maxFrameBytes`. */
export class FrameTooLargeError extends Error {
  override readonly name = 'FrameTooLargeError';
  constructor(
    readonly backend: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`Backend "${backend}": message of ${bytes} bytes exceeds the ${limit}-byte frame limit`);
  }
}

/** A tool needs a backend that is not connected (down, reconnecting, not started or stopped). */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  constructor(
    readonly backend: string,
    readonly state: string,
    detail?: string | null,
  ) {
    super(`Backend "${backend}" is unavailable (${state}${detail ? `: ${detail}` : ''})`);
  }
}
