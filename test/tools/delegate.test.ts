// delegate and delegate_reply end to end: a real agentbox over stdio, a real workspace, and the
// scripted model server standing in for the model endpoint.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { agentHome, connectAgent, data, threadLines, waitFor, type Json } from '../support/agent.js';
import type { Connected } from '../support/client.js';
import { call, patch, say, startModelServer, think, type ModelServer } from '../support/model-server.mjs';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';

let model: ModelServer;
let home: TempDir;
let ws: TempDir;
const conns: Connected[] = [];

beforeEach(async () => {
  model = await startModelServer();
});
afterEach(async () => {
  for (const c of conns.splice(0)) await c.close();
  await model.close();
  home?.cleanup();
  ws?.cleanup();
});

async function connect(opts: Parameters<typeof connectAgent>[2] = {}) {
  const c = await connectAgent(home, ws.dir, opts);
  conns.push(c);
  return c;
}

const SOURCE = 'export function add(a, b) {\n  return a - b;\n}\n';

describe('delegate over the Responses wire', () => {
  it('runs a multi-turn task with parallel calls and returns the answer, usage and thread id', async () => {
    ws = tempDir();
    ws.write('src/math.js', SOURCE);
    ws.write('AGENTS.md', 'Always run the tests.\n');
    home = agentHome(model);
    model.script(
      {
        output: [
          think('plan first'),
          call('update_plan', { plan: [{ step: 'read the code', status: 'in_progress' }, { step: 'answer', status: 'pending' }] }, 'plan1'),
          call('read_file', { path: 'src/math.js' }, 'read1'),
        ],
        usage: { input_tokens: 100, cached_input_tokens: 10, output_tokens: 20, reasoning_tokens: 5 },
      },
      { output: [call('grep', { pattern: 'a - b' }, 'grep1')], usage: { input_tokens: 200, output_tokens: 10 } },
      { output: [say('add() subtracts: line 2 returns a - b.')], usage: { input_tokens: 300, cached_input_tokens: 150, output_tokens: 30, reasoning_tokens: 7 } },
    );
    const conn = await connect();
    const progress: string[] = [];
    const result = (await conn.client.callTool(
      { name: 'delegate', arguments: { prompt: 'Why does add() give wrong results?' } },
      undefined,
      { onprogress: (p) => progress.push(p.message ?? '') },
    )) as CallToolResult;

    expect(result.isError).toBeFalsy();
    const d = data(result);
    expect(d.status).toBe('completed');
    expect(d.content).toBe('add() subtracts: line 2 returns a - b.');
    expect(d.usage).toEqual({ input_tokens: 600, cached_input_tokens: 160, output_tokens: 60, reasoning_tokens: 12 });
    expect(d.files_changed).toEqual([]);
    expect(d.diff).toBe('');
    expect(d.thread_id).toMatch(/^[0-9a-f-]{36}$/);
    const text = (result.content[0] as { text: string }).text;
    expect(text).toContain('add() subtracts');
    expect(text).toContain(`thread ${d.thread_id}`);

    // What the model was sent.
    expect(model.requests).toHaveLength(3);
    const first = model.requests[0]!.body as Json;
    expect(first.instructions).toContain('You are a coding agent run by agentbox');
    expect(first.tools.map((t: Json) => t.name)).toEqual(expect.arrayContaining(['read_file', 'list_dir', 'glob', 'grep', 'update_plan']));
    expect(first.tools.map((t: Json) => t.name)).not.toContain('delegate');
    expect(first.parallel_tool_calls).toBe(true);
    const input = first.input as Json[];
    expect(input[0]).toMatchObject({ role: 'developer' });
    expect(input[0].content).toContain('Sandbox: workspace-write');
    // The approval rules are there when the subagent has a shell to escalate from.
    if (first.tools.some((t: Json) => t.name === 'exec_command')) expect(input[0].content).toContain('Approval policy: never');
    expect(input[1].content).toContain('Always run the tests.');
    expect(input[2].content).toContain(`<cwd>${ws.dir}</cwd>`);
    expect(input.at(-1)).toEqual({ type: 'message', role: 'user', content: 'Why does add() give wrong results?' });

    // Both calls' results went back under their call ids, the file's text among them.
    const second = (model.requests[1]!.body as Json).input as Json[];
    const outputs = second.filter((i) => i.type === 'function_call_output');
    expect(outputs.map((o) => o.call_id).sort()).toEqual(['plan1', 'read1']);
    expect(outputs.find((o) => o.call_id === 'read1').output).toContain('return a - b;');
    expect(outputs.find((o) => o.call_id === 'plan1').output).toBe('Plan updated.');
    const third = (model.requests[2]!.body as Json).input as Json[];
    expect(third.find((i) => i.call_id === 'grep1' && i.type === 'function_call_output').output).toContain('src/math.js');

    // One progress message per meaningful step, not per chunk.
    expect(progress[0]).toContain('started thread');
    expect(progress.some((m) => m.startsWith('turn 1: update_plan; read_file src/math.js'))).toBe(true);
    expect(progress.some((m) => m.startsWith('plan updated: 0/2 done; now: read the code'))).toBe(true);
    // (The SDK client drops a progress notification handled after the response, so the final
    // "completed" message may or may not be seen here.)
    expect(progress).toContain('turn 3: answered');
    expect(progress.length).toBeLessThan(12);

    // The thread is on disk, every line with a timestamp.
    const lines = threadLines(home, d.thread_id);
    expect(lines[0]!.type).toBe('thread');
    expect(lines.every((l) => typeof l.ts === 'string')).toBe(true);
    expect(lines.at(-1)).toMatchObject({ type: 'turn_ended', status: 'completed' });
  });

  it('sends the model\'s reasoning back with its encrypted content in the next request', async () => {
    ws = tempDir();
    ws.write('a.txt', 'alpha\n');
    home = agentHome(model);
    model.script({ output: [think('read a.txt first', 'enc-abc'), call('read_file', { path: 'a.txt' }, 'r1')] }, { output: [say('alpha')] });
    const conn = await connect();
    expect(data(await conn.call('delegate', { prompt: 'read a.txt' })).status).toBe('completed');
    const input = (model.requests[1]!.body as Json).input as Json[];
    const at = input.findIndex((i) => i.type === 'reasoning');
    expect(input[at]).toMatchObject({ type: 'reasoning', encrypted_content: 'enc-abc', summary: [{ type: 'summary_text', text: 'read a.txt first' }] });
    expect(input[at + 1]).toMatchObject({ type: 'function_call', call_id: 'r1' });
  });

  it('returns a clear error for an unknown provider, a cwd outside the workspace and a wider sandbox', async () => {
    ws = tempDir();
    home = agentHome(model);
    const conn = await connect();
    const unknown = await conn.call('delegate', { prompt: 'x', provider: 'nope' });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toContain('Unknown model provider "nope"');
    const outside = await conn.call('delegate', { prompt: 'x', cwd: '/etc' });
    expect(outside.isError).toBe(true);
    expect(outside.text).toContain('outside the writable roots');
    const wider = await conn.call('delegate', { prompt: 'x', sandbox: 'danger-full-access' });
    expect(wider.isError).toBe(true);
    expect(wider.text).toContain('cannot ask for danger-full-access');
    expect(model.requests).toHaveLength(0);
  });
});

