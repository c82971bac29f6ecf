/*
 * Wire: the formats spoken with the daemons (docs/backends.md) — the A2A envelope and its message
 * types, the evolution and agent daemons' requests and replies. Shared by the tools (which send them)
 * and the lab (which answers them). Types and constants only: imports nothing, browser-safe.
 */
export * from './a2a.js';
export * from './daemons.js';
