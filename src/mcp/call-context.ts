// Builds what a tool sees of one call (CallContext) from the SDK's request context: a signal that
// also follows server shutdown, progress only when the caller asked for it, log lines filtered by
// the host's level, and approvals through standard elicitation that never hang.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Runtime } from '../runtime.js';
import type { ApprovalAnswer, CallContext } from '../types/call.js';
import type { Extra } from './extra.js';
import type { LogLevelGate } from './log-level.js';

export function callContext(server: McpServer, runtime: Runtime, extra: Extra, logLevel: LogLevelGate): CallContext & { dispose(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort(extra.signal.reason ?? runtime.signal.reason);
  if (extra.signal.aborted || runtime.signal.aborted) abort();
  extra.signal.addEventListener('abort', abort, { once: true });
  runtime.signal.addEventListener('abort', abort, { once: true });

  const token = extra._meta?.progressToken;
  let step = 0;
  return {
    signal: controller.signal,
    progress(message) {
      if (token === undefined || controller.signal.aborted) return;
      step++;
      extra
        .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: step, message } })
        .catch(() => undefined);
    },
    log(level, message) {
      if (!logLevel.enabled(level)) return;
      extra
        .sendNotification({ method: 'notifications/message', params: { level, logger: 'agentbox', data: message } })
        .catch(() => undefined);
    },
    async askApproval(message, opts): Promise<ApprovalAnswer> {
      if (!server.server.getClientCapabilities()?.elicitation) return 'unavailable';
      const signal = opts?.signal ? AbortSignal.any([controller.signal, opts.signal]) : controller.signal;
      if (signal.aborted) return 'cancel';
      try {
        const answer = await extra.sendRequest(
          { method: 'elicitation/create', params: { message, requestedSchema: { type: 'object', properties: {} } } },
          ElicitResultSchema,
          { timeout: runtime.config.approval_timeout_ms, signal },
        );
        return answer.action;
      } catch (err) {
        runtime.log.info({ err: (err as Error).message }, 'approval request got no answer');
        return signal.aborted ? 'cancel' : 'timeout';
      }
    },
    dispose() {
      extra.signal.removeEventListener('abort', abort);
      runtime.signal.removeEventListener('abort', abort);
    },
  };
}
