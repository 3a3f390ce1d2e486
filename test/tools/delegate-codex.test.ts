// backend "codex" end to end: agentbox drives the real Codex CLI (@openai/codex 0.169.0, a
// devDependency) with `codex exec --json` and `codex exec resume`, Codex talks to the scripted
// model server over the Responses wire, runs its commands in its own sandbox and applies its own
// patches; agentbox returns the same result as for its own loop (answer, git diff, files, usage).
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { agentHome, connectAgent, data, processesMatching, threadLines, waitFor, type Json } from '../support/agent.js';
import type { Connected } from '../support/client.js';
import { CODEX_BIN, codexEnv, type CodexEnv } from '../support/codex.js';
import { call, say, startModelServer, type ModelServer } from '../support/model-server.mjs';
import { newThreadId } from '../../src/agent/threads.js';
import { tempRepo, type TempDir } from '../support/workspace.js';

const installed = existsSync(CODEX_BIN);

let model: ModelServer;
let home: TempDir;
let cx: CodexEnv;
let ws: TempDir;
const conns: Connected[] = [];
beforeEach(async () => {
  model = await startModelServer();
  cx = codexEnv(model);
  ws = tempRepo({ 'a.txt': 'old\n', 'README.md': '# r\n' });
  home = agentHome(model, { extra: `[codex]\npath = "${CODEX_BIN}"` });
});
afterEach(async () => {
  for (const c of conns.splice(0)) await c.close().catch(() => undefined);
  await model.close();
  home.cleanup();
  cx.dir.cleanup();
  ws.cleanup();
});

async function connect(env: Record<string, string> = cx.env) {
  const c = await connectAgent(home, ws.dir, { env });
  conns.push(c);
  return c;
}

const PATCH = "apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: a.txt\n@@\n-old\n+new\n*** End Patch\nEOF\n";
/** Codex sends its base prompt and context as input messages; these are the texts of one request's messages by role. */
const texts = (body: Json, role: string): string[] =>
  (body.input as Json[]).filter((i) => i.type === 'message' && i.role === role).map((i) => (i.content as Json[]).map((c) => c.text ?? '').join('\n'));

