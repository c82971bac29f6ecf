export * from './backoff.js';
export * from './breaker.machine.js';
export * from './bridge.machine.js';
export * from './http.machine.js';
export * from './mcp.machine.js';
export * from './retry.machine.js';
export * from './socket.machine.js';
export * from './webmcp-page.machine.js';
