// `agentbox serve --codex-compat`: the tools of the removed `codex mcp-server`, called with the
// exact argument shapes hosts used with Codex 0.153.4, answering with its result shape, running
// agentbox's delegate underneath.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LoggingMessageNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { agentHome, availableTools, connectAgent, type Json } from '../support/agent.js';
import type { Connected } from '../support/client.js';
import { PROJECT_ROOT } from '../support/paths.js';
import { call, say, startModelServer, type ModelServer } from '../support/model-server.mjs';
import { tempDir, type TempDir } from '../support/workspace.js';

const ARTIFACT = JSON.parse(readFileSync(`${PROJECT_ROOT}/test/fixtures/codex/mcp-server-tools-list-0.153.4.json`, 'utf8')) as Json[];
const tools = await availableTools();

let model: ModelServer;
let home: TempDir;
let ws: TempDir;
const conns: Connected[] = [];
beforeEach(async () => {
  model = await startModelServer();
  home = agentHome(model);
  ws = tempDir();
  ws.write('sub/a.txt', 'alpha\n');
});
afterEach(async () => {
  for (const c of conns.splice(0)) await c.close().catch(() => undefined);
  await model.close();
  home.cleanup();
  ws.cleanup();
});

async function connect(args: string[] = ['--codex-compat'], opts: Parameters<typeof connectAgent>[2] = {}) {
  // A host launched `codex mcp-server` in the project directory: cwd is resolved against it.
  const c = await connectAgent(home, ws.dir, { cwd: ws.dir, ...opts, args: [...args, ...(opts.args ?? [])] });
  conns.push(c);
  return c;
}

