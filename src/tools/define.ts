// What a tool is: a name, a description written for a model, a zod input shape, annotations and
// one `run` function. The same definition is published to MCP hosts (server.ts) and given to the
// delegate's subagent (agent/), so each tool has exactly one implementation.
import type { CallToolResult, ReadResourceResult, Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { ToolGroup } from '../config/index.js';
import type { TaskSource } from '../mcp/tasks.js';
import type { CallContext } from '../types/call.js';

// Re-exported for existing imports; the types live in types/call.ts.
export type { ApprovalAnswer, CallContext } from '../types/call.js';

export type Shape = z.ZodRawShape;

export interface ToolSpec<In extends Shape = Shape> {
  name: string;
  title: string;
  group: ToolGroup;
  description: string;
  input: In;
  /** Only for tools whose result is data (structuredContent); payload tools return text only. */
  output?: Shape;
  annotations: ToolAnnotations;
  /** Unknown arguments are an error (default), or passed over (`false`). */
  strict?: boolean;
  /** Published in tools/list exactly as given, instead of what the zod shapes produce (a compatibility tool's fixed schemas). */
  listing?: Pick<Tool, 'name' | 'title' | 'description' | 'inputSchema' | 'outputSchema'>;
  run(args: z.infer<z.ZodObject<In>>, call: CallContext): Promise<CallToolResult>;
  /**
   * Also callable as an MCP task (execution.taskSupport "optional"): starts the work without
   * waiting for it and names the task and the source that answers for it, or gives the error
   * result of work that could not start. `progress` reaches the caller while its session lasts.
   */
  task?(args: z.infer<z.ZodObject<In>>, call: CallContext, progress: (message: string) => void): Promise<TaskStart>;
}

export type TaskStart = { ok: true; taskId: string; source: TaskSource } | { ok: false; result: CallToolResult };

/** Identity function that keeps the input shape's type for `run`. */
export function defineTool<In extends Shape>(spec: ToolSpec<In>): ToolSpec<In> {
  return spec;
}

/** A ToolSpec with its input type erased, for lists of tools. */
export type AnyToolSpec = ToolSpec<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A resource (or a URI template of resources) published next to a tool group's tools. */
export interface ResourceSpec {
  name: string;
  group: ToolGroup;
  /** A fixed URI, or a URI template with {variables}, e.g. agentbox://threads/{id}. */
  uri: string;
  title: string;
  description: string;
  mimeType: string;
  /** For a template: the resources it currently stands for (shown in resources/list). */
  list?(): Promise<Array<{ uri: string; name: string; title?: string; description?: string; mimeType?: string }>>;
  read(uri: URL, vars: Record<string, string | string[]>): Promise<ReadResourceResult>;
}
