// Types for anthropic-server.mjs (the scripted Anthropic Messages API stand-in).

export interface ToolUse {
  tool: string;
  input?: Record<string, unknown>;
}

/** One main-loop reply: tool calls (one or parallel), a text before them, or a final text alone (ends a `-p` run). */
export interface Step {
  tool?: string;
  input?: Record<string, unknown>;
  tools?: ToolUse[];
  say?: string;
  /** Filled in when sent: the tool_use ids, in order. */
  ids?: string[];
}

export interface ToolResult {
  tool_use_id: string;
  is_error: boolean;
  /** The content as text (text blocks joined; other blocks as [type]). */
  text: string;
  content: unknown;
}

export interface RecordedRequest {
  kind: 'main' | 'side' | 'unexpected';
  /** The script step this main-loop request took. */
  step?: number;
  body: Record<string, unknown>;
  /** The tool_result blocks of the last user message: what the model got back from its tool calls. */
  toolResults: ToolResult[];
  reply?: Step;
}

export interface AnthropicServer {
  url: string;
  requests: RecordedRequest[];
  script(...steps: Array<Step | ((request: RecordedRequest, all: RecordedRequest[]) => Step)>): void;
  main(): RecordedRequest[];
  close(): Promise<void>;
}

export function use(name: string, input?: Record<string, unknown>): ToolUse;
export function startAnthropicServer(): Promise<AnthropicServer>;
