// delegate end to end with the tools that change things: the subagent patches a bug with
// apply_patch, runs the tests with exec_command, asks for approval to leave the sandbox, is
// cancelled in the middle of a command, and works in parallel worktrees. Real server over stdio,
// real bwrap sandbox, real git; only the model is scripted. These need the shell and patch tools
// (issues 4 and 5); each group skips, saying so, in a build without the tools it needs.
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CancelledNotificationSchema, ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { agentHome, availableTools, connectAgent, data, processesMatching, threadLines, waitFor, type Json } from '../support/agent.js';
import type { Connected } from '../support/client.js';
import { call, patch, say, startModelServer, type ModelServer } from '../support/model-server.mjs';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';

const tools = await availableTools();
/** '' when the build has every tool named, else why the tests are skipped. */
const needs = (...names: string[]) => {
  const missing = names.filter((t) => !tools.has(t));
  return missing.length > 0 ? `(needs ${missing.join(', ')}, not in this build yet)` : '';
};
const both = needs('exec_command', 'apply_patch');
const shell = needs('exec_command');
const patching = needs('apply_patch');

let model: ModelServer;
let home: TempDir;
const dirs: TempDir[] = [];
const conns: Connected[] = [];
beforeEach(async () => {
  model = await startModelServer();
});
afterEach(async () => {
  for (const c of conns.splice(0)) await c.close();
  await model.close();
  home?.cleanup();
  for (const d of dirs.splice(0)) d.cleanup();
});
const keep = <T extends TempDir>(d: T) => (dirs.push(d), d);
async function connect(root: string, opts: Parameters<typeof connectAgent>[2] = {}) {
  const c = await connectAgent(home, root, opts);
  conns.push(c);
  return c;
}

const BUGGY = 'export function add(a, b) {\n  return a - b;\n}\n';
const TEST = "import { add } from './src/math.js';\nif (add(2, 3) !== 5) { console.error(`add(2, 3) = ${add(2, 3)}`); process.exit(1); }\nconsole.log('all tests passed');\n";
const FIX = '*** Begin Patch\n*** Update File: src/math.js\n@@\n export function add(a, b) {\n-  return a - b;\n+  return a + b;\n }\n*** End Patch\n';
const PROJECT = { 'package.json': '{"type":"module"}\n', 'src/math.js': BUGGY, 'test.js': TEST };

/** The script of a model that reads the failing test, patches the bug, runs the tests and answers. */
function scriptFix() {
  model.script(
    { output: [call('read_file', { path: 'test.js' }, 'read-test'), call('read_file', { path: 'src/math.js' }, 'read-src')], usage: { input_tokens: 1000, output_tokens: 50 } },
    { output: [patch(FIX, 'fix')], usage: { input_tokens: 1500, cached_input_tokens: 1000, output_tokens: 80 } },
    { output: [call('exec_command', { cmd: 'node test.js', yield_time_ms: 30000 }, 'run-tests')], usage: { input_tokens: 1800, cached_input_tokens: 1500, output_tokens: 20 } },
    { output: [say('add() subtracted; it now adds, and node test.js passes.')], usage: { input_tokens: 2000, cached_input_tokens: 1800, output_tokens: 30, reasoning_tokens: 12 } },
  );
}

