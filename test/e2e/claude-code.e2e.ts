// Claude Code (@anthropic-ai/claude-code 2.1.331, pinned in test/e2e/tools/, installed by
// scripts/e2e.sh into .ci/tools/e2e) as the MCP host: headless `claude -p` with agentbox over stdio
// and over Streamable HTTP, and its model replaced by a scripted stand-in for the Anthropic
// Messages API on loopback (test/support/anthropic-server.mjs). The stand-in plays the model: it
// calls tools of every group (files, shell, git, patch, delegate), follows the hint the background
// delegate returns, asks to run a command outside the sandbox, then answers. The test reads what reached the model from the
// requests Claude Code sent the stand-in (the tool_result blocks), which is the point: what a real
// host shows its model, not what agentbox meant to send.
//
// Checked for each transport:
// - a large read_file (about 200,000 characters) arrives whole: within the reply budget, inline
//   (not "Output too large … saved to"), with its continuation hint;
// - git_status reaches the model as structuredContent JSON carrying its summary;
// - exec_command's, grep's and apply_patch's text arrives as text;
// - the background delegate's `next` (delegate_status {thread_id, wait_ms}) arrives, and following
//   it literally returns the run's result;
// - an approval request (require_escalated) is answered by Claude Code (`cancel` in -p mode) and the
//   command does not run.
//
// Claude Code runs with HOME and its temp dirs in a temp dir, no settings but the user's (empty),
// only inside a private network namespace (scripts/e2e.sh); elsewhere the test is skipped.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicServer, use, type AnthropicServer, type RecordedRequest, type ToolResult } from '../support/anthropic-server.mjs';
import { startHttpServer, type HttpServer } from '../support/http-server.js';
import { say, startModelServer, type ModelServer } from '../support/model-server.mjs';
import { CLI } from '../support/paths.js';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';
import { CLAUDE_TOOLS, networkIsolated, run } from './hosts.js';

type Json = Record<string, unknown>;
const NS = 'mcp__agentbox__';
const BUDGET = 30_000;
const isolated = networkIsolated();
if (!isolated) {
  console.warn('WARN e2e: SKIPPING the Claude Code tests: this process has a network route (not a private network namespace). Run them with `npm run e2e`, which starts them under `unshare -rn`.');
}

/** The native Claude Code binary from the pinned install (the npm package's bin is a stub filled in by its install script, which is not run). */
function claudeBinary(): string | undefined {
  const dir = CLAUDE_TOOLS;
  if (!existsSync(dir)) return undefined;
  // The glibc build by its exact name (a -musl sibling may be installed beside it).
  const want = `claude-code-${process.platform}-${process.arch}`;
  const platform = readdirSync(dir).find((d) => d === want && existsSync(path.join(dir, d, 'claude')));
  return platform ? path.join(dir, platform, 'claude') : undefined;
}

/** The tool_result for the step's `i`th tool use, as the model received it. */
function resultOf(requests: RecordedRequest[], step: number, i = 0): ToolResult | undefined {
  const asked = requests.find((r) => r.kind === 'main' && r.step === step);
  const id = asked?.reply?.ids?.[i];
  if (!id) return undefined;
  for (const r of requests) {
    const found = r.toolResults.find((t) => t.tool_use_id === id);
    if (found) return found;
  }
  return undefined;
}

