// An MCP client as a host would use it: the SDK Client over stdio (spawning the built CLI) or over
// Streamable HTTP. Tests call tools by name through these.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { CLI } from './paths.js';

export interface Connected {
  client: Client;
  /** Text of all text content items of a tool result, joined. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult & { text: string }>;
  close(): Promise<void>;
  /** stderr of the spawned server (stdio only). */
  stderr(): string;
  pid?: number;
}

export interface StdioOptions {
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  capabilities?: ClientCapabilities;
}

/** Spawns `node dist/cli.js serve --stdio ...args` and connects. AGENTBOX_HOME defaults to a fresh dir. */
export async function connectStdio(opts: StdioOptions = {}): Promise<Connected> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', '--stdio', ...(opts.args ?? [])],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', AGENTBOX_LOG_LEVEL: 'warn', ...opts.env },
    cwd: opts.cwd,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'agentbox-test', version: '1.0.0' }, { capabilities: opts.capabilities ?? {} });
  await client.connect(transport);
  return wrap(client, async () => client.close(), () => stderr, transport.pid ?? undefined);
}

export async function connectHttp(url: string, opts: { token?: string; capabilities?: ClientCapabilities } = {}): Promise<Connected> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: opts.token ? { headers: { Authorization: `Bearer ${opts.token}` } } : undefined,
  });
  const client = new Client({ name: 'agentbox-test', version: '1.0.0' }, { capabilities: opts.capabilities ?? {} });
  await client.connect(transport);
  return wrap(client, async () => {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }, () => '');
}

function wrap(client: Client, close: () => Promise<void>, stderr: () => string, pid?: number): Connected {
  return {
    client,
    pid,
    stderr,
    close,
    async call(name, args = {}) {
      const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
      const text = result.content
        .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
        .map((c) => c.text)
        .join('\n');
      return Object.assign(result, { text });
    },
  };
}
