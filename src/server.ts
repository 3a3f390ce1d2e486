// createServer: one McpServer with agentbox's tools, for one MCP session. The stdio transport makes
// one; the HTTP transport makes one per session. Tools come from tools/*.ts as ToolSpecs; this file
// only publishes them (a tool with `task` also as an MCP task tool); mcp/ holds the glue (call
// context, host roots, log level, tools/list, the task store).
import type { CreateTaskRequestHandlerExtra, TaskRequestHandlerExtra } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolRequest, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { agentService } from './agent/index.js';
import type { ToolGroup } from './config/index.js';
import { callContext } from './mcp/call-context.js';
import type { Extra } from './mcp/extra.js';
import { trackHostRoots } from './mcp/host-roots.js';
import { trackLogLevel } from './mcp/log-level.js';
import { SourceTaskStore, TASK_POLL_MS } from './mcp/tasks.js';
import { compactToolList, wrapRequestHandler } from './mcp/tool-list.js';
import type { Runtime } from './runtime.js';
import { fitLines, formatCount } from './util/budget.js';
import { createSessionContext, type SessionContext } from './session.js';
import { availableTools } from './tools/available.js';
import type { AnyToolSpec, ResourceSpec } from './tools/define.js';
import { codexCompatTools } from './tools/codex-compat.js';
import { delegateResources, delegateTaskSource, delegateTools } from './tools/delegate.js';
import { editTools } from './tools/edit.js';
import { fileTools } from './tools/files.js';
import { gitTools } from './tools/git.js';
import { patchTools } from './tools/patch.js';
import { shellTools } from './tools/shell.js';
import { VERSION } from './version.js';

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
  return [
    ...fileTools(session),
    ...editTools(session),
    ...patchTools(session),
    ...shellTools(session),
    ...gitTools(session),
    ...delegateTools(session, allTools),
    ...(session.runtime.config.codex.compat ? codexCompatTools(session, allTools) : []),
  ];
}

/** Every resource agentbox publishes, for one session, before the `tools` setting filters them by group. */
export function allResources(session: SessionContext): ResourceSpec[] {
  return [...delegateResources(session, allTools)];
}

/** What the host's model is told about this server, naming the roots when they are known up front. */
function instructions(session: SessionContext, groups: ReadonlySet<ToolGroup>, withheld: readonly string[]): string {
  const roots = session.workspace.roots;
  const mode = session.policy().mode;
  const where = session.workspace.fixedRoots
    ? `Workspace root${roots.length > 1 ? 's' : ''}: ${roots.join(', ')}; relative paths resolve against ${roots[0]}.`
    : 'The workspace is the host\'s roots (or the directory the server started in); relative paths resolve against the first root.';
  const confinement =
    mode === 'danger-full-access'
      ? 'This server runs with danger-full-access: commands are NOT sandboxed and can change anything the user can.'
      : mode === 'read-only'
        ? 'The sandbox is read-only: nothing in the workspace can be changed.'
        : 'Commands and writes are confined to the workspace by an OS sandbox; .git is changed only through the git_* tools.';
  const explore = groups.has('files') ? ' Prefer grep, glob and read_file to explore before changing anything.' : '';
  const missing = withheld.filter((w) => !w.startsWith('The sandbox is read-only')).map((w) => ` ${w}`).join('');
  return `agentbox gives you a coding agent's tools on this machine. ${confinement} ${where}${explore}${missing}`;
}