describe('delegate limits', () => {
  it('refuses an approval_policy that would ask less than the server does, or allow what it refuses', async () => {
    ws = tempDir();
    home = agentHome(model);
    model.otherwise({ output: [say('ran')] });
    const untrusted = await connect({ args: ['--approval-policy', 'untrusted'] });
    const silent = await untrusted.call('delegate', { prompt: 'x', approval_policy: 'never' });
    expect(silent.isError).toBe(true);
    expect(silent.text).toContain('This server runs with approval_policy untrusted; a delegate cannot ask for never');
    expect((await untrusted.call('delegate', { prompt: 'x', approval_policy: 'on-request' })).isError).toBe(true);
    // agentHome's config runs the server with never: escalations with a yes are not allowed either.
    const never = await connect();
    expect((await never.call('delegate', { prompt: 'x', approval_policy: 'on-request' })).text).toContain('cannot ask for on-request');
    expect((await never.call('delegate', { prompt: 'x', approval_policy: 'untrusted' })).isError).toBe(true);
    expect(model.requests).toHaveLength(0);
    // Stricter is fine.
    const onRequest = await connect({ args: ['--approval-policy', 'on-request'] });
    expect(data(await onRequest.call('delegate', { prompt: 'x', approval_policy: 'never' })).status).toBe('completed');
  });

  it('gives the subagent only tools of the groups agent.tools allows, whatever the host sees', async () => {
    ws = tempDir();
    // The host sees every group; the operator keeps the subagent to the file tools.
    home = agentHome(model, { extra: '[agent]\ntools = ["files"]' });
    model.script({ output: [say('ok')] });
    const conn = await connect();
    expect((await conn.client.listTools()).tools.map((t) => t.name)).toContain('exec_command');
    expect(data(await conn.call('delegate', { prompt: 'x' })).status).toBe('completed');
    const first = model.requests[0]!.body as Json;
    const names = first.tools.map((t: Json) => t.name);
    expect(names).toEqual(['read_file', 'list_dir', 'glob', 'grep', 'update_plan']);
    // The rules mention no tool it does not have.
    expect(first.input[0].content).not.toContain('Approval policy');
  });

  it('gives the subagent every group when --tools keeps the host to the delegate tools', async () => {
    ws = tempDir();
    home = agentHome(model);
    model.script({ output: [say('ok')] });
    const conn = await connect({ args: ['--tools', 'delegate'] });
    expect((await conn.client.listTools()).tools.map((t) => t.name)).toEqual(['delegate', 'delegate_reply', 'delegate_status', 'delegate_cancel']);
    expect(data(await conn.call('delegate', { prompt: 'x' })).status).toBe('completed');
    const names = (model.requests[0]!.body as Json).tools.map((t: Json) => t.name);
    expect(names).toEqual(expect.arrayContaining(['exec_command', 'write_stdin', 'apply_patch', 'read_file', 'list_dir', 'glob', 'grep', 'git_status', 'git_diff', 'update_plan']));
  });
});

