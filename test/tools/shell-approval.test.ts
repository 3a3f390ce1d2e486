// Approvals through standard MCP elicitation, with a real SDK client that advertises (or not)
// the elicitation capability and answers accept, decline, or nothing at all.
import { existsSync, readFileSync } from 'node:fs';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { parseExec } from '../support/exec.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let conn: Connected | undefined;
let dirs: TempDir[] = [];
afterEach(async () => {
  await conn?.close();
  conn = undefined;
  for (const d of dirs) d.cleanup();
  dirs = [];
});

interface Setup {
  args?: string[];
  env?: Record<string, string>;
  /** How the host's user answers; undefined: the client has no elicitation capability. */
  answer?: ElicitResult['action'] | 'never-answers';
}

async function setup(opts: Setup) {
  const ws = tempDir();
  const outside = tempDir('agentbox-outside-');
  dirs.push(ws, outside);
  const asked: string[] = [];
  conn = await connectStdio({
    args: ['--root', ws.dir, ...(opts.args ?? [])],
    env: opts.env,
    capabilities: opts.answer ? { elicitation: {} } : {},
  });
  if (opts.answer) {
    const answer = opts.answer;
    conn.client.setRequestHandler(ElicitRequestSchema, async (req, extra) => {
      asked.push(req.params.message);
      if (answer === 'never-answers') {
        await new Promise((resolve) => extra.signal.addEventListener('abort', resolve));
        return { action: 'cancel' };
      }
      return { action: answer };
    });
  }
  return { ws, outside, asked, conn };
}

const escalated = (target: string) => ({
  cmd: `echo escaped > ${target}/proof && echo $AGENTBOX_SANDBOX`,
  sandbox_permissions: 'require_escalated',
  justification: 'needs to write outside the workspace',
});

describe('escalation (sandbox_permissions: require_escalated)', () => {
  it('asks the host\'s user; accept runs the command once outside the sandbox', async () => {
    const { ws, outside, asked, conn } = await setup({ answer: 'accept' });
    const r = await conn.call('exec_command', escalated(outside.dir));
    expect(r.isError).toBeFalsy();
    expect(parseExec(r.text).output).toBe('danger-full-access\n');
    expect(readFileSync(outside.path('proof'), 'utf8')).toBe('escaped\n');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain(`echo escaped > ${outside.dir}/proof`);
    expect(asked[0]).toContain('Reason given by the model: needs to write outside the workspace');
    expect(asked[0]).toContain('OUTSIDE the sandbox');
    expect(asked[0]).toContain(`Directory: ${ws.dir}`);
    // Once: the next command is sandboxed again.
    const next = parseExec((await conn.call('exec_command', { cmd: 'echo $AGENTBOX_SANDBOX' })).text);
    expect(next.output).toBe('workspace-write\n');
  });

  it('never asks about a command too long to show in full, and tells the model so', async () => {
    const { outside, asked, conn } = await setup({ answer: 'accept' });
    const r = await conn.call('exec_command', { ...escalated(outside.dir), cmd: `${'echo padding && '.repeat(200)}echo escaped > ${outside.dir}/proof` });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/too long to show the user in full/);
    expect(asked).toHaveLength(0);
    expect(existsSync(outside.path('proof'))).toBe(false);
  });

  it('decline refuses clearly and nothing runs', async () => {
    const { outside, conn } = await setup({ answer: 'decline' });
    const r = await conn.call('exec_command', escalated(outside.dir));
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/user declined/);
    expect(existsSync(outside.path('proof'))).toBe(false);
  });

  it('cancel refuses clearly and nothing runs', async () => {
    const { outside, conn } = await setup({ answer: 'cancel' });
    const r = await conn.call('exec_command', escalated(outside.dir));
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/dismissed the approval request/);
    expect(existsSync(outside.path('proof'))).toBe(false);
  });

  it('no answer within approval_timeout_ms counts as decline', async () => {
    const { outside, asked, conn } = await setup({ answer: 'never-answers', env: { AGENTBOX_APPROVAL_TIMEOUT_MS: '400' } });
    const r = await conn.call('exec_command', escalated(outside.dir));
    expect(asked).toHaveLength(1);
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/No answer to the approval request.*treated as declined/);
    expect(existsSync(outside.path('proof'))).toBe(false);
  });

  it('a host without elicitation means decline', async () => {
    const { outside, conn } = await setup({});
    const r = await conn.call('exec_command', escalated(outside.dir));
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/Nobody can answer an approval.*elicitation.*declined/);
    expect(existsSync(outside.path('proof'))).toBe(false);
  });

  it('approval policy never refuses without asking and tells the model to work inside the sandbox', async () => {
    const { outside, asked, conn } = await setup({ answer: 'accept', args: ['--approval-policy', 'never'] });
    const r = await conn.call('exec_command', escalated(outside.dir));
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/approval policy is "never"/);
    expect(r.text).toMatch(/work inside the sandbox/);
    expect(asked).toHaveLength(0);
    expect(existsSync(outside.path('proof'))).toBe(false);
    const tools = await conn.client.listTools();
    expect(tools.tools.find((t) => t.name === 'exec_command')?.description).toMatch(/Escalation is disabled/);
  });
});

describe('approval policy untrusted', () => {
  it('runs known read-only commands without asking and asks for the rest', async () => {
    const { ws, asked, conn } = await setup({ answer: 'decline', args: ['--approval-policy', 'untrusted'] });
    ws.write('a.txt', 'content\n');
    const read = await conn.call('exec_command', { cmd: 'cat a.txt | wc -l' });
    expect(parseExec(read.text).output.trim()).toBe('1');
    expect(asked).toHaveLength(0);
    const write = await conn.call('exec_command', { cmd: 'touch b.txt' });
    expect(write.isError).toBe(true);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('inside the sandbox');
    expect(existsSync(ws.path('b.txt'))).toBe(false);
  });
});