describe.skipIf(!installed)('delegate with backend "codex" (the real Codex CLI)', () => {
  it('runs a task: Codex reads, patches and answers; agentbox returns the answer, git diff, files and usage', async () => {
    model.script(
      { output: [call('exec_command', { cmd: 'cat a.txt' }, 'c1')], usage: { input_tokens: 100, output_tokens: 10 } },
      { output: [call('exec_command', { cmd: PATCH }, 'c2')], usage: { input_tokens: 200, cached_input_tokens: 50, output_tokens: 20 } },
      { output: [say('a.txt now says new.')], usage: { input_tokens: 300, output_tokens: 5, reasoning_tokens: 2 } },
    );
    const conn = await connect();
    const progress: string[] = [];
    const result = (await conn.client.callTool(
      { name: 'delegate', arguments: { prompt: 'Change a.txt to say new.', backend: 'codex', reasoning_effort: 'high', developer_instructions: 'DEV-NOTE: be brief.', model: 'test-model' } },
      undefined,
      { onprogress: (p) => progress.push(p.message ?? ''), timeout: 60_000 },
    )) as CallToolResult;
    const d = data(result);
    expect(d.status, JSON.stringify(d)).toBe('completed');
    expect(d.content).toBe('a.txt now says new.');
    expect(readFileSync(ws.path('a.txt'), 'utf8')).toBe('new\n');
    expect(d.files_changed).toEqual([{ path: 'a.txt', kind: 'modified' }]);
    expect(d.diff).toContain('-old\n+new');
    expect(d.usage).toEqual({ input_tokens: 600, cached_input_tokens: 50, output_tokens: 35, reasoning_tokens: 2 });

    // What Codex sent: our model, effort, developer instructions and prompt; the command's output came back.
    const first = model.requests[0]!.body as Json;
    expect(first.model).toBe('test-model');
    expect(first.reasoning).toMatchObject({ effort: 'high' });
    expect(texts(first, 'developer').join('\n')).toContain('DEV-NOTE: be brief.');
    expect(texts(first, 'user').at(-1)).toBe('Change a.txt to say new.');
    const second = (model.requests[1]!.body as Json).input as Json[];
    expect(second.find((i) => i.type === 'function_call_output' && i.call_id === 'c1').output).toContain('old');

    expect(progress).toContain('exec_command `cat a.txt`');
    expect(progress).toContain('command `cat a.txt` exited with code 0');
    expect(progress).toContain('patch applied: M a.txt');
    expect(progress.length).toBeLessThan(15);

    // The thread remembers Codex's own thread id, for replies.
    const lines = threadLines(home, d.thread_id);
    expect(lines[0]).toMatchObject({ type: 'thread', meta: { backend: 'codex' } });
    expect(lines.some((l) => l.type === 'codex_thread')).toBe(true);
  });

  it('continues the Codex thread with delegate_reply (codex exec resume), also after agentbox restarts', async () => {
    model.script({ output: [say('first answer')], usage: { input_tokens: 100, cached_input_tokens: 10, output_tokens: 10, reasoning_tokens: 1 } });
    const first = await connect();
    const d1 = data(await first.call('delegate', { prompt: 'first question', backend: 'codex' }));
    expect(d1.status, JSON.stringify(d1)).toBe('completed');
    expect(d1.usage).toEqual({ input_tokens: 100, cached_input_tokens: 10, output_tokens: 10, reasoning_tokens: 1 });
    await first.close();
    conns.splice(conns.indexOf(first), 1);

    model.script(
      { output: [call('exec_command', { cmd: 'true' }, 't1')], usage: { input_tokens: 200, cached_input_tokens: 50, output_tokens: 20, reasoning_tokens: 3 } },
      { output: [say('second answer')], usage: { input_tokens: 300, output_tokens: 30 } },
    );
    const second = await connect();
    const d2 = data(await second.call('delegate_reply', { thread_id: d1.thread_id, prompt: 'second question' }));
    expect(d2.status, JSON.stringify(d2)).toBe('completed');
    expect(d2.thread_id).toBe(d1.thread_id);
    expect(d2.content).toBe('second answer');
    // Codex reports its session's running total (600 in by now); the reply used only its own.
    expect(d2.usage).toEqual({ input_tokens: 500, cached_input_tokens: 50, output_tokens: 50, reasoning_tokens: 3 });
    expect(data(await second.call('delegate_status', { thread_id: d1.thread_id })).usage).toEqual(d2.usage);
    const body = model.requests[2]!.body as Json;
    const users = texts(body, 'user');
    expect(users).toContain('first question');
    expect(users.at(-1)).toBe('second question');
    expect(texts(body, 'assistant')).toContain('first answer');
  });

  it('keeps secrets and agentbox\'s own variables from the commands Codex runs (and from Codex, unless it needs them)', async () => {
    home.write(
      'config.toml',
      readFileSync(home.path('config.toml'), 'utf8').replace(
        `[codex]\npath = "${CODEX_BIN}"`,
        `[codex]\npath = "${CODEX_BIN}"\n[shell.env]\ninclude = ["MY_TOKEN", "INCLUDED_*", "FOO_*"]\nset = { SET_VAR = "set-value", SET_TOKEN = "set-secret" }`,
      ),
    );
    model.script({ output: [call('exec_command', { cmd: 'env' }, 'env1')] }, { output: [say('listed')] });
    const conn = await connect({
      ...cx.env,
      FOO_API_KEY: 'foo-secret-value',
      MY_TOKEN: 'my-token-value',
      AWS_SECRET_ACCESS_KEY: 'aws-secret-value',
      AGENTBOX_AUTH_TOKEN: 'agentbox-auth-token-value',
      INCLUDED_VAR: 'included-value',
      PLAIN_VAR: 'plain-value',
    });
    const d = data(await conn.call('delegate', { prompt: 'list the environment', backend: 'codex' }));
    expect(d.status, JSON.stringify(d)).toBe('completed');
    // Codex itself still reached its model with the key its config names.
    expect(model.requests[0]!.headers.authorization).toBe('Bearer mock-key');
    const env = ((model.requests[1]!.body as Json).input as Json[]).find((i) => i.type === 'function_call_output' && i.call_id === 'env1').output as string;
    for (const hidden of ['foo-secret-value', 'aws-secret-value', 'agentbox-auth-token-value', 'mock-key', 'plain-value', 'AGENTBOX_', home.dir]) {
      expect(env, hidden).not.toContain(hidden);
    }
    expect(env).toContain('PATH=');
    expect(env).toContain('MY_TOKEN=my-token-value'); // named exactly in shell.env.include
    expect(env).toContain('INCLUDED_VAR=included-value'); // a glob in include
    expect(env).toContain('SET_VAR=set-value');
    expect(env).toContain('SET_TOKEN=set-secret');
  });

  it('kills Codex and the command it runs when the run is cancelled', async () => {
    const marker = `30.${Date.now() % 100000}${Math.floor(Math.random() * 1000)}`;
    model.script({ output: [call('exec_command', { cmd: `sleep ${marker}`, yield_time_ms: 30000 }, 's1')] });
    const conn = await connect();
    const { thread_id } = (await conn.call('delegate', { prompt: 'sleep', backend: 'codex', background: true })).structuredContent as Json;
    await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 'the sleep to start', 30_000);
    const codex = `--skip-git-repo-check -C ${ws.dir}`;
    expect(processesMatching(codex).length).toBeGreaterThan(0);
    // The turn's mark reaches the command Codex runs in its own sandbox: how it is found once
    // reparented. Waited for, not read once: a process caught mid-exec shows an empty environ.
    const marked = () =>
      processesMatching(`sleep ${marker}`).some((p) => {
        try {
          return /(^|\0)CODEX_RUN_OWNER=agentbox-/.test(readFileSync(`/proc/${p}/environ`, 'utf8'));
        } catch {
          return false;
        }
      });
    await waitFor(marked, 'the sleep to carry CODEX_RUN_OWNER', 10_000);
    const cancelled = await conn.call('delegate_cancel', { thread_id });
    expect((cancelled.structuredContent as Json).status).toBe('cancelled');
    expect(processesMatching(`sleep ${marker}`)).toEqual([]);
    expect(processesMatching(codex)).toEqual([]);
  });

  it('stops Codex at timeout_ms and reports status timeout', async () => {
    model.script({ hang: true });
    const conn = await connect();
    const t0 = Date.now();
    const r = await conn.call('delegate', { prompt: 'never answers', backend: 'codex', timeout_ms: 1500 });
    const d = data(r);
    expect(d.status).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(threadLines(home, d.thread_id as string).at(-1)).toMatchObject({ type: 'turn_ended', status: 'timeout' });
    expect(processesMatching(`--skip-git-repo-check -C ${ws.dir}`)).toEqual([]);
  });

  it('fails clearly when Codex reports an error (the model endpoint refuses)', async () => {
    model.otherwise({ error: 401, message: 'bad key' });
    const conn = await connect();
    const r = await conn.call('delegate', { prompt: 'hi', backend: 'codex' });
    expect(r.isError).toBe(true);
    const d = data(r);
    expect(d.status).toBe('failed');
    expect(d.error).toMatch(/^Codex: /);
    expect(d.error).toContain('401');
  });
});

