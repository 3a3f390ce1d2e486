// Types for model-server.mjs (the scripted Responses / Chat Completions endpoint).
import type { IncomingHttpHeaders } from 'node:http';

export type ScriptedItem =
  | { type: 'message'; text: string }
  | { type: 'function_call'; name: string; arguments: Record<string, unknown> | string; call_id?: string; namespace?: string }
  | { type: 'tool_search_call'; arguments: { query: string; limit: number }; call_id?: string }
  | { type: 'custom_tool_call'; name: string; input: string; call_id?: string }
  | { type: 'apply_patch'; patch: string; call_id?: string }
  | { type: 'reasoning'; summary: string[]; encrypted_content?: string };

export interface ScriptedUsage {
  input_tokens?: number;
  cached_input_tokens?: number;
  output_tokens?: number;
  reasoning_tokens?: number;
}

export interface ReplyStep {
  output?: ScriptedItem[];
  usage?: ScriptedUsage;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Send the first event, then keep the stream open until the client goes away. */
  hang?: boolean;
  /** Drop the connection before the completion event. */
  truncate?: boolean;
  /** Send a line of malformed JSON after the first event, then end the stream. */
  malformed?: boolean;
  /** Responses: end with response.failed carrying this error. */
  failed?: { message: string; code?: string };
  /** Responses: end with an `error` event. */
  streamError?: { message: string; code?: string };
  /** End with response.incomplete for this reason (chat: finish_reason "length"). */
  incomplete?: string;
  /** Ignore `stream: true`: answer with one application/json body. */
  plain?: boolean;
}

export interface ErrorStep {
  error: number;
  message?: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

export interface RecordedRequest {
  path: string;
  wire: 'responses' | 'chat' | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: IncomingHttpHeaders;
  /** True once the client closed the connection. */
  closed: boolean;
}

export type Step = ReplyStep | ErrorStep;
export type StepFn = (request: RecordedRequest, index: number) => Step;

export interface ModelServer {
  /** Base URL to configure as a provider's base_url, e.g. http://127.0.0.1:40123/v1 */
  url: string;
  requests: RecordedRequest[];
  script(...steps: Array<Step | StepFn>): void;
  otherwise(step: Step | StepFn): void;
  pending(): number;
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function startModelServer(): Promise<ModelServer>;
export function say(text: string): ScriptedItem;
export function call(name: string, args?: Record<string, unknown> | string, call_id?: string, namespace?: string): ScriptedItem;
export function search(query: string, limit?: number, call_id?: string): ScriptedItem;
export function patch(text: string, call_id?: string): ScriptedItem;
export function think(summary: string, encrypted_content?: string): ScriptedItem;
