// Codex CLI (@openai/codex 0.169.0, devDependency) as the MCP host: agentbox configured in its
// config.toml, over stdio and over Streamable HTTP, and a scripted Responses-API model on loopback
// (test/support/model-server.mjs) in place of OpenAI. The model does what a real one does with
// Codex 0.169: Codex defers MCP tools behind `tool_search`, so the model first searches, Codex
// answers with the `mcp__agentbox` namespace, then the model calls read_file and exec_command
// there, and finally answers. The test checks every step in the requests Codex sent: the deferred
// namespace named in the first request, the tools found, each tool's output in the next request,
// and the output of both calls in the final request; and that `codex exec` completed.
//
// Codex runs with HOME and CODEX_HOME in a temp dir (it writes its arg0 helper links and sessions
// there, never to the real ~/.codex), and only inside a private network namespace (scripts/e2e.sh),
// so that nothing it tries on its own leaves the machine; elsewhere the test is skipped.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../support/http-server.js';
import { call, say, search, startModelServer, type ModelServer, type RecordedRequest } from '../support/model-server.mjs';
import { CLI } from '../support/paths.js';
import { tempDir, type TempDir } from '../support/workspace.js';
import { CODEX_BIN, networkIsolated, run } from './hosts.js';

type Json = Record<string, unknown>;
const NS = 'mcp__agentbox';
const MARKER = `codex-e2e-${process.pid}`;
const isolated = networkIsolated();
if (!isolated) {
  console.warn('WARN e2e: SKIPPING the Codex CLI tests: this process has a network route (not a private network namespace). Run them with `npm run e2e`, which starts them under `unshare -rn`.');
}

/** The items of a recorded request's `input` (the conversation Codex sends). */
const inputOf = (r: RecordedRequest | undefined): Json[] => ((r?.body as Json | undefined)?.input as Json[] | undefined) ?? [];
/** The output of the function_call_output for `callId`, as text (Codex sends a string or input_text parts). */
function outputFor(r: RecordedRequest | undefined, callId: string): string {
  const item = inputOf(r).find((i) => i.type === 'function_call_output' && i.call_id === callId);
  if (!item) return '';
  if (typeof item.output === 'string') return item.output;
  return ((item.output as Json[]) ?? []).map((part) => (typeof part.text === 'string' ? part.text : JSON.stringify(part))).join('\n');
}

