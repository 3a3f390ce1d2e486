// Turns core results into MCP tool results. Payload tools (file text, search hits, command output,
// diffs) return plain text only; data tools return structuredContent plus the same data as text.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { formatFailure, type Failure, type Result } from '../util/result.js';

export function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

export function errorResult(error: Failure | string): CallToolResult {
  return { content: [{ type: 'text', text: typeof error === 'string' ? error : formatFailure(error) }], isError: true };
}

/** structuredContent for hosts that read data, and the same as text for hosts that read text. */
export function dataResult(data: Record<string, unknown>, text?: string): CallToolResult {
  return { content: [{ type: 'text', text: text ?? JSON.stringify(data, null, 2) }], structuredContent: data };
}

/** Maps a core Result to a tool result with `render` for the success case. */
export function toToolResult<T>(result: Result<T>, render: (value: T) => CallToolResult): CallToolResult {
  return result.ok ? render(result.value) : errorResult(result.error);
}