describe.skipIf(both !== '')(`delegate fixes a bug end to end ${both}`, () => {
  it('over the Responses wire (freeform apply_patch), in a git repository', async () => {
    const ws = keep(tempRepo(PROJECT));
    home = agentHome(model, { provider: ['freeform_apply_patch = true'] });
    scriptFix();
    const conn = await connect(ws.dir);
    const result = await conn.call('delegate', { prompt: 'node test.js fails. Fix the bug.' });
    const d = data(result);
    expect(d.status).toBe('completed');
    expect(d.content).toBe('add() subtracted; it now adds, and node test.js passes.');
    expect(readFileSync(ws.path('src/math.js'), 'utf8')).toBe('export function add(a, b) {\n  return a + b;\n}\n');
    expect(d.files_changed).toEqual([{ path: 'src/math.js', kind: 'modified' }]);
    expect(d.diff).toContain('diff --git a/src/math.js b/src/math.js');
    expect(d.diff).toContain('-  return a - b;\n+  return a + b;');
    expect(d.usage).toEqual({ input_tokens: 6300, cached_input_tokens: 4300, output_tokens: 180, reasoning_tokens: 12 });

    const first = model.requests[0]!.body as Json;
    expect(first.tools.find((t: Json) => t.name === 'apply_patch')).toMatchObject({ type: 'custom', format: { type: 'grammar', syntax: 'lark' } });
    const afterPatch = (model.requests[2]!.body as Json).input as Json[];
    expect(afterPatch.find((i) => i.type === 'custom_tool_call' && i.call_id === 'fix').input).toBe(FIX);
    const patchOut = afterPatch.find((i) => i.type === 'custom_tool_call_output' && i.call_id === 'fix');
    expect(patchOut.output).toContain('M src/math.js');
    const afterTests = (model.requests[3]!.body as Json).input as Json[];
    const testOut = afterTests.find((i) => i.type === 'function_call_output' && i.call_id === 'run-tests').output;
    expect(testOut).toContain('Process exited with code 0');
    expect(testOut).toContain('all tests passed');
    // The user's index and HEAD are untouched: the fix is left for them to review.
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: ws.dir, encoding: 'utf8' })).toBe(' M src/math.js\n');
  });

  it('over the Chat Completions wire (apply_patch as a function), outside git', async () => {
    const ws = keep(tempDir());
    for (const [f, c] of Object.entries(PROJECT)) ws.write(f, c);
    home = agentHome(model, { wire: 'chat' });
    scriptFix();
    const conn = await connect(ws.dir);
    const d = data(await conn.call('delegate', { prompt: 'node test.js fails. Fix the bug.' }));
    expect(d.status).toBe('completed');
    expect(readFileSync(ws.path('src/math.js'), 'utf8')).toContain('return a + b;');
    expect(d.files_changed).toEqual([{ path: 'src/math.js', kind: 'modified' }]);
    expect(d.diff).toContain('--- a/src/math.js\n+++ b/src/math.js');
    expect(d.diff).toContain('-  return a - b;\n+  return a + b;');
    const tools = (model.requests[0]!.body as Json).tools.map((t: Json) => t.function.name);
    expect(tools).toEqual(expect.arrayContaining(['exec_command', 'write_stdin', 'apply_patch', 'read_file', 'list_dir', 'glob', 'grep', 'update_plan']));
    // git_status and git_diff come with the git tools (issue 6); the host-only tools never do.
    if (tools.includes('git_status')) expect(tools).toContain('git_diff');
    for (const hostOnly of ['delegate', 'delegate_reply', 'kill_session', 'list_sessions', 'write_file', 'edit_file', 'git_commit']) expect(tools).not.toContain(hostOnly);
    const messages = (model.requests[3]!.body as Json).messages as Json[];
    expect(messages.find((m) => m.role === 'tool' && m.tool_call_id === 'run-tests').content).toContain('Process exited with code 0');
  });
});

describe.skipIf(both !== '')(`delegate confined to a cwd subdirectory ${both}`, () => {
  it('writes inside cwd only: patches and commands outside it, and the repository\'s .git, are refused', async () => {
    const ws = keep(tempRepo({ 'packages/calc/src/math.js': BUGGY, 'packages/other/x.js': 'x\n' }));
    home = agentHome(model);
    const outsidePatch = '*** Begin Patch\n*** Add File: ../other/evil.js\n+evil\n*** End Patch\n';
    const insidePatch = '*** Begin Patch\n*** Add File: src/ok.js\n+ok\n*** End Patch\n';
    model.script(
      { output: [patch(outsidePatch, 'p-out')] },
      { output: [call('exec_command', { cmd: 'echo evil > ../other/evil.txt; touch ../../.git/evil; echo done', yield_time_ms: 30000 }, 'c-out')] },
      { output: [patch(insidePatch, 'p-in')] },
      { output: [say('tried')] },
    );
    const conn = await connect(ws.dir);
    const d = data(await conn.call('delegate', { prompt: 'try to write everywhere', cwd: 'packages/calc' }));
    expect(d.status).toBe('completed');
    const input = (model.requests[3]!.body as Json).input as Json[];
    const out = (id: string) => input.find((i) => i.type.endsWith('_output') && i.call_id === id).output as string;
    expect(out('p-out')).toMatch(/^Error/);
    expect(out('c-out')).toMatch(/Read-only file system|Permission denied/);
    expect(existsSync(ws.path('packages/other/evil.js'))).toBe(false);
    expect(existsSync(ws.path('packages/other/evil.txt'))).toBe(false);
    expect(existsSync(ws.path('.git/evil'))).toBe(false);
    expect(readFileSync(ws.path('packages/calc/src/ok.js'), 'utf8')).toBe('ok\n');
    expect(d.files_changed).toEqual([{ path: 'packages/calc/src/ok.js', kind: 'added' }]);
  });
});

