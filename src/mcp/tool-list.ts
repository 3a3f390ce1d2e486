// Keeps tools/list small: every character of it sits in the host model's context on every turn.
// The SDK's listing carries bytes no model needs; this strips them after the SDK builds the list:
// the `$schema` URL on every schema, zod's ±2^53 bounds on every integer, `annotations.title`
// (a copy of the tool's title), `execution: {taskSupport: "forbidden"}` (the default), and
// `additionalProperties: false` in output schemas, and setTimeout's bound on timeouts.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ListToolsRequestSchema, type ListToolsResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Extra } from './extra.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RequestHandler = (request: any, extra: Extra) => Promise<any>;

/**
 * Puts `wrap` around the handler the SDK installed for a request method. The SDK keeps its
 * handlers in a private map; if that ever changes, the handler is left as the SDK built it.
 */
export function wrapRequestHandler(server: McpServer, schema: { shape: { method: { value: string } } }, wrap: (original: RequestHandler) => RequestHandler): boolean {
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, RequestHandler> })._requestHandlers;
  const original = handlers?.get(schema.shape.method.value);
  if (!original) return false;
  server.server.setRequestHandler(schema as unknown as typeof ListToolsRequestSchema, wrap(original) as never);
  return true;
}

/** Wraps the SDK's tools/list handler to strip what no model needs. */
export function compactToolList(server: McpServer, replace?: (tool: Tool) => Tool): void {
  wrapRequestHandler(server, ListToolsRequestSchema, (original) => async (request, extra) => {
    const result = (await original(request, extra)) as ListToolsResult;
    return { ...result, tools: result.tools.map((t) => compactTool(replace ? replace(t) : t)) };
  });
}

export function compactTool(tool: Tool): Tool {
  const out: Tool = { ...tool, inputSchema: compactSchema(tool.inputSchema) as Tool['inputSchema'] };
  if (tool.outputSchema) out.outputSchema = compactSchema(tool.outputSchema, true) as Tool['outputSchema'];
  if (tool.annotations?.title !== undefined && tool.annotations.title === tool.title) {
    const { title: _drop, ...rest } = tool.annotations;
    out.annotations = rest;
  }
  if (tool.execution?.taskSupport === 'forbidden' && Object.keys(tool.execution).length === 1) delete out.execution;
  return out;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_TIMER = 2_147_483_647;

/**
 * `schema` without what no model needs. In an output schema `additionalProperties: false` goes too:
 * it describes what agentbox sends, and the server is the only one bound by it.
 */
function compactSchema(schema: unknown, output = false): unknown {
  if (Array.isArray(schema)) return schema.map((s) => compactSchema(s, output));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema') continue;
    if (key === 'maximum' && value === MAX_SAFE) continue;
    if (key === 'minimum' && value === -MAX_SAFE) continue;
    // setTimeout's bound on timeouts (about 24.8 days): enforced, and no information for a model.
    if (key === 'maximum' && value === MAX_TIMER) continue;
    if (output && key === 'additionalProperties' && value === false) continue;
    out[key] = compactSchema(value, output);
  }
  return out;
}
