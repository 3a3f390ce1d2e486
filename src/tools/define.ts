// What a tool is: a name, a description written for a model, a zod input shape, annotations and
// one `run` function. The same definition is published to MCP hosts (server.ts) and given to the
// delegate's subagent (agent/), so each tool has exactly one implementation.
import type { CallToolResult, ReadResourceResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { ToolGroup } from '../config/index.js';

/** The answer to an approval question put to the host's user (MCP elicitation). */
export type ApprovalAnswer = 'accept' | 'decline' | 'cancel' | 'unavailable' | 'timeout';

/** What a tool may use while one call runs: cancellation, progress, logs, and the host's user. */
export interface CallContext {
  /** Aborted when the caller cancels (notifications/cancelled) or the server shuts down. */
  signal: AbortSignal;
  /** Reports a meaningful step; sent as notifications/progress only when the caller gave a progressToken. */
  progress(message: string): void;
  /** Sends a notifications/message log line (filtered by the host's logging/setLevel). */
  log(level: 'debug' | 'info' | 'notice' | 'warning' | 'error', message: string): void;
  /**
   * Asks the host's user a yes/no question; never hangs (times out to 'timeout'). The question is
   * withdrawn (the host's request cancelled, the answer 'cancel') when the call's signal aborts,
   * or `opts.signal` does: a delegate run that times out or is cancelled passes its own.
   */
  askApproval(message: string, opts?: { signal?: AbortSignal }): Promise<ApprovalAnswer>;
}

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
