// createServer: one McpServer with agentbox's tools, for one MCP session. The stdio transport makes
// one; the HTTP transport makes one per session. Tools come from tools/*.ts as ToolSpecs; this file
// only publishes them; mcp/ holds the glue (call context, host roots, log level, tools/list).
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ToolGroup } from './config/index.js';
import { callContext } from './mcp/call-context.js';
import type { Extra } from './mcp/extra.js';
import { trackHostRoots } from './mcp/host-roots.js';
import { trackLogLevel } from './mcp/log-level.js';
import { compactToolList } from './mcp/tool-list.js';
import type { Runtime } from './runtime.js';
import { createSessionContext, type SessionContext } from './session.js';
import type { AnyToolSpec, ResourceSpec } from './tools/define.js';
import { delegateResources, delegateTools } from './tools/delegate.js';
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
  return [...fileTools(session), ...editTools(session), ...patchTools(session), ...shellTools(session), ...gitTools(session), ...delegateTools(session, allTools)];
}

/** Every resource agentbox publishes, for one session, before the `tools` setting filters them by group. */
export function allResources(session: SessionContext): ResourceSpec[] {
  return [...delegateResources(session, allTools)];
}

/** What the host's model is told about this server, naming the roots when they are known up front. */
function instructions(session: SessionContext, groups: ReadonlySet<ToolGroup>): string {
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
  return `agentbox gives you a coding agent's tools on this machine. ${confinement} ${where}${explore}`;
}

export function createServer(runtime: Runtime, opts: CreateServerOptions = {}): CreatedServer {
  const session = createSessionContext(runtime);
  const server = new McpServer(
    { name: 'agentbox', title: 'agentbox', version: VERSION },
    { capabilities: { logging: {} }, instructions: instructions(session, new Set(runtime.config.tools)) },
  );
  const roots = trackHostRoots(server, session);
  const logLevel = trackLogLevel(server);
  const groups = new Set<ToolGroup>(runtime.config.tools);

  let published = 0;
  for (const tool of allTools(session)) {
    if (!groups.has(tool.group)) continue;
    published++;
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        // Strict: a misspelled argument is an error the model can fix, not silently ignored.
        inputSchema: z.object(tool.input).strict(),
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
          // The result already tells the model; the log line is for a human who turned on debug.
          call.log('debug', result.isError ? `${tool.name} failed after ${ms} ms: ${firstText(result)}` : `${tool.name} finished in ${ms} ms`);
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
  if (published === 0 && !opts.extend) {
    // Every group named was empty: still answer tools/list (with nothing) rather than "method not found".
    server.server.registerCapabilities({ tools: {} });
    server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [] }));
  }
  compactToolList(server);

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