describe('agentbox serve --codex-compat', () => {
  it('publishes codex and codex-reply exactly as codex mcp-server 0.153.4 did, and only with the flag', async () => {
    const conn = await connect();
    const listed = (await conn.client.listTools()).tools;
    for (const want of ARTIFACT) {
      const got = listed.find((t) => t.name === want.name)!;
      expect(got, want.name).toBeDefined();
      expect({ name: got.name, title: got.title, description: got.description, inputSchema: got.inputSchema, outputSchema: got.outputSchema }).toEqual(want);
    }
    expect(listed.map((t) => t.name)).toContain('delegate');
    const plain = await connect([]);
    expect((await plain.client.listTools()).tools.map((t) => t.name)).not.toContain('codex');
  });

  it('runs `codex` with the argument shapes hosts sent, returning {threadId, content} with progress and no hang', async () => {
    model.script(
      { output: [call('read_file', { path: 'a.txt' }, 'r1')], usage: { input_tokens: 50, output_tokens: 5 } },
      { output: [say('a.txt says alpha.')], usage: { input_tokens: 60, output_tokens: 6 } },
    );
    const conn = await connect();
    await conn.client.setLoggingLevel('debug');
    const logs: string[] = [];
    conn.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(String(n.params.data)));
    await conn.client.listTools(); // the SDK client then checks structuredContent against the outputSchema
    const progress: string[] = [];
    const result = (await conn.client.callTool(
      {
        name: 'codex',
        arguments: {
          prompt: 'What does a.txt say?',
          'approval-policy': 'never',
          sandbox: 'workspace-write',
          cwd: 'sub',
          model: 'gpt-5.2-codex',
          'base-instructions': 'BASE: you are a careful reader.',
          'developer-instructions': 'DEV: answer in one sentence.',
          config: { model_reasoning_effort: 'high', sandbox_workspace_write: { network_access: false }, hide_agent_reasoning: true },
        },
      },
      undefined,
      { onprogress: (p) => progress.push(p.message ?? '') },
    )) as CallToolResult;
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
    expect(result.content).toEqual([{ type: 'text', text: 'a.txt says alpha.' }]);
    const sc = result.structuredContent as Json;
    expect(Object.keys(sc).sort()).toEqual(['content', 'threadId']);
    expect(sc.content).toBe('a.txt says alpha.');
    expect(sc.threadId).toMatch(/^[0-9a-f-]{36}$/);

    const body = model.requests[0]!.body as Json;
    expect(body.model).toBe('gpt-5.2-codex');
    expect(body.instructions).toBe('BASE: you are a careful reader.');
    expect(body.reasoning).toMatchObject({ effort: 'high' });
    const input = body.input as Json[];
    expect(input[0].content).toContain('DEV: answer in one sentence.');
    expect(input[0].content).toContain('Approval policy: never');
    expect(input.find((i) => String(i.content).includes('<environment_context>')).content).toContain(`<cwd>${ws.path('sub')}</cwd>`);
    expect(progress.some((m) => m.startsWith('turn 1: read_file a.txt'))).toBe(true);
    expect(logs.some((l) => l.includes('ignored config keys') && l.includes('hide_agent_reasoning'))).toBe(true);
  });

  it('continues with codex-reply by threadId after a restart, and by the deprecated conversationId', async () => {
    model.script({ output: [say('first')] });
    const first = await connect();
    const { threadId } = (await first.call('codex', { prompt: 'one', 'approval-policy': 'never', sandbox: 'read-only' })).structuredContent as Json;
    await first.close();
    conns.splice(conns.indexOf(first), 1);

    model.script({ output: [say('second')] }, { output: [say('third')] });
    const second = await connect();
    const byThread = await second.call('codex-reply', { threadId, prompt: 'two' });
    expect(byThread.structuredContent).toEqual({ threadId, content: 'second' });
    const byConversation = await second.call('codex-reply', { conversationId: threadId, prompt: 'three' });
    expect(byConversation.structuredContent).toEqual({ threadId, content: 'third' });
    const users = ((model.requests[2]!.body as Json).input as Json[]).filter((i) => i.role === 'user').map((i) => i.content);
    expect(users.slice(-3)).toEqual(['one', 'two', 'three']);

    const missing = await second.call('codex-reply', { prompt: 'x' });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain('needs threadId');
    const unknown = await second.call('codex-reply', { threadId: '0190a0b0-0000-7000-8000-000000000000', prompt: 'x' });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toContain('Session not found for thread_id: 0190a0b0-0000-7000-8000-000000000000');
  });

  it.skipIf(!tools.has('exec_command'))('never hangs on an approval: a host without elicitation gets a declined escalation and an answer', async () => {
    model.script(
      { output: [call('exec_command', { cmd: 'touch /outside-marker', sandbox_permissions: 'require_escalated', justification: 'needs it' }, 'e1')] },
      { output: [say('I could not do it without approval.')] },
    );
    const conn = await connect(['--codex-compat', '--approval-policy', 'on-request']);
    const r = await conn.call('codex', { prompt: 'touch the marker', 'approval-policy': 'on-request' });
    expect(r.structuredContent).toMatchObject({ content: 'I could not do it without approval.' });
    const output = ((model.requests[1]!.body as Json).input as Json[]).find((i) => i.call_id === 'e1' && i.type === 'function_call_output').output;
    expect(output).toContain('Nobody can answer an approval request');
  });

  it('refuses what the server does not allow, and bad config values, as tool errors', async () => {
    const conn = await connect();
    const net = await conn.call('codex', { prompt: 'x', config: { sandbox_workspace_write: { network_access: true } } });
    expect(net.isError).toBe(true);
    expect(net.text).toContain('without network access');
    const effort = await conn.call('codex', { prompt: 'x', config: { model_reasoning_effort: 'extreme' } });
    expect(effort.isError).toBe(true);
    expect(effort.text).toContain('config.model_reasoning_effort = "extreme"');
    const unknownArg = await conn.call('codex', { prompt: 'x', profile: 'old' });
    expect(unknownArg.isError).toBe(true);
    expect(model.requests).toHaveLength(0);
  });

  it('says when a run did not complete, in the content', async () => {
    model.otherwise({ error: 500, message: 'overloaded' });
    const conn = await connect();
    const r = await conn.call('codex', { prompt: 'hi', 'approval-policy': 'never' });
    expect(r.isError).toBe(true);
    expect((r.structuredContent as Json).content).toContain('[agentbox: the run ended with status failed');
  });
});