describe.skipIf(!isolated).each(['stdio', 'http'] as const)('Claude Code with agentbox over %s', (transport) => {
  let ws: TempDir;
  let home: TempDir;
  let anthropic: AnthropicServer;
  let model: ModelServer;
  let server: HttpServer | undefined;
  let result: { code: number | null; stdout: string; stderr: string };
  const marker = () => ws.path('escalated-ran.txt');

  beforeAll(async () => {
    const bin = claudeBinary();
    if (!bin) throw new Error('Claude Code is not installed in .ci/tools/e2e: run npm run e2e (scripts/e2e.sh installs it)');
    ws = tempRepo({ 'README.md': '# e2e\n' });
    // An ordinary source file of 3,000 lines, about 200,000 characters: what Claude Code would save
    // to a file of its own if a result carried it whole.
    ws.write('big.ts', Array.from({ length: 3000 }, (_, i) => `export const value${i} = compute(${i}, 'an ordinary line of generated source code');`).join('\n') + '\n');
    home = tempDir('agentbox-e2e-claude-');
    for (const d of ['agentbox', 'claude', 'tmp']) mkdirSync(home.path(d));
    // The delegate's subagent: agentbox's own loop on a scripted Responses endpoint.
    model = await startModelServer();
    model.otherwise({ output: [say('subagent answer')], delayMs: 300 });
    writeFileSync(
      home.path('agentbox', 'config.toml'),
      `model = "e2e-model"\nmodel_provider = "mock"\napproval_policy = "on-request"\n[model_providers.mock]\nbase_url = "${model.url}"\nwire_api = "responses"\nmax_retries = 0\n`,
    );
    anthropic = await startAnthropicServer();
    anthropic.script(
      // 0. A large file: read_file's default page.
      { say: 'Reading the big file.', ...use(`${NS}read_file`, { path: 'big.ts' }) },
      // 1. Three calls at once: git (structured data), shell and a search (text).
      { tools: [use(`${NS}git_status`), use(`${NS}exec_command`, { cmd: 'echo "exec says $((6 * 7))"' }), use(`${NS}grep`, { pattern: 'value2999 ' })] },
      // 2. A background delegate run.
      use(`${NS}delegate`, { prompt: 'Say something.', background: true }),
      // 3. Follow the hint the delegate returned, exactly as given.
      (req) => {
        const started = JSON.parse(req.toolResults[0]?.text ?? '{}') as Json;
        const next = /^delegate_status (\{.*\})$/.exec(String(started.next ?? ''));
        if (!next) return { say: `no next hint in ${req.toolResults[0]?.text.slice(0, 300)}` };
        return use(`${NS}delegate_status`, JSON.parse(next[1]!) as Json);
      },
      // 4. Ask to leave the sandbox: Claude Code must answer the approval request (cancel in -p).
      use(`${NS}exec_command`, { cmd: `touch ${marker()}`, sandbox_permissions: 'require_escalated', justification: 'e2e: must not run' }),
      // 5. A patch.
      use(`${NS}apply_patch`, { patch: '*** Begin Patch\n*** Add File: patched.txt\n+added through Claude Code\n*** End Patch\n' }),
      { say: 'All agentbox tool groups answered.' },
    );
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home.dir, AGENTBOX_HOME: home.path('agentbox'), AGENTBOX_LOG_LEVEL: 'warn' };
    let mcp: Json;
    if (transport === 'stdio') {
      mcp = { type: 'stdio', command: process.execPath, args: [CLI, 'serve', '--stdio', '--root', ws.dir], env };
    } else {
      server = await startHttpServer({ args: ['--root', ws.dir], env });
      mcp = { type: 'http', url: server.url };
    }
    const claudeTmp = home.path('tmp');
    const args = [
      '-p',
      'Use agentbox: read big.ts, check git and the shell, delegate a task, then try a command outside the sandbox.',
      '--tools',
      '',
      '--output-format',
      'stream-json',
      '--verbose',
      '--max-turns',
      '12',
      '--mcp-config',
      JSON.stringify({ mcpServers: { agentbox: mcp } }),
      '--strict-mcp-config',
      '--allowedTools',
      'mcp__agentbox',
      '--setting-sources',
      'user',
    ];
    result = await run(bin, args, {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home.path('claude'),
        TMPDIR: claudeTmp,
        CLAUDE_CODE_TMPDIR: claudeTmp,
        XDG_RUNTIME_DIR: claudeTmp,
        ANTHROPIC_BASE_URL: anthropic.url,
        ANTHROPIC_API_KEY: 'dummy-key-for-the-scripted-stand-in',
        ENABLE_TOOL_SEARCH: 'false',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
        CLAUDE_CODE_MAX_RETRIES: '0',
        NO_PROXY: '*',
      },
      cwd: ws.dir,
      timeoutMs: 150_000,
    });
  }, 200_000);

  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0);
    await anthropic?.close();
    await model?.close();
    ws?.cleanup();
    home?.cleanup();
  });

  const why = () => `claude exit ${result.code}\nstdout: ${result.stdout.slice(-3000)}\nstderr: ${result.stderr.slice(-3000)}`;

  it('completes the scripted run: every step taken, the final answer reported', () => {
    expect(result.code, why()).toBe(0);
    expect(anthropic.main().length, why()).toBe(7);
    const events = result.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json);
    const init = events.find((e) => e.type === 'system' && e.subtype === 'init');
    expect((init?.mcp_servers as Json[] | undefined)?.find((s) => s.name === 'agentbox')).toMatchObject({ status: 'connected' });
    expect(events.at(-1)).toMatchObject({ type: 'result', subtype: 'success', result: 'All agentbox tool groups answered.' });
  });

  it('offers the model agentbox tools with every parameter described', () => {
    const tools = (anthropic.main()[0]?.body.tools as Array<{ name: string; input_schema: { properties?: Record<string, { description?: string }> } }>) ?? [];
    const ours = tools.filter((t) => t.name.startsWith(NS));
    expect(ours.map((t) => t.name)).toEqual(expect.arrayContaining([`${NS}read_file`, `${NS}exec_command`, `${NS}git_status`, `${NS}delegate`, `${NS}delegate_status`]));
    for (const t of ours) for (const [k, v] of Object.entries(t.input_schema.properties ?? {})) expect(v.description, `${t.name}.${k}`).toBeTruthy();
  });

  it('delivers a large read_file inline, within the reply budget, with its continuation hint', () => {
    const r = resultOf(anthropic.requests, 0);
    expect(r, why()).toBeDefined();
    expect(r!.is_error).toBe(false);
    expect(r!.text).not.toMatch(/Output too large|exceeds maximum allowed tokens|saved to/);
    expect(r!.text.length).toBeLessThanOrEqual(BUDGET);
    expect(r!.text).toMatch(/^big\.ts: lines 1-\d+ of 3000/);
    const last = Number(/lines 1-(\d+) of 3000/.exec(r!.text)?.[1]);
    expect(r!.text).toContain(`call read_file with offset=${last + 1} to read on`);
    expect(r!.text).toContain(`${last}\texport const value${last - 1} =`);
  });

  it('shows git_status as structuredContent with its summary, and exec_command and grep as text', () => {
    const status = resultOf(anthropic.requests, 1, 0);
    expect(JSON.parse(status!.text)).toMatchObject({ summary: 'On branch main; 1 untracked.', untracked: ['big.ts'] });
    const exec = resultOf(anthropic.requests, 1, 1);
    expect(exec!.text).toMatch(/^Process exited with code 0[\s\S]*exec says 42/);
    const grep = resultOf(anthropic.requests, 1, 2);
    expect(grep!.text).toMatch(/^1 match in 1 file for "value2999 " in the workspace root:\nbig\.ts\n3000:export const value2999 =/);
  });

  it('shows apply_patch as text, and the patch is applied', () => {
    expect(resultOf(anthropic.requests, 5)!.text).toMatch(/^Success\. Updated the following files:\nA patched\.txt/);
    expect(existsSync(ws.path('patched.txt'))).toBe(true);
  });

  it("delivers the background delegate's next-call hint, and following it returns the run", () => {
    const started = JSON.parse(resultOf(anthropic.requests, 2)!.text) as Json;
    expect(started).toMatchObject({ status: 'running', next: `delegate_status {"thread_id": "${started.thread_id}", "wait_ms": 60000}` });
    const status = JSON.parse(resultOf(anthropic.requests, 3)!.text) as Json;
    expect(status.thread_id).toBe(started.thread_id);
    // The subagent answers after 300 ms; a 60 s wait returns at its first finished step or its end.
    expect(['running', 'completed']).toContain(status.status);
    expect(status.next).toMatch(/^delegate_(status|reply) \{"thread_id": /);
    expect(status.summary).toBeTruthy();
  });

  it('asks for approval through elicitation; Claude Code answers cancel in -p and the command does not run', () => {
    const r = resultOf(anthropic.requests, 4)!;
    expect(r.is_error).toBe(true);
    expect(r.text).toContain('The user dismissed the approval request; the command did not run.');
    expect(existsSync(marker())).toBe(false);
  });
});
