// What a tool is: a name, a description written for a model, a zod input shape, annotations and
// one `run` function. The same definition is published to MCP hosts (server.ts) and given to the
// delegate's subagent (agent/), so each tool has exactly one implementation.
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { ToolGroup } from '../config/index.js';
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
  run(args: z.infer<z.ZodObject<In>>, call: CallContext): Promise<CallToolResult>;
}

/** Identity function that keeps the input shape's type for `run`. */
export function defineTool<In extends Shape>(spec: ToolSpec<In>): ToolSpec<In> {
  return spec;
}

/** A ToolSpec with its input type erased, for lists of tools. */
export type AnyToolSpec = ToolSpec<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
