// What a tool call may use while it runs (cancellation, progress, logs, the host's user). Shared by
// the tools (tools/define.ts), the MCP glue that builds it (mcp/call-context.ts) and the core
// modules that take it (exec/), so that no core module imports from tools/.

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
