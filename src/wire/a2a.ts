/** The A2A router's envelope (docs/backends.md, "A2A router"). */

export const A2A_SCHEMA_URL = 'https://geometry.os/a2a/message/v1';

/** Every `message_type` an envelope may carry on the wire: what the router accepts. */
export const A2A_WIRE_MESSAGE_TYPES = [
  'task_assignment',
  'task_update',
  'task_result',
  'status_update',
  'coordination_request',
  'coordination_response',
  'heartbeat',
  'error_report',
  'registry_query',
  'registry_response',
  'subscription',
] as const;

export type A2AMessageType = (typeof A2A_WIRE_MESSAGE_TYPES)[number];

/** The types an agent sends on its own (the `send_a2a_message` tool's input); replies and registry traffic are the router's. */
export const A2A_MESSAGE_TYPES = [
  'task_assignment',
  'task_update',
  'task_result',
  'status_update',
  'coordination_request',
  'heartbeat',
] as const satisfies readonly A2AMessageType[];

/** `priority`: 1 low, 5 normal, 8 high, 10 critical. */
export const A2A_PRIORITY = { LOW: 1, NORMAL: 5, HIGH: 8, CRITICAL: 10 } as const;

export interface A2AEnvelope {
  $schema?: string;
  /** A UUID; receivers deduplicate by it (delivery is at least once). */
  message_id: string;
  /** Epoch seconds, with a fraction. */
  timestamp: number;
  from_agent: string;
  /** An agent id, "broadcast" or "topic:<name>". */
  to_agent?: string;
  message_type: string;
  priority?: number;
  content: Record<string, unknown>;
  metadata?: { correlation_id?: string; in_reply_to?: string; [key: string]: unknown };
  /** Epoch seconds. */
  expires_at?: number;
  [key: string]: unknown;
}
