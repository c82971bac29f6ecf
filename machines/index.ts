export * from './backoff.js';
export * from './breaker.machine.js';
export * from './retry.machine.js';
