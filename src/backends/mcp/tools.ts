/* MCP `Tool` objects (from `tools/list`) as the bridge's `RemoteTool`s. */
import type { RemoteTool, ToolAnnotations } from '../kind.js';

/** Keeps the fields the bridge uses; drops anything without a name. */
export function toRemoteTools(listed: readonly unknown[]): RemoteTool[] {
  const tools: RemoteTool[] = [];
  for (const item of listed) {
    const tool = item as {
      name?: unknown;
      title?: unknown;
      description?: unknown;
      inputSchema?: Record<string, unknown>;
      outputSchema?: Record<string, unknown>;
      annotations?: ToolAnnotations;
    };
    if (typeof tool.name !== 'string') continue;
    tools.push({
      name: tool.name,
      ...(typeof tool.title === 'string' ? { title: tool.title } : {}),
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      inputSchema: tool.inputSchema ?? { type: 'object' },
      ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}),
      ...(tool.annotations ? { annotations: tool.annotations } : {}),
    });
  }
  return tools;
}

/** Whether two lists describe the same tools (order included). */
export function toolsEqual(a: readonly RemoteTool[], b: readonly RemoteTool[]): boolean {
  return a.length === b.length && JSON.stringify(a) === JSON.stringify(b);
}