describe('delegate in a subdirectory of a repository', () => {
  it('lets the subagent use git_status and git_diff on the repository while it works in cwd', async () => {
    ws = tempRepo({ 'README.md': '# repo\n', 'packages/calc/src/math.js': SOURCE, 'packages/other/x.js': 'x\n' });
    ws.write('packages/calc/src/math.js', SOURCE.replace('a - b', 'a - b - 0'));
    home = agentHome(model);
    model.script(
      { output: [call('git_status', {}, 'st'), call('git_diff', {}, 'df'), call('read_file', { path: '../other/x.js' }, 'rd')] },
      { output: [say('seen')] },
    );
    const conn = await connect();
    const d = data(await conn.call('delegate', { prompt: 'what changed?', cwd: 'packages/calc' }));
    expect(d.status).toBe('completed');
    const input = (model.requests[1]!.body as Json).input as Json[];
    const out = (id: string) => input.find((i) => i.type === 'function_call_output' && i.call_id === id).output as string;
    expect(out('st')).toContain('packages/calc/src/math.js');
    expect(out('st')).not.toMatch(/^Error/);
    expect(out('df')).toContain('-  return a - b;');
    expect(out('df')).toContain('+  return a - b - 0;');
    // Reading the rest of the repository is allowed (sandboxed commands can read it anyway).
    expect(out('rd')).toContain('x');
    expect(out('rd')).not.toMatch(/^Error/);
  });

  it('does the same in a worktree thread started from the subdirectory', async () => {
    ws = tempRepo({ 'README.md': '# repo\n', 'packages/calc/src/math.js': SOURCE });
    home = agentHome(model);
    model.script(
      {
        output: [
          call('git_status', {}, 'st'),
          // The worktree's top (a read root of the subagent's) is not a directory git was run in yet.
          call('git_status', { repo_path: '../..' }, 'top'),
          call('exec_command', { cmd: 'echo "export {};" > new.js' }, 'wr'),
        ],
      },
      { output: [say('seen')] },
    );
    const conn = await connect();
    const d = data(await conn.call('delegate', { prompt: 'status?', cwd: 'packages/calc', worktree: true }));
    expect(d.status).toBe('completed');
    const outputs = ((model.requests[1]!.body as Json).input as Json[]).filter((i) => i.type === 'function_call_output');
    const top = outputs.find((o) => o.call_id === 'top').output as string;
    expect(top).not.toMatch(/^Error/);
    expect(top).toContain(d.branch!);
    // The end of the call commits the thread's change on its branch: git ran in its view of the
    // worktree and wrote the main repository's objects and refs.
    expect(execFileSync('git', ['show', '--name-only', '--format=%s', d.branch!], { cwd: ws.dir, encoding: 'utf8' })).toContain('packages/calc/new.js');
    const env = ((model.requests[0]!.body as Json).input as Json[]).find((i) => String(i.content).includes('<environment_context>'));
    expect(env.content).toMatch(/<cwd>.*\/\.agentbox\/worktrees\/agentbox-[^/]+\/packages\/calc<\/cwd>/);
    const status = ((model.requests[1]!.body as Json).input as Json[]).find((i) => i.call_id === 'st' && i.type === 'function_call_output').output as string;
    expect(status).not.toMatch(/^Error/);
    expect(status).toContain(d.branch!);
  });
});

