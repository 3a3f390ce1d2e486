// Runs longer than a host waits: delegate {background: true} with delegate_status (long-poll) and
// delegate_cancel; the same run as an MCP task through the SDK client's task API; a background
// run that outlives its HTTP session, and one cut off by a killed server, reported as
// interrupted and continued. Real agentbox, real sandbox; only the model is scripted.
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallToolResultSchema, ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Runtime } from '../../src/runtime.js';
import { serveHttp, type HttpHandle } from '../../src/transports/http.js';
import { agentHome, availableTools, connectAgent, mockModelConfig, processesMatching, threadLines, waitFor, type Json } from '../support/agent.js';
import { connectHttp, type Connected } from '../support/client.js';
import { call, say, startModelServer, type ModelServer } from '../support/model-server.mjs';
import { testRuntime } from '../support/runtime.js';
import { tempDir, type TempDir } from '../support/workspace.js';

const tools = await availableTools();
const shell = tools.has('exec_command') ? '' : '(needs exec_command, not in this build yet)';

let model: ModelServer;
let home: TempDir | undefined;
let ws: TempDir;
let handle: HttpHandle | undefined;
let runtime: Runtime | undefined;
const conns: Connected[] = [];
beforeEach(async () => {
  model = await startModelServer();
  ws = tempDir();
  ws.write('a.txt', 'alpha\n');
});
afterEach(async () => {
  for (const c of conns.splice(0)) await c.close().catch(() => undefined);
  await handle?.close();
  handle = undefined;
  await runtime?.shutdown();
  runtime = undefined;
  await model.close();
  home?.cleanup();
  home = undefined;
  ws.cleanup();
});

async function connect(opts: Parameters<typeof connectAgent>[2] = {}) {
  home ??= agentHome(model);
  const c = await connectAgent(home, ws.dir, opts);
  conns.push(c);
  return c;
}

const sc = (r: CallToolResult) => r.structuredContent as Json;

