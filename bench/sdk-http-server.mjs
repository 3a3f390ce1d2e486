// The floor of the "16 concurrent clients over HTTP" case: the MCP TypeScript SDK alone, with no
// agentbox code. One McpServer per session with one trivial tool, read_file, that reads a file by
// its absolute path (no path checks, no sandbox, no output shaping), served over the SDK's
// Streamable HTTP transport the way agentbox serves it (createMcpExpressApp, a session per
// initialize, JSON bodies parsed by express). What is left between this and agentbox is agentbox's
// own per-call work. Prints `listening on http://127.0.0.1:PORT/mcp` on stderr once ready.
// Usage: node bench/sdk-http-server.mjs
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** @type {Map<string, { transport: StreamableHTTPServerTransport }>} */
const sessions = new Map();

function newServer() {
  const server = new McpServer({ name: 'bare-sdk', version: '1.0.0' });
  server.registerTool('read_file', { description: 'Reads a file.', inputSchema: { path: z.string() } }, async ({ path }) => ({
    content: [{ type: 'text', text: await readFile(path, 'utf8') }],
  }));
  return server;
}

const app = createMcpExpressApp({ host: '127.0.0.1' });
app.post('/mcp', async (req, res) => {
  const id = req.header('mcp-session-id');
  const known = id ? sessions.get(id) : undefined;
  if (known) return void (await known.transport.handleRequest(req, res, req.body));
  if (id || !isInitializeRequest(req.body)) return void res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'no session' }, id: null });
  /** @type {StreamableHTTPServerTransport} */
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (sid) => void sessions.set(sid, { transport }),
  });
  transport.onclose = () => void (transport.sessionId && sessions.delete(transport.sessionId));
  await newServer().connect(transport);
  await transport.handleRequest(req, res, req.body);
});
const existing = async (/** @type {import('express').Request} */ req, /** @type {import('express').Response} */ res) => {
  const t = sessions.get(req.header('mcp-session-id') ?? '');
  if (!t) return void res.status(404).end();
  await t.transport.handleRequest(req, res);
};
app.get('/mcp', existing);
app.delete('/mcp', existing);
const listener = app.listen(0, '127.0.0.1', () => {
  const addr = listener.address();
  process.stderr.write(`listening on http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/mcp\n`);
});
process.on('SIGTERM', () => process.exit(0));
