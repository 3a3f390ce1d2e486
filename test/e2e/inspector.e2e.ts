// The MCP Inspector CLI (2.12.0, an independent client) calls every tool agentbox publishes once,
// over stdio and over Streamable HTTP, against a temp git repository: each call's `isError` is
// what the table below expects, its text says what it should, and `structuredContent` is present
// exactly when the tool declares an `outputSchema` and valid against that schema (checked with
// Ajv against the schema from Inspector's own tools/list). The table must name every published
// tool, so a new tool without a case here fails the test.
//
// delegate's model is the scripted Responses server (test/support/model-server.mjs) on loopback, set
// in a config.toml in the temp AGENTBOX_HOME; delegate_reply continues that thread from the next
// Inspector run (threads live in AGENTBOX_HOME).
//
// Each Inspector run is a separate process and MCP session, so write_stdin and kill_session cannot
// see a session started by an earlier call: they are called with an unknown id and must answer
// with a tool error that says so (Inspector exit code 5), which still exercises them end to end.
import { mkdirSync, writeFileSync } from 'node:fs';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../support/http-server.js';
import { CLI } from '../support/paths.js';
import { say, startModelServer, type ModelServer } from '../support/model-server.mjs';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';
import { INSPECTOR_CLI, NODE22, run } from './hosts.js';

interface Case {
  tool: string;
  /** Arguments, or a function of what earlier calls captured. */
  args: Record<string, unknown> | ((saved: Record<string, unknown>) => Record<string, unknown>);
  /**
   * A tool that returns another tool's structuredContent without publishing the schema itself
   * (delegate_reply: "published once, on delegate, to keep tools/list small"): validate against that one.
   */
  schemaOf?: string;
  /** Keeps something from this call's structuredContent for a later call. */
  save?: (structured: Record<string, unknown>, saved: Record<string, unknown>) => void;
  /** Expected isError. */
  error?: boolean;
  /** Every text content joined must match. */
  text: RegExp;
}

const PATCH = '*** Begin Patch\n*** Add File: patched.txt\n+added by apply_patch\n*** End Patch\n';