describe('delegate in the background', () => {
  it('returns {thread_id, status: "running"} at once and is polled to completion with delegate_status', async () => {
    model.script(
      { output: [call('read_file', { path: 'a.txt' }, 'r1')], delayMs: 800, usage: { input_tokens: 100, output_tokens: 10 } },
      { output: [say('a.txt says alpha')], usage: { input_tokens: 150, output_tokens: 5 } },
    );
    const conn = await connect();
    const started = await conn.call('delegate', { prompt: 'read a.txt', background: true });
    expect(started.isError).toBeFalsy();
    const { thread_id } = sc(started);
    // structuredContent (what Claude Code and Codex show their model) carries the next call itself.
    expect(sc(started)).toEqual({
      thread_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'running',
      summary: `Started thread ${thread_id} in the background.`,
      next: `delegate_status {"thread_id": "${thread_id}", "wait_ms": 60000}`,
    });
    expect(started.text).toContain(`delegate_status {"thread_id": "${thread_id}", "wait_ms": 60000}`);

    const live = await conn.call('delegate_status', { thread_id });
    expect(sc(live)).toMatchObject({ thread_id, status: 'running', turn: 1, step: expect.any(String) });
    expect(live.text).toContain('running: thread');

    let last: CallToolResult & { text: string } = live;
    for (let i = 0; i < 20 && sc(last).status === 'running'; i++) last = await conn.call('delegate_status', { thread_id, wait_ms: 5000 });
    expect(sc(last)).toMatchObject({ thread_id, status: 'completed', content: 'a.txt says alpha', files_changed: [], diff: '' });
    expect(sc(last).usage).toEqual({ input_tokens: 250, cached_input_tokens: 0, output_tokens: 15, reasoning_tokens: 0 });
    expect(last.text).toContain('status: completed');
    // Asked again later, the same result (from the thread file).
    expect(sc(await conn.call('delegate_status', { thread_id }))).toMatchObject({ status: 'completed', content: 'a.txt says alpha' });
  });

  it('answers a long-poll as soon as the run changes, and delegate_cancel stops it', async () => {
    // The first response comes after a moment; the second never does (the stream hangs).
    model.script({ output: [call('read_file', { path: 'a.txt' }, 'r1')], delayMs: 500 }, { hang: true });
    const conn = await connect();
    const { thread_id } = sc(await conn.call('delegate', { prompt: 'read a.txt', background: true }));
    await model.waitForRequests(1);
    // wait_ms is capped at 60 s, longer than this test may take: only a change can end this call.
    const polled = await conn.call('delegate_status', { thread_id, wait_ms: 120_000 });
    expect(sc(polled).status).toBe('running');
    await model.waitForRequests(2);
    const turn1 = await conn.call('delegate_status', { thread_id });
    expect(sc(turn1)).toMatchObject({ status: 'running', turns: 1 });

    const cancelled = await conn.call('delegate_cancel', { thread_id });
    expect(sc(cancelled)).toMatchObject({ thread_id, status: 'cancelled' });
    await waitFor(() => model.requests[1]!.closed, 'the model stream to be closed');
    expect(threadLines(home!, thread_id).at(-1)).toMatchObject({ type: 'turn_ended', status: 'cancelled' });
    const again = await conn.call('delegate_cancel', { thread_id });
    expect(again.isError).toBe(true);
    expect(again.text).toContain('is not running');
  });

  it.skipIf(shell !== '')(`kills the run's processes when cancelled ${shell}`, async () => {
    const marker = `30.${Date.now() % 100000}${Math.floor(Math.random() * 1000)}`;
    model.script({ output: [call('exec_command', { cmd: `sleep ${marker}`, yield_time_ms: 30000 }, 'sleeper')] });
    const conn = await connect();
    const { thread_id } = sc(await conn.call('delegate', { prompt: 'sleep a while', background: true }));
    await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 'the sleep to start');
    const cancelled = await conn.call('delegate_cancel', { thread_id });
    expect(sc(cancelled).status).toBe('cancelled');
    expect(processesMatching(`sleep ${marker}`)).toEqual([]);
  });

  it.skipIf(shell !== '')(`declines approval requests without asking the host, and tells the subagent ${shell}`, async () => {
    const outside = tempDir('agentbox-outside-');
    try {
      const target = outside.path('escalated.txt');
      model.script(
        { output: [call('exec_command', { cmd: `echo escalated > ${target}`, sandbox_permissions: 'require_escalated', justification: 'write the marker' }, 'esc')] },
        { output: [say('could not write it')] },
      );
      const conn = await connect({ capabilities: { elicitation: {} }, args: ['--approval-policy', 'on-request'] });
      const asked: string[] = [];
      conn.client.setRequestHandler(ElicitRequestSchema, async (req) => {
        asked.push(String(req.params.message));
        return { action: 'accept' };
      });
      const { thread_id } = sc(await conn.call('delegate', { prompt: 'write the marker', approval_policy: 'on-request', background: true }));
      let last = await conn.call('delegate_status', { thread_id, wait_ms: 10_000 });
      for (let i = 0; i < 20 && sc(last).status === 'running'; i++) last = await conn.call('delegate_status', { thread_id, wait_ms: 10_000 });
      expect(sc(last).status).toBe('completed');
      expect(asked).toEqual([]);
      const first = (model.requests[0]!.body as Json).input as Json[];
      expect(first.some((i) => i.role === 'developer' && String(i.content).includes('This turn runs in the background'))).toBe(true);
      const output = ((model.requests[1]!.body as Json).input as Json[]).find((i) => i.call_id === 'esc' && i.type === 'function_call_output').output as string;
      expect(output).toContain('treated as declined');
      const { existsSync } = await import('node:fs');
      expect(existsSync(target)).toBe(false);
    } finally {
      outside.cleanup();
    }
  });

  it('leaves a run stopped by the server shutting down (stdin closed) interrupted, as a killed server does', async () => {
    model.script({ hang: true });
    const conn = await connect();
    const { thread_id } = sc(await conn.call('delegate', { prompt: 'never answers', background: true }));
    await model.waitForRequests(1);
    conns.splice(conns.indexOf(conn), 1);
    await conn.close();
    await waitFor(() => !existsSync(home!.path('threads', `${thread_id}.lock`)), 'the run to release its thread');
    expect(threadLines(home!, thread_id).some((l) => l.type === 'turn_ended')).toBe(false);
    const again = await connect();
    const status = await again.call('delegate_status', { thread_id });
    expect(sc(status)).toEqual({ thread_id, status: 'interrupted', turn: 1, summary: expect.stringContaining('was interrupted'), next: `delegate_reply {"thread_id": "${thread_id}", "prompt": "..."}` });
  });

  it('delegate_status {wait_ms} on a thread another server runs waits for its end by re-reading the file', async () => {
    model.script({ hang: true });
    const owner = await connect();
    const { thread_id } = sc(await owner.call('delegate', { prompt: 'never answers', background: true }));
    await model.waitForRequests(1);
    const other = await connect();
    const t0 = Date.now();
    const quiet = await other.call('delegate_status', { thread_id, wait_ms: 1000 });
    expect(sc(quiet)).toEqual({ thread_id, status: 'running', turn: 1, summary: expect.stringContaining('another agentbox process'), next: `delegate_status {"thread_id": "${thread_id}", "wait_ms": 60000}` });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    const waiting = other.call('delegate_status', { thread_id, wait_ms: 30_000 });
    await new Promise((r) => setTimeout(r, 300));
    const t1 = Date.now();
    await owner.call('delegate_cancel', { thread_id });
    const ended = await waiting;
    expect(sc(ended)).toMatchObject({ thread_id, status: 'cancelled' });
    expect(Date.now() - t1).toBeLessThan(5000);
  });

  it('reports a run cut off by a killed server as interrupted, and delegate_reply continues it', async () => {
    model.script({ output: [call('read_file', { path: 'a.txt' }, 'r1')] }, { hang: true });
    const first = await connect();
    const { thread_id } = sc(await first.call('delegate', { prompt: 'read a.txt slowly', background: true }));
    await model.waitForRequests(2);
    process.kill(first.pid!, 'SIGKILL');
    conns.splice(conns.indexOf(first), 1);
    await first.close().catch(() => undefined);

    const second = await connect();
    const status = await second.call('delegate_status', { thread_id });
    expect(sc(status)).toMatchObject({ thread_id, status: 'interrupted', turn: 1, next: `delegate_reply {"thread_id": "${thread_id}", "prompt": "..."}` });
    expect(status.text).toContain('delegate_reply');
    const cancel = await second.call('delegate_cancel', { thread_id });
    expect(cancel.isError).toBe(true);

    model.script({ output: [say('a.txt says alpha')] });
    const { thread_id: same } = sc(await second.call('delegate_reply', { thread_id, prompt: 'and?', background: true }));
    expect(same).toBe(thread_id);
    let done = await second.call('delegate_status', { thread_id, wait_ms: 10_000 });
    for (let i = 0; i < 20 && sc(done).status === 'running'; i++) done = await second.call('delegate_status', { thread_id, wait_ms: 10_000 });
    expect(sc(done)).toMatchObject({ status: 'completed', content: 'a.txt says alpha' });
    const input = (model.requests[2]!.body as Json).input as Json[];
    expect(input.find((i) => i.type === 'function_call_output' && i.call_id === 'r1').output).toContain('alpha');
  });
});