describe.skipIf(shell !== '')(`delegate cleanup ${shell}`, () => {
  it('ends every command the run left running before it returns', async () => {
    const ws = keep(tempDir());
    home = agentHome(model);
    const marker = `31.${Date.now() % 100000}${Math.floor(Math.random() * 1000)}`;
    model.script({ output: [call('exec_command', { cmd: `sleep ${marker}`, yield_time_ms: 250 }, 'bg')] }, { output: [say('left it running')] });
    const conn = await connect(ws.dir);
    const d = data(await conn.call('delegate', { prompt: 'start something long' }));
    expect(d.status).toBe('completed');
    const output = ((model.requests[1]!.body as Json).input as Json[]).find((i) => i.call_id === 'bg' && i.type === 'function_call_output').output as string;
    expect(output).toMatch(/^Process running with session ID \d+/);
    // The result comes only after the run's session was closed: nothing of it is left.
    expect(processesMatching(`sleep ${marker}`)).toEqual([]);
  });
});

describe.skipIf(shell !== '')(`delegate cancellation ${shell}`, () => {
  it('kills the running command and saves the thread as cancelled, ready to continue', async () => {
    const ws = keep(tempDir());
    home = agentHome(model);
    const marker = `30.${Date.now() % 100000}${Math.floor(Math.random() * 1000)}`;
    model.script({ output: [call('exec_command', { cmd: `sleep ${marker}`, yield_time_ms: 30000 }, 'sleeper')] });
    const conn = await connect(ws.dir);
    const controller = new AbortController();
    const pending = conn.client
      .callTool({ name: 'delegate', arguments: { prompt: 'wait a while' } }, undefined, { signal: controller.signal, timeout: 60_000 })
      .catch((e: Error) => e);
    await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 'the sleep to start');
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    const listed = JSON.parse(((await conn.client.readResource({ uri: 'agentbox://threads' })).contents[0] as { text: string }).text).threads as Json[];
    const id = listed[0].id as string;

    // A reply right after the cancel waits for the cancelled turn to finish stopping (its
    // processes killed, the thread saved) rather than failing as busy.
    model.script({ output: [say('I was interrupted while sleeping.')] });
    const resumed = data(await conn.call('delegate_reply', { thread_id: id, prompt: 'what happened?' }));
    expect(resumed.status).toBe('completed');
    expect(processesMatching(`sleep ${marker}`)).toEqual([]);
    expect(threadLines(home, id).filter((l) => l.type === 'turn_ended').map((l) => l.status)).toEqual(['cancelled', 'completed']);
    const input = (model.requests.at(-1)!.body as Json).input as Json[];
    expect(input.find((i) => i.type === 'function_call_output' && i.call_id === 'sleeper')).toBeDefined();
  });
});

