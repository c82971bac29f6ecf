/** The evolution and agent daemons' request/reply frames (docs/backends.md), matched by `requestId`. */

export const FITNESS_METRICS = ['performance', 'visual_quality', 'correctness', 'entropy'] as const;
export const AGENT_TYPES = ['monitor', 'executor', 'evolver', 'analyzer'] as const;

/** What the agent daemon tells a spawned agent to beat at, when its reply does not say. */
export const AGENT_HEARTBEAT_INTERVAL_MS = 5000;

/** The evolution daemon's answer to `{ requestId, action: 'evolve', … }`. */
export interface EvolutionReply {
  requestId?: string;
  success?: boolean;
  error?: string;
  bestFitness?: number;
  generationsCompleted?: number;
  evolvedShader?: string;
  cartridgeId?: string;
}

/** The agent daemon's answer to `{ requestId, action: 'spawn', … }`. */
export interface SpawnReply {
  requestId?: string;
  success?: boolean;
  error?: string;
  agentId?: string;
  status?: string;
  heartbeatInterval?: number;
}