describe('delegate outliving its HTTP session', () => {
  it('keeps running after the session that started it is closed; another session gets the result', async () => {
    runtime = testRuntime({
      roots: [ws.dir],
      http: { port: 0 },
      ...mockModelConfig(model),
    });
    handle = await serveHttp(runtime);
    model.script({ output: [call('read_file', { path: 'a.txt' }, 'r1')], delayMs: 1000 }, { output: [say('alpha, from a background run')] });

    const first = await connectHttp(handle.url);
    const { thread_id } = (await first.client.callTool({ name: 'delegate', arguments: { prompt: 'read a.txt', background: true } })).structuredContent as Json;
    await first.close();
    await waitFor(() => handle!.sessionCount() === 0, 'the first session to close');

    const second = await connectHttp(handle.url);
    conns.push(second);
    let last = await second.call('delegate_status', { thread_id, wait_ms: 10_000 });
    for (let i = 0; i < 20 && sc(last).status === 'running'; i++) last = await second.call('delegate_status', { thread_id, wait_ms: 10_000 });
    expect(sc(last)).toMatchObject({ thread_id, status: 'completed', content: 'alpha, from a background run' });
    expect(model.requests).toHaveLength(2);
  });
});

describe('delegate as an MCP task', () => {
  it('creates a task, reports its status, and returns the result through the SDK client task API', async () => {
    model.script(
      { output: [call('read_file', { path: 'a.txt' }, 'r1')], delayMs: 300 },
      { output: [say('alpha, as a task')], usage: { input_tokens: 40, output_tokens: 4 } },
    );
    const conn = await connect();
    const listed = (await conn.client.listTools()).tools.find((t) => t.name === 'delegate')!;
    expect(listed.execution).toEqual({ taskSupport: 'optional' });
    expect(conn.client.getServerCapabilities()?.tasks).toMatchObject({ cancel: {}, requests: { tools: { call: {} } } });

    const seen: string[] = [];
    let taskId = '';
    let result: CallToolResult | undefined;
    for await (const message of conn.client.experimental.tasks.callToolStream({ name: 'delegate', arguments: { prompt: 'read a.txt' } }, undefined, { task: { ttl: 600_000 } })) {
      seen.push(message.type);
      if (message.type === 'taskCreated') taskId = message.task.taskId;
      if (message.type === 'result') result = message.result as CallToolResult;
      if (message.type === 'error') throw message.error;
    }
    expect(seen[0]).toBe('taskCreated');
    expect(seen).toContain('taskStatus');
    expect(seen.at(-1)).toBe('result');
    const d = result!.structuredContent as Json;
    expect(d).toMatchObject({ status: 'completed', content: 'alpha, as a task' });
    expect(taskId).toBe(`${d.thread_id}.1`);

    const task = await conn.client.experimental.tasks.getTask(taskId);
    expect(task).toMatchObject({ taskId, status: 'completed', ttl: 600_000 });
    const again = (await conn.client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema)) as CallToolResult;
    expect((again.structuredContent as Json).content).toBe('alpha, as a task');
    const { tasks } = await conn.client.experimental.tasks.listTasks();
    expect(tasks.map((t) => t.taskId)).toContain(taskId);
    // The same thread's task is answered by a restarted server too.
    await conn.close();
    conns.splice(conns.indexOf(conn), 1);
    const restarted = await connect();
    expect(await restarted.client.experimental.tasks.getTask(taskId)).toMatchObject({ taskId, status: 'completed' });
  });

  it('cancels a task with tasks/cancel: the run stops and is saved as cancelled', async () => {
    model.script({ hang: true });
    const conn = await connect();
    const stream = conn.client.experimental.tasks.callToolStream({ name: 'delegate', arguments: { prompt: 'never answers' } }, undefined, { task: {} });
    const created = await stream.next();
    expect(created.value).toMatchObject({ type: 'taskCreated', task: { status: 'working' } });
    const taskId = (created.value as { task: { taskId: string } }).task.taskId;
    await model.waitForRequests(1);
    const cancelled = await conn.client.experimental.tasks.cancelTask(taskId);
    expect(cancelled.status).toBe('cancelled');
    const rest: { type: string; error?: { message: string } }[] = [];
    for await (const m of stream) rest.push(m);
    // The stream ends with the cancelled task's error, once.
    expect(rest.filter((m) => m.type === 'error')).toHaveLength(1);
    expect(rest.at(-1)?.type).toBe('error');
    expect(String(rest.at(-1)!.error!.message)).toContain('cancelled');
    await waitFor(() => model.requests[0]!.closed, 'the model stream to be closed');
    const thread_id = taskId.split('.')[0]!;
    await waitFor(() => threadLines(home!, thread_id).some((l) => l.type === 'turn_ended'), 'the thread to be saved');
    expect(threadLines(home!, thread_id).at(-1)).toMatchObject({ type: 'turn_ended', status: 'cancelled' });
    expect(await conn.client.experimental.tasks.getTask(taskId)).toMatchObject({ status: 'cancelled' });
  });

  it('refuses a task for a tool without taskSupport with -32602, before running it', async () => {
    const conn = await connect();
    const asked = conn.client.request(
      { method: 'tools/call', params: { name: 'write_file', arguments: { path: 'made.txt', content: 'x\n' }, task: {} } },
      CallToolResultSchema,
    );
    await expect(asked).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('cannot run as a task') });
    expect(existsSync(ws.path('made.txt'))).toBe(false);
    const unknown = conn.client.request({ method: 'tools/call', params: { name: 'no_such_tool', arguments: {}, task: {} } }, CallToolResultSchema);
    await expect(unknown).rejects.toMatchObject({ message: expect.not.stringContaining('cannot run as a task') });
  });

  it('still runs delegate as a plain call (with progress) when no task is asked for', async () => {
    model.script({ output: [say('plain')] });
    const conn = await connect();
    const progress: string[] = [];
    const r = (await conn.client.callTool({ name: 'delegate', arguments: { prompt: 'hi' } }, undefined, { onprogress: (p) => progress.push(p.message ?? '') })) as CallToolResult;
    expect(sc(r)).toMatchObject({ status: 'completed', content: 'plain' });
    expect(progress[0]).toContain('started thread');
    const bad = await conn.call('delegate', { prompt: 'x', bogus: 1 });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain('Input validation error');
  });
});