describe('delegate over the Chat Completions wire', () => {
  it('runs a multi-turn task with tool calls and sums the usage', async () => {
    ws = tempDir();
    ws.write('notes.txt', 'the answer is 42\n');
    home = agentHome(model, { wire: 'chat' });
    model.script(
      { output: [say('Reading the notes.'), call('read_file', { path: 'notes.txt' }, 'c1'), call('list_dir', {}, 'c2')], usage: { input_tokens: 80, output_tokens: 12 } },
      { output: [say('The answer is 42.')], usage: { input_tokens: 120, output_tokens: 8, cached_input_tokens: 64 } },
    );
    const conn = await connect();
    const d = data(await conn.call('delegate', { prompt: 'What is the answer?' }));
    expect(d.status).toBe('completed');
    expect(d.content).toBe('The answer is 42.');
    expect(d.usage).toEqual({ input_tokens: 200, cached_input_tokens: 64, output_tokens: 20, reasoning_tokens: 0 });

    expect(model.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    const first = model.requests[0]!.body as Json;
    expect(first.messages[0].role).toBe('system');
    expect(first.messages[0].content).toContain('You are a coding agent run by agentbox');
    expect(first.messages[0].content).toContain('<permissions>');
    expect(first.messages.filter((m: Json) => m.role === 'system')).toHaveLength(1);
    expect(first.tools.map((t: Json) => t.function.name)).toContain('read_file');
    const second = (model.requests[1]!.body as Json).messages as Json[];
    const assistant = second.find((m) => m.role === 'assistant');
    expect(assistant.content).toBe('Reading the notes.');
    expect(assistant.tool_calls.map((c: Json) => c.id)).toEqual(['c1', 'c2']);
    const tools = second.filter((m) => m.role === 'tool');
    expect(tools.map((m) => m.tool_call_id).sort()).toEqual(['c1', 'c2']);
    expect(tools.find((m) => m.tool_call_id === 'c1').content).toContain('the answer is 42');
  });
});

describe('delegate_reply', () => {
  it('continues a thread after the server restarts and sends the full history', async () => {
    ws = tempDir();
    ws.write('a.txt', 'alpha\n');
    home = agentHome(model);
    model.script({ output: [call('read_file', { path: 'a.txt' }, 'r1')] }, { output: [say('It says alpha.')] });
    const first = await connect();
    const d1 = data(await first.call('delegate', { prompt: 'What does a.txt say?' }));
    expect(d1.status).toBe('completed');
    await first.close();
    conns.splice(conns.indexOf(first), 1);

    model.script({ output: [say('You asked what a.txt says; it says alpha.')] });
    const second = await connect();
    const d2 = data(await second.call('delegate_reply', { thread_id: d1.thread_id, prompt: 'What did I ask you?' }));
    expect(d2.status).toBe('completed');
    expect(d2.thread_id).toBe(d1.thread_id);
    expect(d2.content).toContain('it says alpha');

    const input = (model.requests[2]!.body as Json).input as Json[];
    const turns = input.filter((i) => i.type !== 'message' || i.role !== 'developer').map((i) => i.type === 'message' ? `${i.role}:${i.content.slice(0, 40)}` : `${i.type}:${i.call_id}`);
    expect(turns.slice(-5)).toEqual(['user:What does a.txt say?', 'function_call:r1', 'function_call_output:r1', 'assistant:It says alpha.', 'user:What did I ask you?']);
    expect(input.find((i) => i.type === 'function_call_output').output).toContain('alpha');
    expect(input.filter((i) => i.role === 'developer')).toHaveLength(1);

    const lines = threadLines(home, d1.thread_id);
    expect(lines.filter((l) => l.type === 'turn_started').map((l) => l.turn)).toEqual([1, 2]);
  });

  it('refuses a second turn on a thread while one runs, with a clear error', async () => {
    ws = tempDir();
    home = agentHome(model);
    model.script({ hang: true });
    const conn = await connect();
    const controller = new AbortController();
    const running = conn.client.callTool({ name: 'delegate', arguments: { prompt: 'slow task' } }, undefined, { signal: controller.signal }).catch((e: Error) => e);
    await model.waitForRequests(1);

    const listed = await conn.client.readResource({ uri: 'agentbox://threads' });
    const threads = JSON.parse((listed.contents[0] as { text: string }).text).threads as Json[];
    expect(threads).toHaveLength(1);
    expect(threads[0].status).toBe('running');
    const busy = await conn.call('delegate_reply', { thread_id: threads[0].id, prompt: 'and another thing' });
    expect(busy.isError).toBe(true);
    expect(busy.text).toContain(`Thread ${threads[0].id} is already running a turn`);

    controller.abort();
    await running;

    // The cancelled thread can be continued at once: the reply waits for the cancel to finish.
    model.script({ output: [say('resumed')] });
    const resumed = data(await conn.call('delegate_reply', { thread_id: threads[0].id, prompt: 'go on' }));
    expect(resumed.status).toBe('completed');
    expect(resumed.content).toBe('resumed');
    const ends = threadLines(home, threads[0].id).filter((l) => l.type === 'turn_ended');
    expect(ends.map((l) => [l.turn, l.status])).toEqual([
      [1, 'cancelled'],
      [2, 'completed'],
    ]);
  });

  it('continues a thread whose server was killed mid-turn, which is listed as interrupted', async () => {
    ws = tempDir();
    ws.write('a.txt', 'alpha\n');
    home = agentHome(model);
    model.script({ output: [call('read_file', { path: 'a.txt' }, 'r1')] }, { hang: true });
    const first = await connect();
    void first.client.callTool({ name: 'delegate', arguments: { prompt: 'read a.txt slowly' } }).catch(() => undefined);
    await model.waitForRequests(2);
    process.kill(first.pid!, 'SIGKILL');
    conns.splice(conns.indexOf(first), 1);
    await first.close().catch(() => undefined);

    const second = await connect();
    const threads = JSON.parse(((await second.client.readResource({ uri: 'agentbox://threads' })).contents[0] as { text: string }).text).threads as Json[];
    expect(threads).toEqual([expect.objectContaining({ status: 'interrupted' })]);
    model.script({ output: [say('a.txt says alpha')] });
    const d = data(await second.call('delegate_reply', { thread_id: threads[0].id, prompt: 'and?' }));
    expect(d.status).toBe('completed');
    const input = (model.requests[2]!.body as Json).input as Json[];
    expect(input.find((i) => i.type === 'function_call_output' && i.call_id === 'r1').output).toContain('alpha');
    expect(input.filter((i) => i.role === 'user').map((i) => i.content).slice(-2)).toEqual(['read a.txt slowly', 'and?']);
  });

  it('repairs a thread file with an unreadable line and says so', async () => {
    ws = tempDir();
    ws.write('a.txt', 'alpha\n');
    home = agentHome(model);
    model.script({ output: [call('read_file', { path: 'a.txt' }, 'r1')] }, { output: [say('alpha')] });
    const conn = await connect();
    const d1 = data(await conn.call('delegate', { prompt: 'read a.txt' }));
    // Corrupt the line holding the call: its output is left without it.
    const file = home.path('threads', `${d1.thread_id}.jsonl`);
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"type":"function_call"'));
    lines[at] = lines[at]!.slice(0, 40);
    writeFileSync(file, lines.join('\n'));

    model.script({ output: [say('going on')] });
    const result = await conn.call('delegate_reply', { thread_id: d1.thread_id, prompt: 'and?' });
    const d2 = data(result);
    expect(d2.status).toBe('completed');
    expect(d2.notes).toEqual([expect.stringMatching(/^1 unreadable line was skipped in the thread file .*; the conversation may miss those steps\.$/)]);
    const input = (model.requests[2]!.body as Json).input as Json[];
    expect(input.some((i) => i.type === 'function_call_output')).toBe(false);
  });

  it('publishes the output schema once, on delegate, and says it returns what delegate returns', async () => {
    ws = tempDir();
    home = agentHome(model);
    const conn = await connect();
    const { tools } = await conn.client.listTools();
    const tool = (name: string) => tools.find((t) => t.name === name);
    expect(tool('delegate')?.outputSchema).toBeDefined();
    expect(tool('delegate_reply')?.outputSchema).toBeUndefined();
    expect(tool('delegate_reply')?.description).toContain('Returns what delegate returns.');
  });

  it('says clearly when the thread does not exist', async () => {
    ws = tempDir();
    home = agentHome(model);
    const conn = await connect();
    const r = await conn.call('delegate_reply', { thread_id: '0190a0b0-0000-7000-8000-000000000000', prompt: 'hi' });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('Thread 0190a0b0-0000-7000-8000-000000000000 not found');
  });
});

describe('delegate limits and failures', () => {
  it('stops at max_turns with status max_turns', async () => {
    ws = tempDir();
    ws.write('f.txt', 'x\n');
    home = agentHome(model);
    model.otherwise({ output: [call('read_file', { path: 'f.txt' })] });
    const conn = await connect();
    const d = data(await conn.call('delegate', { prompt: 'loop forever', max_turns: 3 }));
    expect(d.status).toBe('max_turns');
    expect(model.requests).toHaveLength(3);
  });

  it('refuses a timeout_ms a timer cannot wait (over 2^31 - 1 ms) and a fractional max_turns', async () => {
    ws = tempDir();
    home = agentHome(model);
    model.otherwise({ output: [say('should not be asked')] });
    const conn = await connect();
    const long = await conn.call('delegate', { prompt: 'x', timeout_ms: 2 ** 31 });
    expect(long.isError).toBe(true);
    expect(long.text).toMatch(/timeout_ms/);
    const fractional = await conn.call('delegate', { prompt: 'x', max_turns: 1.5 });
    expect(fractional.isError).toBe(true);
    expect(fractional.text).toMatch(/max_turns/);
    expect(model.requests).toHaveLength(0);
  });

  it('stops at timeout_ms with status timeout and saves the thread', async () => {
    ws = tempDir();
    home = agentHome(model);
    model.script({ hang: true });
    const conn = await connect();
    const d = data(await conn.call('delegate', { prompt: 'never answers', timeout_ms: 1500 }));
    expect(d.status).toBe('timeout');
    expect(threadLines(home, d.thread_id).at(-1)).toMatchObject({ type: 'turn_ended', status: 'timeout' });
    await waitFor(() => model.requests[0]!.closed, 'the model stream to be closed');
  });

  it('retries a 5xx from the model and completes', async () => {
    ws = tempDir();
    home = agentHome(model);
    model.script({ error: 503, message: 'overloaded' }, { output: [say('fine now')] });
    const conn = await connect();
    const progress: string[] = [];
    const result = (await conn.client.callTool({ name: 'delegate', arguments: { prompt: 'hi' } }, undefined, {
      onprogress: (p) => progress.push(p.message ?? ''),
    })) as CallToolResult;
    const d = data(result);
    expect(d.status).toBe('completed');
    expect(d.content).toBe('fine now');
    expect(model.requests).toHaveLength(2);
    expect(progress.some((m) => m.includes('503') && m.includes('retry 1'))).toBe(true);
  });

  it('fails clearly when the model keeps returning 5xx', async () => {
    ws = tempDir();
    home = agentHome(model);
    model.otherwise({ error: 500, message: 'internal trouble' });
    const conn = await connect();
    const result = await conn.call('delegate', { prompt: 'hi' });
    expect(result.isError).toBe(true);
    const d = data(result);
    expect(d.status).toBe('failed');
    expect(d.error).toContain('failed 2 times');
    expect(d.error).toContain('internal trouble');
    expect(result.text).toContain('status: failed');
    expect(model.requests).toHaveLength(2);
  });
});

describe('delegate result size', () => {
  it('cuts a huge diff in both structuredContent and text, saying what is missing and where to get it', async () => {
    ws = tempRepo({ 'README.md': '# repo\n' });
    home = agentHome(model);
    const big = Array.from({ length: 5000 }, (_, i) => `+line ${i} of a generated file`).join('\n');
    model.script(
      { output: [patch(`*** Begin Patch\n*** Add File: big.txt\n${big}\n*** Add File: small.txt\n+small\n*** End Patch\n`, 'p1')] },
      { output: [say('generated')] },
    );
    const conn = await connect();
    const result = await conn.call('delegate', { prompt: 'generate' });
    const d = data(result);
    expect(d.status).toBe('completed');
    expect(d.files_changed.map((f) => f.path)).toEqual(['big.txt', 'small.txt']);
    expect(d.diff).toContain('+line 0 of a generated file');
    expect(d.diff).toMatch(/\[… diff cut at \d+ (KiB|bytes): \d+ more bytes not shown, including all of small\.txt\. files_changed lists every file; git_diff shows the working tree/);
    expect(d.diff).toContain(`agentbox://threads/${d.thread_id}`);
    expect(result.text).toMatch(/diff cut at \d+ (KiB|bytes)/);
    // Both what a text host and what a structuredContent host shows its model stay within the
    // 30,000-character reply budget, and both name the call that continues the thread.
    expect(result.text.length).toBeLessThanOrEqual(30_000);
    expect(JSON.stringify(result.structuredContent).length).toBeLessThanOrEqual(30_000);
    expect(JSON.stringify(result.structuredContent).length).toBeGreaterThan(25_000);
    expect((result.structuredContent as { next: string }).next).toBe(`delegate_reply {"thread_id": "${d.thread_id}", "prompt": "..."}`);
    expect((result.structuredContent as { summary: string }).summary).toMatch(/^completed · 2 model turns · [\d.]+ s · 2 files changed \(A big\.txt, A small\.txt\)$/);
  });
});

describe('delegate output_schema', () => {
  it('returns the parsed answer, asking again when the first answer does not match', async () => {
    ws = tempDir();
    home = agentHome(model);
    const schema = { type: 'object', properties: { bugs: { type: 'integer' }, files: { type: 'array', items: { type: 'string' } } }, required: ['bugs', 'files'] };
    model.script({ output: [say('There is one bug.')] }, { output: [say('{"bugs": 1, "files": ["src/math.js"]}')] });
    const conn = await connect();
    const d = data(await conn.call('delegate', { prompt: 'count the bugs', output_schema: schema }));
    expect(d.status).toBe('completed');
    expect(d.output).toEqual({ bugs: 1, files: ['src/math.js'] });
    expect(d.content).toBe('{"bugs": 1, "files": ["src/math.js"]}');
    const first = model.requests[0]!.body as Json;
    expect(first.text.format).toMatchObject({ type: 'json_schema', schema });
    const retry = (model.requests[1]!.body as Json).input.at(-1);
    expect(retry.content).toContain('does not match the required output schema');
  });

  it('falls back to instructions alone when a chat server refuses response_format', async () => {
    ws = tempDir();
    home = agentHome(model, { wire: 'chat' });
    model.script({ error: 400, message: 'response_format json_schema is not supported' }, { output: [say('{"ok": true}')] });
    const conn = await connect();
    const d = data(await conn.call('delegate', { prompt: 'say ok', output_schema: { type: 'object', required: ['ok'] } }));
    expect(d.status).toBe('completed');
    expect(d.output).toEqual({ ok: true });
    expect((model.requests[0]!.body as Json).response_format).toMatchObject({ type: 'json_schema' });
    expect((model.requests[1]!.body as Json).response_format).toBeUndefined();
    expect((model.requests[1]!.body as Json).messages[0].content).toContain('Your final message must be only a JSON value');
  });

  it('refuses an output_schema that is not a JSON Schema', async () => {
    ws = tempDir();
    home = agentHome(model);
    const conn = await connect();
    const r = await conn.call('delegate', { prompt: 'x', output_schema: { type: 'no-such-type' } });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('output_schema is not a valid JSON Schema');
  });
});

describe('delegate compaction', () => {
  it('compacts near the context window and completes the run', async () => {
    ws = tempDir();
    ws.write('big.txt', 'data\n');
    home = agentHome(model, { provider: ['context_window = 1000'], extra: '[agent]\ncompact_threshold = 0.5' });
    model.script(
      { output: [call('read_file', { path: 'big.txt' }, 'r1')], usage: { input_tokens: 900, output_tokens: 20 } },
      { output: [say('SUMMARY: read big.txt, it holds "data"; next: answer.')], usage: { input_tokens: 950, output_tokens: 30 } },
      { output: [say('big.txt holds data.')], usage: { input_tokens: 200, output_tokens: 10 } },
    );
    const conn = await connect();
    const d = data(await conn.call('delegate', { prompt: 'What is in big.txt?' }));
    expect(d.status).toBe('completed');
    expect(d.content).toBe('big.txt holds data.');
    expect(d.usage.input_tokens).toBe(2050);

    const compaction = model.requests[1]!.body as Json;
    expect(compaction.tools).toBeUndefined();
    expect(compaction.input.at(-1).content).toContain('context checkpoint');
    const after = (model.requests[2]!.body as Json).input as Json[];
    expect(after.some((i) => i.type === 'function_call')).toBe(false);
    expect(after.at(-1).content).toContain('SUMMARY: read big.txt');
    expect(after.some((i) => i.role === 'user' && i.content === 'What is in big.txt?')).toBe(true);
    expect(after[0].role).toBe('developer');
    expect(threadLines(home, d.thread_id).some((l) => l.type === 'compacted')).toBe(true);
  });
});

describe('delegate threads as resources', () => {
  it('lists threads and reads a transcript', async () => {
    ws = tempDir();
    ws.write('a.txt', 'alpha\n');
    home = agentHome(model);
    model.script({ output: [call('read_file', { path: 'a.txt' }, 'r1')] }, { output: [say('alpha it is')] });
    const conn = await connect();
    const d = data(await conn.call('delegate', { prompt: 'Read a.txt' }));
    const list = JSON.parse(((await conn.client.readResource({ uri: 'agentbox://threads' })).contents[0] as { text: string }).text);
    expect(list.threads).toEqual([expect.objectContaining({ id: d.thread_id, title: 'Read a.txt', status: 'completed', turns: 1 })]);
    const templates = await conn.client.listResources();
    expect(templates.resources.map((r) => r.uri)).toContain(`agentbox://threads/${d.thread_id}`);
    const transcript = ((await conn.client.readResource({ uri: `agentbox://threads/${d.thread_id}` })).contents[0] as { text: string }).text;
    expect(transcript).toContain('# Read a.txt');
    expect(transcript).toContain('> Read a.txt');
    expect(transcript).toContain('**Tool call** `read_file`');
    expect(transcript).toContain('alpha it is');
    expect(transcript).toContain('Turn 1 ended: completed');
    expect(transcript).not.toContain('<permissions>');
  });
});

describe('delegate worktree', () => {
  it('runs two parallel delegates in separate worktrees on separate branches', async () => {
    ws = tempRepo({ 'README.md': '# repo\n' });
    home = agentHome(model);
    model.otherwise((req) => {
      const input = req.body.input as Json[];
      const env = input.find((i) => i.role === 'user' && String(i.content).includes('<environment_context>'));
      const cwd = /<cwd>(.*)<\/cwd>/.exec(env.content)![1];
      return { output: [say(`I work in ${cwd}`)] };
    });
    const conn = await connect();
    const [a, b] = await Promise.all([
      conn.call('delegate', { prompt: 'task A', worktree: true }),
      conn.call('delegate', { prompt: 'task B', worktree: true }),
    ]);
    const da = data(a);
    const db = data(b);
    expect(da.branch).toMatch(/^agentbox\//);
    expect(db.branch).toMatch(/^agentbox\//);
    expect(da.branch).not.toBe(db.branch);
    const dirA = /I work in (.*)/.exec(da.content)![1]!;
    const dirB = /I work in (.*)/.exec(db.content)![1]!;
    expect(dirA).not.toBe(dirB);
    expect(dirA.startsWith(`${ws.dir}/.agentbox/worktrees/`)).toBe(true);
  });

  it('refuses worktree when the repository reaches outside the workspace', async () => {
    ws = tempRepo({ 'sub/file.txt': 'x\n' });
    home = agentHome(model);
    const conn = await connectAgent(home, ws.path('sub'));
    conns.push(conn);
    const r = await conn.call('delegate', { prompt: 'x', worktree: true });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('lies outside the writable roots');
    expect(model.requests).toHaveLength(0);
  });

  it('refuses worktree outside a git repository', async () => {
    ws = tempDir();
    home = agentHome(model);
    const conn = await connect();
    const r = await conn.call('delegate', { prompt: 'x', worktree: true });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('needs a git repository');
  });
});