// In order: later calls see what earlier ones did to the repository.
const CASES: Case[] = [
  { tool: 'read_file', args: { path: 'src/app.txt' }, text: /src\/app\.txt: lines 1-2 of 2[\s\S]*1\thello\n2\tworld/ },
  { tool: 'list_dir', args: {}, text: /src\// },
  { tool: 'glob', args: { pattern: '*.txt' }, text: /src\/app\.txt/ },
  { tool: 'grep', args: { pattern: 'wor.d' }, text: /src\/app\.txt\n2:world/ },
  { tool: 'write_file', args: { path: 'new.txt', content: 'created by write_file\n' }, text: /new\.txt/ },
  { tool: 'edit_file', args: { path: 'src/app.txt', old_string: 'world', new_string: 'inspector' }, text: /\+inspector/ },
  { tool: 'apply_patch', args: { patch: PATCH }, text: /^Success[\s\S]*A patched\.txt/ },
  { tool: 'exec_command', args: { cmd: 'cat src/app.txt new.txt patched.txt' }, text: /^Process exited with code 0[\s\S]*inspector\ncreated by write_file\nadded by apply_patch/ },
  { tool: 'write_stdin', args: { session_id: 987654 }, error: true, text: /There is no session 987654/ },
  { tool: 'kill_session', args: { session_id: 987654 }, error: true, text: /There is no session 987654/ },
  { tool: 'list_sessions', args: {}, text: /./ },
  { tool: 'git_status', args: {}, text: /new\.txt/ },
  { tool: 'git_diff', args: {}, text: /-world\n\+inspector/ },
  { tool: 'git_log', args: {}, text: /initial/ },
  { tool: 'git_show', args: { ref: 'HEAD' }, text: /initial/ },
  { tool: 'git_branch_list', args: {}, text: /main/ },
  { tool: 'git_add', args: { paths: ['new.txt', 'src/app.txt', 'patched.txt'] }, text: /./ },
  { tool: 'git_reset', args: { paths: ['patched.txt'] }, text: /./ },
  { tool: 'git_commit', args: { message: 'commit made through the MCP Inspector' }, text: /commit made through the MCP Inspector|[0-9a-f]{7}/ },
  { tool: 'git_branch_create', args: { name: 'inspector-branch' }, text: /inspector-branch/ },
  { tool: 'git_checkout', args: { ref: 'inspector-branch' }, text: /inspector-branch/ },
  { tool: 'git_worktree', args: { action: 'list' }, text: /./ },
  // The delegate's model is the scripted server on loopback (config.toml in AGENTBOX_HOME); the
  // thread lives in AGENTBOX_HOME, so another process (the next Inspector run) can continue it.
  {
    tool: 'delegate',
    args: { prompt: 'Say something.' },
    text: /scripted answer 1/,
    save: (structured, saved) => void (saved.thread_id = structured.thread_id),
  },
  { tool: 'delegate_reply', args: (saved) => ({ thread_id: saved.thread_id, prompt: 'And again.' }), text: /scripted answer 2/, schemaOf: 'delegate' },
  // The thread has finished: its status is the last turn's result, and there is nothing to cancel.
  { tool: 'delegate_status', args: (saved) => ({ thread_id: saved.thread_id }), text: /scripted answer 2/, schemaOf: 'delegate' },
  { tool: 'delegate_cancel', args: (saved) => ({ thread_id: saved.thread_id }), error: true, text: /is not running: its last turn ended completed/ },
];

const validator = new AjvJsonSchemaValidator();

describe.each(['stdio', 'http'] as const)('the MCP Inspector CLI calls every tool over %s', (transport) => {
  let ws: TempDir;
  let home: TempDir;
  let server: HttpServer | undefined;
  let model: ModelServer;
  const saved: Record<string, unknown> = {};
  let target: string[];
  let env: Record<string, string>;
  let tools: Tool[] = [];

  /** One Inspector run: `--method …` plus its arguments; returns the exit code and the parsed JSON-RPC result. */
  async function inspect(args: string[]): Promise<{ code: number | null; result: unknown; stderr: string }> {
    const r = await run(NODE22, [INSPECTOR_CLI, '--cli', ...target, ...args, '--format', 'json', '-q'], { env, timeoutMs: 60_000 });
    let result: unknown;
    try {
      result = (JSON.parse(r.stdout) as { result?: unknown }).result;
    } catch {
      throw new Error(`Inspector printed no JSON (exit ${r.code}): ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 1000)}`);
    }
    return { code: r.code, result, stderr: r.stderr };
  }

  beforeAll(async () => {
    ws = tempRepo({ 'README.md': '# e2e\n', 'src/app.txt': 'hello\nworld\n' });
    home = tempDir('agentbox-e2e-home-');
    mkdirSync(home.path('agentbox'));
    model = await startModelServer();
    let answers = 0;
    model.otherwise(() => ({ output: [say(`scripted answer ${++answers}`)] }));
    writeFileSync(
      home.path('agentbox', 'config.toml'),
      `model = "e2e-model"\nmodel_provider = "mock"\n[model_providers.mock]\nbase_url = "${model.url}"\nwire_api = "responses"\nmax_retries = 0\n`,
    );
    // Inspector keeps a catalog under ~/.mcp-inspector: HOME is a temp dir, and so is agentbox's.
    env = { PATH: process.env.PATH ?? '', HOME: home.dir, AGENTBOX_HOME: home.path('agentbox'), AGENTBOX_LOG_LEVEL: 'warn' };
    if (transport === 'stdio') {
      const config = {
        mcpServers: {
          agentbox: { command: process.execPath, args: [CLI, 'serve', '--stdio', '--root', ws.dir], env: { AGENTBOX_HOME: home.path('agentbox'), AGENTBOX_LOG_LEVEL: 'warn' } },
        },
      };
      writeFileSync(home.path('mcp.json'), JSON.stringify(config));
      target = ['--config', home.path('mcp.json'), '--server', 'agentbox'];
    } else {
      server = await startHttpServer({ args: ['--root', ws.dir], env });
      target = [server.url, '--transport', 'http'];
      // With a URL (no --config session file) Inspector writes its catalog: keep it in the temp HOME.
      env = { ...env, MCP_CATALOG_PATH: home.path('catalog.json') };
    }
    const listed = await inspect(['--method', 'tools/list']);
    expect(listed.code).toBe(0);
    tools = (listed.result as { tools: Tool[] }).tools;
  });

  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0);
    await model?.close();
    ws?.cleanup();
    home?.cleanup();
  });

  it('has a case for every published tool, and every case is a published tool', () => {
    expect(tools.map((t) => t.name).sort()).toEqual(CASES.map((c) => c.tool).sort());
  });

  it.each(CASES)('$tool', async (c) => {
    const tool = tools.find((t) => t.name === c.tool);
    expect(tool, `${c.tool} is not in tools/list`).toBeDefined();
    const args = typeof c.args === 'function' ? c.args(saved) : c.args;
    const r = await inspect(['--method', 'tools/call', '--tool-name', c.tool, '--tool-args-json', JSON.stringify(args)]);
    const result = r.result as CallToolResult;
    const text = result.content.filter((x) => x.type === 'text').map((x) => (x as { text: string }).text).join('\n');
    // Inspector exits 5 (tool_is_error) for an isError result, 0 for success.
    expect({ code: r.code, isError: result.isError ?? false, text: text.slice(0, 400) }).toMatchObject({ code: c.error ? 5 : 0, isError: c.error ?? false });
    expect(text).toMatch(c.text);
    const schema = c.schemaOf ? tools.find((t) => t.name === c.schemaOf)?.outputSchema : tool!.outputSchema;
    if (schema && !c.error) {
      expect(result.structuredContent, `${c.tool} declares an outputSchema but returned no structuredContent`).toBeDefined();
      const check = validator.getValidator(schema as never)(result.structuredContent);
      expect(check.errorMessage ?? '', `${c.tool} structuredContent does not match its outputSchema`).toBe('');
      expect(check.valid).toBe(true);
      c.save?.(result.structuredContent as Record<string, unknown>, saved);
    } else {
      expect(result.structuredContent, `${c.tool} has no outputSchema, so it must not return structuredContent`).toBeUndefined();
    }
  });
});