describe.skipIf(shell !== '')(`delegate_reply under a stricter server ${shell}`, () => {
  /** Starts a thread under `first`, restarts the server with `then`, and replies with one command. */
  async function replyAfterRestart(first: string[], then: string[], cmd: string) {
    const ws = keep(tempDir());
    home = agentHome(model);
    model.script({ output: [say('started')] });
    const a = await connect(ws.dir, { args: first });
    const started = data(await a.call('delegate', { prompt: 'start' }));
    expect(started.status).toBe('completed');
    await a.close();
    conns.splice(conns.indexOf(a), 1);
    model.script({ output: [call('exec_command', { cmd, yield_time_ms: 30000 }, 'cmd')] }, { output: [say('replied')] });
    const b = await connect(ws.dir, { args: then });
    const result = await b.call('delegate_reply', { thread_id: started.thread_id, prompt: 'go on' });
    const input = (model.requests.at(-1)!.body as Json).input as Json[];
    const output = input.find((i) => i.type === 'function_call_output' && i.call_id === 'cmd')?.output as string | undefined;
    const note = (model.requests.at(-2)!.body as Json).input.find((i: Json) => i.role === 'developer' && String(i.content).startsWith('The rules for this thread changed'));
    return { ws, result, d: data(result), output, note };
  }

  it('asks before every command when the server now runs untrusted', async () => {
    const r = await replyAfterRestart(['--approval-policy', 'on-request'], ['--approval-policy', 'untrusted'], 'touch made-by-reply.txt');
    expect(r.d.status).toBe('completed');
    // No elicitation in this client: the command needed a yes, got none, and did not run.
    expect(existsSync(r.ws.path('made-by-reply.txt'))).toBe(false);
    expect(r.output).toMatch(/approv/i);
    expect(r.d.notes).toEqual(['approval_policy narrowed to untrusted: the thread started with on-request, and this server now runs with untrusted.']);
    expect(r.note.content).toContain('Approval policy: untrusted');
    expect(r.result.text).toContain('note: approval_policy narrowed to untrusted');
  });

  it('runs without network when the server restarted without it', async () => {
    const r = await replyAfterRestart(['--network'], [], 'echo net-disabled=${AGENTBOX_SANDBOX_NETWORK_DISABLED:-0}');
    expect(r.d.status).toBe('completed');
    expect(r.output).toContain('net-disabled=1');
    expect(r.d.notes).toEqual(['network access off: this server now runs without network in the sandbox.']);
  });

  it('continues read-only when the server restarted read-only', async () => {
    const r = await replyAfterRestart([], ['--sandbox', 'read-only'], 'touch made-by-reply.txt');
    expect(r.d.status).toBe('completed');
    expect(existsSync(r.ws.path('made-by-reply.txt'))).toBe(false);
    expect(r.d.notes?.[0]).toContain('sandbox narrowed to read-only');
    expect(r.note.content).toContain('Sandbox: read-only');
  });

  it('refuses to continue a thread whose approval policy the server\'s cannot be combined with', async () => {
    const ws = keep(tempDir());
    home = agentHome(model);
    model.script({ output: [say('started')] });
    const a = await connect(ws.dir);
    const started = data(await a.call('delegate', { prompt: 'start' }));
    await a.close();
    conns.splice(conns.indexOf(a), 1);
    const b = await connect(ws.dir, { args: ['--approval-policy', 'untrusted'] });
    const r = await b.call('delegate_reply', { thread_id: started.thread_id, prompt: 'go on' });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('was started with approval_policy never, and this server now runs with untrusted');
    expect(model.requests).toHaveLength(1);
  });
});

