// createServer: one McpServer with agentbox's tools, for one MCP session. The stdio transport makes
// one; the HTTP transport makes one per session. Tools come from tools/*.ts as ToolSpecs; this file
// only publishes them and builds each call's CallContext (cancellation, progress, logs, approvals).
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolResult,
  ElicitResultSchema,
  ListRootsResultSchema,
  type LoggingLevel,
  SetLevelRequestSchema,
  RootsListChangedNotificationSchema,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { ToolGroup } from './config/index.js';
import type { Runtime } from './runtime.js';
import { createSessionContext, type SessionContext } from './session.js';
import type { AnyToolSpec, ApprovalAnswer, CallContext, ResourceSpec } from './tools/define.js';
import { delegateResources, delegateTools } from './tools/delegate.js';
import { editTools } from './tools/edit.js';
import { fileTools } from './tools/files.js';
import { gitTools } from './tools/git.js';
import { patchTools } from './tools/patch.js';
import { VERSION } from './version.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface CreatedServer {
  server: McpServer;
  session: SessionContext;
  /** Closes the MCP connection and ends everything this session started. */
  close(): Promise<void>;
}

export interface CreateServerOptions {
  /** Registers extra tools, resources and prompts (the conformance fixtures use this). */
  extend?: (server: McpServer, session: SessionContext) => void;
}

/** Every tool agentbox has, for one session, before the `tools` setting filters them. */
export function allTools(session: SessionContext): AnyToolSpec[] {
  return [...fileTools(session), ...editTools(session), ...patchTools(session), ...gitTools(session), ...delegateTools(session, allTools)];
}

/** Every resource agentbox publishes, for one session, before the `tools` setting filters them by group. */
export function allResources(session: SessionContext): ResourceSpec[] {
  return [...delegateResources(session, allTools)];
}

const INSTRUCTIONS =
  'agentbox gives you a coding agent\'s tools on this machine, confined to the workspace by an OS sandbox. ' +
  'Paths are relative to the workspace root. Prefer grep/glob/read_file to explore before changing anything.';

export function createServer(runtime: Runtime, opts: CreateServerOptions = {}): CreatedServer {
  const session = createSessionContext(runtime);
  const server = new McpServer(
    { name: 'agentbox', title: 'agentbox', version: VERSION },
    { capabilities: { logging: {} }, instructions: INSTRUCTIONS },
  );
  const roots = trackHostRoots(server, session);
  const logLevel = trackLogLevel(server);
  const groups = new Set<ToolGroup>(runtime.config.tools);

  for (const tool of allTools(session)) {
    if (!groups.has(tool.group)) continue;
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        ...(tool.output ? { outputSchema: tool.output } : {}),
        annotations: tool.annotations,
      },
      async (args: Record<string, unknown>, extra: Extra) => {
        await roots.refresh(extra);
        const call = callContext(server, runtime, extra, logLevel);
        const started = performance.now();
        try {
          const result = await tool.run(args, call);
          const ms = Math.round(performance.now() - started);
          if (result.isError) call.log('notice', `${tool.name} failed after ${ms} ms: ${firstText(result)}`);
          else call.log('debug', `${tool.name} finished in ${ms} ms`);
          return result;
        } finally {
          call.dispose();
        }
      },
    );
  }
  for (const resource of allResources(session)) {
    if (groups.has(resource.group)) registerResource(server, resource);
  }
  opts.extend?.(server, session);

  return {
    server,
    session,
    async close() {
      await session.close();
      await server.close().catch(() => undefined);
    },
  };
}

function registerResource(server: McpServer, spec: ResourceSpec): void {
  const meta = { title: spec.title, description: spec.description, mimeType: spec.mimeType };
  if (!spec.uri.includes('{')) {
    server.registerResource(spec.name, spec.uri, meta, (uri) => spec.read(uri, {}));
    return;
  }
  const list = spec.list;
  const template = new ResourceTemplate(spec.uri, { list: list ? async () => ({ resources: await list() }) : undefined });
  server.registerResource(spec.name, template, meta, (uri, vars) => spec.read(uri, vars));
}

function firstText(result: CallToolResult): string {
  const item = result.content.find((c) => c.type === 'text');
  return item && item.type === 'text' ? item.text.split('\n')[0]!.slice(0, 200) : '';
}

/**
 * When no --root was given, the host's MCP roots become the workspace. They are fetched on the
 * first tool call (as a request related to that call, so it reaches the host over any transport)
 * and again after each notifications/roots/list_changed.
 */
function trackHostRoots(server: McpServer, session: SessionContext) {
  let stale = true;
  let inFlight: Promise<void> | undefined;
  server.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    stale = true;
  });
  return {
    async refresh(extra: Extra): Promise<void> {
      if (session.workspace.fixedRoots || !stale) return;
      if (!server.server.getClientCapabilities()?.roots) {
        stale = false;
        return;
      }
      inFlight ??= (async () => {
        try {
          const result = await extra.sendRequest({ method: 'roots/list' }, ListRootsResultSchema, { timeout: 5000 });
          const dirs = session.workspace.setHostRoots(result.roots.map((r) => r.uri));
          session.runtime.log.info({ roots: dirs }, 'workspace roots from the host');
          stale = false;
        } catch (err) {
          session.runtime.log.warn({ err: (err as Error).message }, 'could not fetch the host roots; keeping the current workspace');
          stale = false;
        } finally {
          inFlight = undefined;
        }
      })();
      await inFlight;
    },
  };
}

const SEVERITY: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/**
 * The host's logging/setLevel for this session. Log lines are sent as notifications related to
 * the tool call (so over HTTP they travel on the call's own stream, which every client reads),
 * which bypasses the SDK's own level filter: this replaces it.
 */
function trackLogLevel(server: McpServer): { enabled(level: LoggingLevel): boolean } {
  let threshold: LoggingLevel | undefined;
  server.server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    threshold = request.params.level;
    return {};
  });
  return { enabled: (level) => threshold === undefined || SEVERITY.indexOf(level) >= SEVERITY.indexOf(threshold) };
}

/** Builds what a tool sees of its call: a signal that also follows server shutdown, progress, logs, approvals. */
function callContext(server: McpServer, runtime: Runtime, extra: Extra, logLevel: { enabled(level: LoggingLevel): boolean }): CallContext & { dispose(): void } {
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
    async askApproval(message): Promise<ApprovalAnswer> {
      if (!server.server.getClientCapabilities()?.elicitation) return 'unavailable';
      try {
        const answer = await extra.sendRequest(
          { method: 'elicitation/create', params: { message, requestedSchema: { type: 'object', properties: {} } } },
          ElicitResultSchema,
          { timeout: runtime.config.approval_timeout_ms, signal: controller.signal },
        );
        return answer.action;
      } catch (err) {
        runtime.log.info({ err: (err as Error).message }, 'approval request got no answer');
        return controller.signal.aborted ? 'cancel' : 'timeout';
      }
    },
    dispose() {
      extra.signal.removeEventListener('abort', abort);
      runtime.signal.removeEventListener('abort', abort);
    },
  };
}