export function createServer(runtime: Runtime, opts: CreateServerOptions = {}): CreatedServer {
  const session = createSessionContext(runtime);
  const groups = new Set<ToolGroup>(runtime.config.tools);
  const { tools, withheld } = availableTools(allTools(session).filter((t) => groups.has(t.group)), session);
  // Tools that can also run as MCP tasks make the server a task server: one store per runtime,
  // so a task outlives the session that created it.
  const taskStore = tools.some((t) => t.task) ? runtime.shared('mcp-task-store', () => new SourceTaskStore()) : undefined;
  const server = new McpServer(
    { name: 'agentbox', title: 'agentbox', version: VERSION },
    {
      capabilities: { logging: {}, ...(taskStore ? { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } } : {}) },
      instructions: instructions(session, groups, withheld),
      ...(taskStore ? { taskStore } : {}),
    },
  );
  // Tasks created by an earlier server process (a thread's turn) are still answered.
  if (taskStore && groups.has('delegate')) taskStore.addSource(delegateTaskSource(agentService(runtime, allTools)));
  const roots = trackHostRoots(server, session);
  const logLevel = trackLogLevel(server);

  const handle = async (tool: AnyToolSpec, args: Record<string, unknown>, extra: Extra): Promise<CallToolResult> => {
    await roots.refresh(extra);
    const call = callContext(server, runtime, extra, logLevel);
    const started = performance.now();
    try {
      const result = withinBudget(await tool.run(args, call), runtime.config.output.max_chars);
      const ms = Math.round(performance.now() - started);
      // The result already tells the model; the log line is for a human who turned on debug.
      call.log('debug', result.isError ? `${tool.name} failed after ${ms} ms: ${firstText(result)}` : `${tool.name} finished in ${ms} ms`);
      return result;
    } finally {
      call.dispose();
    }
  };
  /** Task-capable tools called without `task`: run as any tool (progress, cancellation), not by the SDK's polling. */
  const direct = new Map<string, (request: CallToolRequest, extra: Extra) => Promise<CallToolResult>>();
  /** Tools published without task support. */
  const plain = new Set<string>();

  for (const tool of tools) {
    // Strict: a misspelled argument is an error the model can fix, not silently ignored.
    const inputSchema = tool.strict === false ? z.object(tool.input).passthrough() : z.object(tool.input).strict();
    const config = {
      title: tool.title,
      description: tool.description,
      inputSchema,
      ...(tool.output ? { outputSchema: tool.output } : {}),
      annotations: tool.annotations,
    };
    const startTask = tool.task;
    if (!startTask || !taskStore) {
      server.registerTool(tool.name, config, (args: Record<string, unknown>, extra: Extra) => handle(tool, args, extra));
      plain.add(tool.name);
      continue;
    }
    server.experimental.tasks.registerToolTask(
      tool.name,
      { ...config, execution: { taskSupport: 'optional' } },
      {
        createTask: async (args: unknown, extra: CreateTaskRequestHandlerExtra) => {
          await roots.refresh(extra);
          const call = callContext(server, runtime, extra, logLevel);
          try {
            const token = extra._meta?.progressToken;
            let step = 0;
            const progress = (message: string) => {
              if (token === undefined) return;
              server.server.notification({ method: 'notifications/progress', params: { progressToken: token, progress: ++step, message } }).catch(() => undefined);
            };
            const started = await startTask(args as Record<string, unknown>, call, progress);
            const context = started.ok ? { taskId: started.taskId, source: started.source } : { failed: started.result };
            const task = await extra.taskStore.createTask({ ttl: extra.taskRequestedTtl ?? null, pollInterval: TASK_POLL_MS, context });
            return { task };
          } finally {
            call.dispose();
          }
        },
        getTask: async (_args: unknown, extra: TaskRequestHandlerExtra) => extra.taskStore.getTask(extra.taskId),
        getTaskResult: async (_args: unknown, extra: TaskRequestHandlerExtra) => (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
      },
    );
    direct.set(tool.name, async (request, extra) => {
      const parsed = inputSchema.safeParse(request.params.arguments ?? {});
      if (!parsed.success) {
        return { content: [{ type: 'text', text: `Input validation error: Invalid arguments for tool ${tool.name}: ${z.prettifyError(parsed.error)}` }], isError: true };
      }
      try {
        return await handle(tool, parsed.data, extra);
      } catch (err) {
        return { content: [{ type: 'text', text: (err as Error)?.message ?? String(err) }], isError: true };
      }
    });
  }
  for (const resource of allResources(session)) {
    if (groups.has(resource.group)) registerResource(server, resource);
  }
  opts.extend?.(server, session);
  // A task asked of one of our tools that cannot run as one is refused before it runs (the SDK would
  // run it, then fail to create the task); unknown names and extend's tools get the SDK's own answer.
  wrapRequestHandler(server, CallToolRequestSchema, (original) => async (request: CallToolRequest, extra) => {
    const { name, task } = request.params;
    if (task && plain.has(name)) {
      throw new McpError(ErrorCode.InvalidParams, `Tool ${name} cannot run as a task (it has no execution.taskSupport): call it without "task".`);
    }
    const run = task ? undefined : direct.get(name);
    return run ? run(request, extra) : original(request, extra);
  });
  if (tools.length === 0 && !opts.extend) {
    // Every group named was empty: still answer tools/list (with nothing) rather than "method not found".
    server.server.registerCapabilities({ tools: {} });
    server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [] }));
  }
  const listings = new Map(tools.filter((t) => t.listing).map((t) => [t.name, t.listing!]));
  compactToolList(server, listings.size > 0 ? (t) => (listings.has(t.name) ? { ...t, ...listings.get(t.name) } : t) : undefined);

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

/**
 * The last guard of the reply budget: a text longer than `max` characters is cut at a line with a
 * note. Tools size their own payloads and name the exact next call; this catches what they cannot.
 */
function withinBudget(result: CallToolResult, max: number): CallToolResult {
  if (!result.content.some((c) => c.type === 'text' && c.text.length > max)) return result;
  const content = result.content.map((c) =>
    c.type === 'text' && c.text.length > max
      ? { ...c, text: fitLines(c.text, max, (n) => `[cut at the ${formatCount(max)}-character reply budget: ${n} more lines not shown; ask for less (a narrower path, pattern or range)]`) }
      : c,
  );
  return { ...result, content };
}

function firstText(result: CallToolResult): string {
  const item = result.content.find((c) => c.type === 'text');
  return item && item.type === 'text' ? item.text.split('\n')[0]!.slice(0, 200) : '';
}
