// The host's logging/setLevel for one session. Tool log lines are sent as notifications related to
// the tool call (so over HTTP they travel on the call's own stream, which every client reads);
// that path bypasses the SDK's level filter, so this replaces it.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SetLevelRequestSchema, type LoggingLevel } from '@modelcontextprotocol/sdk/types.js';

const SEVERITY: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

export interface LogLevelGate {
  enabled(level: LoggingLevel): boolean;
}

/**
 * Log lines are opt-in: none is sent until the host asks with logging/setLevel, then those at or
 * above the level it set. (A host that never asked would otherwise get every delegate step twice:
 * as progress and again as a log line.)
 */
export function trackLogLevel(server: McpServer, initial?: LoggingLevel): LogLevelGate {
  let threshold = initial;
  server.server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    threshold = request.params.level;
    return {};
  });
  return { enabled: (level) => threshold !== undefined && SEVERITY.indexOf(level) >= SEVERITY.indexOf(threshold) };
}
