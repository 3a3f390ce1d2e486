// Keeps tools/list small: every character of it sits in the host model's context on every turn.
// The SDK's listing carries bytes no model needs; this strips them after the SDK builds the list:
// the `$schema` URL on every schema, zod's ±2^53 bounds on every integer, `annotations.title`
// (a copy of the tool's title) and `execution: {taskSupport: "forbidden"}` (the default).
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ListToolsRequestSchema, type ListToolsResult, type Tool } from '@modelcontextprotocol/sdk/types.js';

type Handler = (request: unknown, extra: unknown) => Promise<ListToolsResult> | ListToolsResult;

/**
 * Wraps the SDK's tools/list handler. The SDK keeps its handlers in a private map; if that ever
 * changes, the listing is simply left as the SDK builds it.
 */
export function compactToolList(server: McpServer): void {
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, Handler> })._requestHandlers;
  const original = handlers?.get('tools/list');
  if (!original) return;
  server.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    const result = await original(request, extra);
    return { ...result, tools: result.tools.map(compactTool) };
  });
}

export function compactTool(tool: Tool): Tool {
  const out: Tool = { ...tool, inputSchema: compactSchema(tool.inputSchema) as Tool['inputSchema'] };
  if (tool.outputSchema) out.outputSchema = compactSchema(tool.outputSchema) as Tool['outputSchema'];
  if (tool.annotations?.title !== undefined && tool.annotations.title === tool.title) {
    const { title: _drop, ...rest } = tool.annotations;
    out.annotations = rest;
  }
  if (tool.execution?.taskSupport === 'forbidden' && Object.keys(tool.execution).length === 1) delete out.execution;
  return out;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function compactSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(compactSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema') continue;
    if (key === 'maximum' && value === MAX_SAFE) continue;
    if (key === 'minimum' && value === -MAX_SAFE) continue;
    out[key] = compactSchema(value);
  }
  return out;
}