describe.skipIf(!isolated).each(['stdio', 'http'] as const)('Codex CLI with agentbox over %s', (transport) => {
  let ws: TempDir;
  let home: TempDir;
  let model: ModelServer;
  let server: HttpServer | undefined;
  let result: { code: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    ws = tempDir();
    ws.write('notes.txt', `first line\n${MARKER}\n`);
    home = tempDir('agentbox-e2e-codex-');
    const codexHome = home.path('codex');
    mkdirSync(codexHome);
    mkdirSync(home.path('agentbox'));
    model = await startModelServer();
    model.script(
      // 1. Find agentbox's tools (Codex offers them only through tool_search).
      (req) => {
        const body = req.body as Json;
        const tools = (body.tools as Json[]) ?? [];
        if (!tools.some((t) => t.type === 'tool_search')) return { error: 400, message: 'request 1 offered no tool_search tool' };
        return { output: [search('read_file exec_command agentbox workspace file shell command', 20, 'search-1')] };
      },
      // 2. Read a file through agentbox.
      { output: [call('read_file', { path: 'notes.txt' }, 'call-read', NS)] },
      // 3. Run a command in agentbox's sandbox.
      { output: [call('exec_command', { cmd: 'echo "exec says $((6 * 7))"' }, 'call-exec', NS)] },
      // 4. Answer.
      { output: [say('Both agentbox tools worked.')] },
    );
    const env: Record<string, string> = { AGENTBOX_HOME: home.path('agentbox'), AGENTBOX_LOG_LEVEL: 'warn' };
    let mcp: string;
    if (transport === 'stdio') {
      const envToml = Object.entries(env).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ');
      mcp = `command = ${JSON.stringify(process.execPath)}\nargs = ${JSON.stringify([CLI, 'serve', '--stdio', '--root', ws.dir])}\nenv = { ${envToml} }`;
    } else {
      server = await startHttpServer({ args: ['--root', ws.dir], env: { PATH: process.env.PATH ?? '', HOME: home.dir, ...env } });
      mcp = `url = ${JSON.stringify(server.url)}`;
    }
    writeFileSync(
      `${codexHome}/config.toml`,
      [
        'model = "gpt-5.5"',
        'model_provider = "mock"',
        'approval_policy = "never"',
        'sandbox_mode = "read-only"',
        'check_for_update_on_startup = false',
        '',
        '[model_providers.mock]',
        'name = "mock"',
        `base_url = ${JSON.stringify(model.url)}`,
        'wire_api = "responses"',
        'env_key = "MOCK_API_KEY"',
        'request_max_retries = 0',
        'stream_max_retries = 0',
        '',
        '[mcp_servers.agentbox]',
        mcp,
        'startup_timeout_sec = 30',
        'tool_timeout_sec = 60',
        // Headless `codex exec` cancels MCP calls that would need an approval prompt.
        'default_tools_approval_mode = "approve"',
        '',
      ].join('\n'),
    );
    result = await run(process.execPath, [CODEX_BIN, 'exec', '--json', '--skip-git-repo-check', 'Read notes.txt with agentbox, then run a command with it.'], {
      env: { PATH: process.env.PATH ?? '', HOME: home.dir, CODEX_HOME: codexHome, MOCK_API_KEY: 'test-key', TMPDIR: os.tmpdir() },
      cwd: ws.dir,
      timeoutMs: 90_000,
    });
  });

  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0);
    await model?.close();
    ws?.cleanup();
    home?.cleanup();
  });

  const why = () => `codex exit ${result.code}\nstdout: ${result.stdout.slice(-3000)}\nstderr: ${result.stderr.slice(-3000)}`;

  it('completes the run with four model requests', () => {
    expect(result.code, why()).toBe(0);
    expect(model.requests.length, why()).toBe(4);
    expect(result.stdout).toContain('"type":"turn.completed"');
    expect(result.stdout).toContain('Both agentbox tools worked.');
  });

  it('names agentbox as a deferred tool namespace in the first request', () => {
    expect(JSON.stringify(model.requests[0]?.body)).toContain(NS);
  });

  it('finds read_file and exec_command through tool_search', () => {
    const found = inputOf(model.requests[1]).find((i) => i.type === 'tool_search_output');
    expect(found, JSON.stringify(inputOf(model.requests[1])).slice(0, 2000)).toBeDefined();
    const namespace = ((found!.tools as Json[]) ?? []).find((t) => t.name === NS) as Json | undefined;
    const names = ((namespace?.tools as Json[]) ?? []).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['read_file', 'exec_command']));
  });

  it('sends the model what read_file returned', () => {
    expect(outputFor(model.requests[2], 'call-read')).toContain(`2\t${MARKER}`);
  });

  it('sends the model what exec_command printed, and both outputs are in the final request', () => {
    const exec = outputFor(model.requests[3], 'call-exec');
    expect(exec).toContain('Process exited with code 0');
    expect(exec).toContain('exec says 42');
    expect(outputFor(model.requests[3], 'call-read')).toContain(MARKER);
  });

  it('reports both MCP tool calls as completed in its JSON events', () => {
    const events = result.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json);
    const calls = events.filter((e) => e.type === 'item.completed' && (e.item as Json).type === 'mcp_tool_call').map((e) => e.item as Json);
    expect(calls.map((c) => [c.server, c.tool, c.status])).toEqual([
      ['agentbox', 'read_file', 'completed'],
      ['agentbox', 'exec_command', 'completed'],
    ]);
  });

  it('keeps its files in the temp CODEX_HOME and writes nothing else to its HOME', () => {
    expect(readdirSync(home.path('codex'))).toEqual(expect.arrayContaining(['config.toml', 'sessions']));
    expect(readdirSync(home.dir).sort()).toEqual(['agentbox', 'codex']);
  });
});
