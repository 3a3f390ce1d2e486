// The conversation as agentbox keeps it: a list of items shaped like the Responses API's input and
// output items, reduced to what the loop needs. The model client translates them to either wire
// (Responses or Chat Completions); the thread store persists them as they are.

/** A text message. `developer` carries instructions (merged into the system message on the chat wire). */
export interface MessageItem {
  type: 'message';
  role: 'user' | 'assistant' | 'developer';
  content: string;
}

/** Model reasoning; replayed verbatim on the Responses wire when it carries encrypted content. */
export interface ReasoningItem {
  type: 'reasoning';
  id?: string;
  summary: string[];
  encrypted_content?: string;
}

/** A JSON function call; `arguments` is the raw JSON text the model produced. */
export interface FunctionCallItem {
  type: 'function_call';
  call_id: string;
  name: string;
  arguments: string;
}

/** A freeform (custom) tool call, used for apply_patch on the Responses wire. */
export interface CustomToolCallItem {
  type: 'custom_tool_call';
  call_id: string;
  name: string;
  input: string;
}

export interface FunctionCallOutputItem {
  type: 'function_call_output';
  call_id: string;
  output: string;
}

export interface CustomToolCallOutputItem {
  type: 'custom_tool_call_output';
  call_id: string;
  output: string;
}

export type Item =
  | MessageItem
  | ReasoningItem
  | FunctionCallItem
  | CustomToolCallItem
  | FunctionCallOutputItem
  | CustomToolCallOutputItem;

export type ToolCallItem = FunctionCallItem | CustomToolCallItem;

export function isToolCall(item: Item): item is ToolCallItem {
  return item.type === 'function_call' || item.type === 'custom_tool_call';
}

/** The output item that answers `call`, under the same call id. */
export function outputFor(call: ToolCallItem, output: string): Item {
  return call.type === 'custom_tool_call'
    ? { type: 'custom_tool_call_output', call_id: call.call_id, output }
    : { type: 'function_call_output', call_id: call.call_id, output };
}

/** Token counts, summed over every request of a run. */
export interface Usage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

export const zeroUsage = (): Usage => ({ input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_tokens: 0 });

/** Token counts for people: `12 in (3 cached), 4 out (1 reasoning)`. */
export function formatUsage(u: Usage): string {
  return `${u.input_tokens} in (${u.cached_input_tokens} cached), ${u.output_tokens} out (${u.reasoning_tokens} reasoning)`;
}

export function addUsage(into: Usage, add: Usage): Usage {
  into.input_tokens += add.input_tokens;
  into.cached_input_tokens += add.cached_input_tokens;
  into.output_tokens += add.output_tokens;
  into.reasoning_tokens += add.reasoning_tokens;
  return into;
}

/** The text of the last assistant message among `items`, or '' when there is none. */
export function lastAssistantText(items: readonly Item[]): string {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    if (item.type === 'message' && item.role === 'assistant' && item.content.trim() !== '') return item.content;
  }
  return '';
}

/**
 * Gives every tool call without an output a synthetic one, and drops every output whose call is
 * not there, so the history can be sent again (both wires reject a call with no result and a
 * result with no call). Used after a cancel, a server killed mid-step, a thread file with a
 * skipped line, and when old items are cut for a compaction request.
 */
export function closeDanglingCalls(items: readonly Item[], note: string): Item[] {
  const answered = new Set(
    items.filter((i) => i.type === 'function_call_output' || i.type === 'custom_tool_call_output').map((i) => (i as FunctionCallOutputItem).call_id),
  );
  const called = new Set(items.filter(isToolCall).map((i) => i.call_id));
  const out: Item[] = [];
  for (const item of items) {
    if ((item.type === 'function_call_output' || item.type === 'custom_tool_call_output') && !called.has(item.call_id)) continue;
    out.push(item);
    if (isToolCall(item) && !answered.has(item.call_id)) out.push(outputFor(item, note));
  }
  return out;
}