describe.skipIf(shell !== '')(`delegate approvals ${shell}`, () => {
  async function escalate(answer: 'accept' | 'decline' | 'never') {
    const ws = keep(tempDir());
    const outside = keep(tempDir('agentbox-outside-'));
    const target = outside.path('escalated.txt');
    home = agentHome(model);
    model.script(
      { output: [call('exec_command', { cmd: `echo escalated > ${target}`, sandbox_permissions: 'require_escalated', justification: 'write the marker file' }, 'esc')] },
      { output: [say('done')] },
    );
    const conn = await connect(ws.dir, {
      capabilities: { elicitation: {} },
      args: ['--approval-policy', 'on-request'],
      env: { AGENTBOX_APPROVAL_TIMEOUT_MS: '1000' },
    });
    const asked: string[] = [];
    conn.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(String(req.params.message));
      if (answer === 'never') return new Promise(() => undefined);
      return { action: answer };
    });
    const d = data((await conn.call('delegate', { prompt: 'write the marker', approval_policy: 'on-request' })) as CallToolResult);
    const output = ((model.requests[1]!.body as Json).input as Json[]).find((i) => i.type === 'function_call_output' && i.call_id === 'esc').output as string;
    return { d, asked, output, written: existsSync(target) };
  }

  it('runs the command outside the sandbox when the user accepts', async () => {
    const r = await escalate('accept');
    expect(r.d.status).toBe('completed');
    expect(r.asked).toHaveLength(1);
    expect(r.asked[0]).toContain('[delegate');
    expect(r.asked[0]).toContain('echo escalated');
    expect(r.asked[0]).toContain('write the marker file');
    expect(r.written).toBe(true);
    expect(r.output).toContain('Process exited with code 0');
  });

  it('does not run it when the user declines, and tells the model', async () => {
    const r = await escalate('decline');
    expect(r.d.status).toBe('completed');
    expect(r.written).toBe(false);
    expect(r.output).toContain('declined');
  });

  it('withdraws an open approval question when the run times out', async () => {
    const ws = keep(tempDir());
    home = agentHome(model);
    model.script({ output: [call('exec_command', { cmd: 'touch escalated.txt', sandbox_permissions: 'require_escalated', justification: 'needs it' }, 'esc')] });
    model.otherwise({ output: [say('done')] });
    // The user would have a whole minute to answer; the run's own timeout comes first.
    const conn = await connect(ws.dir, { capabilities: { elicitation: {} }, args: ['--approval-policy', 'on-request'], env: { AGENTBOX_APPROVAL_TIMEOUT_MS: '60000' } });
    const asked: Array<string | number> = [];
    const withdrawn: Array<string | number> = [];
    conn.client.setRequestHandler(ElicitRequestSchema, (_req, extra) => {
      asked.push(extra.requestId);
      return new Promise(() => undefined);
    });
    // (Observed directly: the SDK's own handler ignores a cancel of request id 0.)
    conn.client.setNotificationHandler(CancelledNotificationSchema, (n) => void withdrawn.push(n.params.requestId!));
    const d = data(await conn.call('delegate', { prompt: 'escalate', timeout_ms: 1500 }));
    expect(d.status).toBe('timeout');
    expect(asked).toHaveLength(1);
    await waitFor(() => withdrawn.includes(asked[0]!), 'the host to be told the question is withdrawn', 5_000);
    expect(existsSync(ws.path('escalated.txt'))).toBe(false);
  });

  it('treats no answer within the timeout as decline and never hangs', async () => {
    const r = await escalate('never');
    expect(r.d.status).toBe('completed');
    expect(r.written).toBe(false);
    expect(r.output).toMatch(/no answer/i);
  });
});

describe.skipIf(patching !== '')(`delegate worktree isolation ${patching}`, () => {
  it('lets two parallel delegates change the same file on separate branches', async () => {
    const ws = keep(tempRepo({ 'README.md': '# project\n' }));
    home = agentHome(model);
    // Each run writes its own line into README.md, then answers.
    model.otherwise((req) => {
      const input = req.body.input as Json[];
      const task = input.filter((i) => i.role === 'user').at(-1).content as string;
      const done = input.some((i) => i.type === 'function_call_output');
      const edit = `*** Begin Patch\n*** Update File: README.md\n@@\n # project\n+${task}\n*** End Patch\n`;
      return done ? { output: [say(`wrote ${task}`)] } : { output: [patch(edit)] };
    });
    const conn = await connect(ws.dir);
    const [a, b] = await Promise.all([
      conn.call('delegate', { prompt: 'line from A', worktree: true }),
      conn.call('delegate', { prompt: 'line from B', worktree: true }),
    ]);
    const da = data(a);
    const db = data(b);
    expect([da.status, db.status]).toEqual(['completed', 'completed']);
    expect(da.branch).not.toBe(db.branch);
    expect(da.diff).toContain('+line from A');
    expect(da.diff).not.toContain('line from B');
    expect(db.diff).toContain('+line from B');
    expect(readFileSync(ws.path('README.md'), 'utf8')).toBe('# project\n');
    const show = (branch: string) => execFileSync('git', ['show', `${branch}:README.md`], { cwd: ws.dir, encoding: 'utf8' });
    expect(show(da.branch!)).toBe('# project\nline from A\n');
    expect(show(db.branch!)).toBe('# project\nline from B\n');
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: ws.dir, encoding: 'utf8' })).toBe('');
  });
});