describe('delegate with backend "codex" under an approval policy that asks', () => {
  it('refuses to start Codex (always approval_policy never) where never is not within the policy', async () => {
    const server = await connectAgent(home, ws.dir, { env: cx.env, args: ['--approval-policy', 'untrusted'] });
    conns.push(server);
    const r = await server.call('delegate', { prompt: 'hi', backend: 'codex' });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('backend "codex" runs Codex with approval_policy never');
    expect(r.text).toContain('this server runs with approval_policy untrusted');
    const onRequest = await connectAgent(home, ws.dir, { env: cx.env, args: ['--approval-policy', 'on-request'] });
    conns.push(onRequest);
    const asked = await onRequest.call('delegate', { prompt: 'hi', backend: 'codex', approval_policy: 'untrusted' });
    expect(asked.isError).toBe(true);
    expect(asked.text).toContain('the call asks for approval_policy untrusted');
    expect(model.requests).toHaveLength(0);
    expect(processesMatching(`--skip-git-repo-check -C ${ws.dir}`)).toEqual([]);
  });

  it('refuses a reply to a codex thread that the server now narrows to untrusted', async () => {
    // A codex thread recorded with on-request (as threads were before codex threads recorded never).
    const id = newThreadId();
    const meta = { id, created: new Date().toISOString(), title: 'old', cwd: ws.dir, model: 'codex default', provider: 'codex', sandbox: 'workspace-write', approval_policy: 'on-request', network: false, opening_items: 0, backend: 'codex' };
    const ts = new Date().toISOString();
    const usage = { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_tokens: 0 };
    home.write(
      `threads/${id}.jsonl`,
      [
        { ts, type: 'thread', meta },
        { ts, type: 'codex_thread', id: '01a212a3-0000-7000-8000-000000000000' },
        { ts, type: 'turn_started', turn: 1, prompt: 'p' },
        { ts, type: 'turn_ended', turn: 1, status: 'completed', content: 'a', usage, duration_ms: 1, files_changed: 0 },
      ].map((l) => `${JSON.stringify(l)}\n`).join(''),
    );
    const conn = await connectAgent(home, ws.dir, { env: cx.env, args: ['--approval-policy', 'untrusted'] });
    conns.push(conn);
    const r = await conn.call('delegate_reply', { thread_id: id, prompt: 'more' });
    expect(r.isError).toBe(true);
    expect(r.text).toContain(`thread ${id} would continue under approval_policy untrusted`);
    expect(model.requests).toHaveLength(0);
  });

  it.skipIf(!installed)('records never, the policy Codex runs with, for a codex thread under on-request', async () => {
    model.script({ output: [say('fine')] });
    const conn = await connectAgent(home, ws.dir, { env: cx.env, args: ['--approval-policy', 'on-request'] });
    conns.push(conn);
    const d = data(await conn.call('delegate', { prompt: 'hi', backend: 'codex' }));
    expect(d.status, JSON.stringify(d)).toBe('completed');
    expect(threadLines(home, d.thread_id)[0]).toMatchObject({ type: 'thread', meta: { backend: 'codex', approval_policy: 'never' } });
  });
});

describe('delegate with backend "codex" when Codex is not installed', () => {
  it('says so, naming codex.path, when the configured path is not there', async () => {
    home.write('config.toml', readFileSync(home.path('config.toml'), 'utf8').replace(CODEX_BIN, '/nonexistent/codex'));
    const conn = await connect();
    const r = await conn.call('delegate', { prompt: 'hi', backend: 'codex' });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('codex.path = "/nonexistent/codex" is not an executable file');
    expect(model.requests).toHaveLength(0);
  });

  it('says how to install it when there is no codex on PATH and no codex.path', async () => {
    home.write('config.toml', readFileSync(home.path('config.toml'), 'utf8').replace(`[codex]\npath = "${CODEX_BIN}"`, ''));
    const conn = await connect({ ...cx.env, PATH: '/usr/bin:/bin' });
    const r = await conn.call('delegate', { prompt: 'hi', backend: 'codex' });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('needs the Codex CLI');
    expect(r.text).toContain('npm install -g @openai/codex');
  });
});
