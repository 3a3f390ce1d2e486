// What reaches a host's model (issue 13), through a real MCP client over stdio: every payload stays
// within the reply budget and says how to go on when cut; structuredContent carries its own
// summary and next call; log lines only after logging/setLevel, steps once as progress;
// delegate_status {wait_ms} returns on finished steps; every parameter described; only tools that
// can work are published; tools/list no larger than before.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallToolResultSchema, LoggingMessageNotificationSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { agentHome, connectAgent, type Json } from '../support/agent.js';
import { connectStdio, type Connected } from '../support/client.js';
import { call, say, startModelServer, type ModelServer } from '../support/model-server.mjs';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';
import { which } from '../../src/util/which.js';

const BUDGET = 30_000;
const sc = (r: CallToolResult) => r.structuredContent as Json;
/** What a host that shows structuredContent (Claude Code, Codex) gives its model; else the text. */
const shown = (r: CallToolResult & { text: string }) => (r.structuredContent ? JSON.stringify(r.structuredContent) : r.text);

const cleanup: Array<() => unknown> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});
function track<T extends { cleanup(): void } | Connected>(x: T): T {
  cleanup.push(() => ('close' in x ? x.close() : x.cleanup()));
  return x;
}

describe('the reply budget (output.max_chars, default 30,000)', () => {
  let repo: TempDir;
  let conn: Connected;
  beforeAll(async () => {
    repo = track(tempRepo({ 'README.md': '# r\n' }));
    // An ordinary source file of 3,000 lines (about 200,000 characters): far over the budget.
    repo.write('big.ts', Array.from({ length: 3000 }, (_, i) => `export const value${i} = compute(${i}, 'a fairly ordinary line of source code');`).join('\n') + '\n');
    for (let i = 0; i < 400; i++) repo.write(`many/dir-${String(i).padStart(3, '0')}/a-rather-long-file-name-to-fill-the-listing-${'x'.repeat(60)}-${i}.txt`, `needle ${i} ${'z'.repeat(200)}\n`);
    conn = track(await connectStdio({ args: ['--root', repo.dir] }));
  });

  it('read_file: a large file arrives as a page within the budget that names the next offset', async () => {
    const r = await conn.call('read_file', { path: 'big.ts' });
    expect(r.text.length).toBeLessThanOrEqual(BUDGET);
    const last = Number(/^big\.ts: lines 1-(\d+) of 3000/.exec(r.text)?.[1]);
    expect(last).toBeGreaterThan(100);
    expect(r.text).toContain(`[truncated at the 30,000-character reply budget; call read_file with offset=${last + 1} to read on]`);
    const next = await conn.call('read_file', { path: 'big.ts', offset: last + 1 });
    expect(next.text).toMatch(new RegExp(`^big\\.ts: lines ${last + 1}-\\d+ of 3000`));
    expect(next.text).toContain(`${last + 1}\texport const value${last} =`);
  });

  it('grep, glob and list_dir stop within the budget and say how to narrow', async () => {
    const g = await conn.call('grep', { pattern: 'needle', max_results: 5000 });
    expect(g.text.length).toBeLessThanOrEqual(BUDGET);
    expect(g.text.split('\n')[0]).toMatch(/stopped at the 30,000-character reply budget; narrow with a more specific pattern, path or glob/);
    const files = await conn.call('glob', { pattern: 'many/**/*.txt' });
    expect(files.text.length).toBeLessThanOrEqual(BUDGET);
    const list = await conn.call('list_dir', { path: 'many', depth: 2, limit: 5000 });
    expect(list.text.length).toBeLessThanOrEqual(BUDGET);
    expect(list.text).toMatch(/\[cut at the 30,000-character reply budget: \d+ more entries not shown; list a subdirectory or lower depth\]$/);
  });

  it('exec_command output stays within the budget whatever max_output_bytes asks for', async () => {
    const r = await conn.call('exec_command', { cmd: 'cat big.ts big.ts', max_output_bytes: 1_000_000 });
    expect(r.text.length).toBeLessThanOrEqual(BUDGET);
    expect(r.text).toMatch(/omitted from the middle; to see all of it, run the command again with its output redirected to a file, then grep or read_file it\):/);
  });

  it('git_diff and git_show stay within the budget, naming what they left out', async () => {
    execFileSync('git', ['-C', repo.dir, 'add', 'big.ts']);
    execFileSync('git', ['-C', repo.dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'big']);
    repo.write('big.ts', readFileSync(repo.path('big.ts'), 'utf8').replace(/ordinary/g, 'changed'));
    const d = await conn.call('git_diff', {});
    expect(d.text.length).toBeLessThanOrEqual(BUDGET);
    expect(d.text).toContain('Narrow the request with paths');
    const s = await conn.call('git_show', { ref: 'HEAD' });
    expect(s.text.length).toBeLessThanOrEqual(BUDGET);
  });

  it('a smaller output.max_chars narrows every reply', async () => {
    const small = track(await connectStdio({ args: ['--root', repo.dir], env: { AGENTBOX_OUTPUT_MAX_CHARS: '5000' } }));
    const r = await small.call('read_file', { path: 'big.ts' });
    expect(r.text.length).toBeLessThanOrEqual(5000);
    expect(r.text).toContain('5,000-character reply budget; call read_file with offset=');
    expect((await small.call('exec_command', { cmd: 'cat big.ts' })).text.length).toBeLessThanOrEqual(5000);
    expect((await small.call('grep', { pattern: 'value' })).text.length).toBeLessThanOrEqual(5000);
    expect((await small.client.listTools()).tools.find((t) => t.name === 'read_file')?.description).toContain('5,000 characters a call');
  });
});

describe('structuredContent carries what the model needs', () => {
  let repo: TempDir;
  let conn: Connected;
  beforeAll(async () => {
    repo = track(tempRepo({ 'a.txt': 'a\n' }));
    repo.write('a.txt', 'changed\n');
    repo.write('new.txt', 'n\n');
    conn = track(await connectStdio({ args: ['--root', repo.dir] }));
  });

  it('git_status, git_log, git_branch_list and list_sessions carry a one-line summary', async () => {
    expect(sc(await conn.call('list_sessions', {})).summary).toBe('No shell sessions.');
    expect(sc(await conn.call('git_status', {})).summary).toBe('On branch main; 1 unstaged, 1 untracked.');
    const log = sc(await conn.call('git_log', { max_count: 1 }));
    expect(log.summary).toMatch(/^1 commit, newest first\.$/);
    expect(sc(await conn.call('git_branch_list', {})).summary).toBe('1 local branch, on main; 0 remote-tracking.');
  });

  it('tools whose payload is text return text only', async () => {
    for (const [tool, args] of [
      ['read_file', { path: 'a.txt' }],
      ['grep', { pattern: 'changed' }],
      ['glob', { pattern: '*.txt' }],
      ['list_dir', {}],
      ['exec_command', { cmd: 'echo hi' }],
      ['git_diff', {}],
      ['git_show', { ref: 'HEAD' }],
    ] as const) {
      const r = await conn.call(tool, args);
      expect(r.isError, `${tool}: ${r.text}`).toBeFalsy();
      expect(r.structuredContent, tool).toBeUndefined();
    }
  });
});

describe('delegate through a host that shows structuredContent', () => {
  let model: ModelServer;
  let home: TempDir;
  let ws: TempDir;
  beforeAll(async () => {
    model = await startModelServer();
    cleanup.push(() => model.close());
    home = track(agentHome(model));
    ws = track(tempDir());
    ws.write('a.txt', 'alpha\n');
  });

  it('a huge answer and diff keep the result within the budget, with the next call', async () => {
    model.script(
      { output: [call('exec_command', { cmd: 'seq 1 20000 > big.txt' }, 'c1')] },
      { output: [say(`Done. ${'Here is a long explanation. '.repeat(3000)}`)] },
    );
    const conn = track(await connectAgent(home, ws.dir));
    const r = await conn.call('delegate', { prompt: 'make big.txt' });
    const data = sc(r);
    expect(JSON.stringify(data).length).toBeLessThanOrEqual(BUDGET);
    expect(r.text.length).toBeLessThanOrEqual(BUDGET);
    expect(data.content).toMatch(/\[… answer cut: \d+ more characters; agentbox:\/\/threads\/[0-9a-f-]{36} has all of it\]$/);
    expect(data.diff).toMatch(/diff cut at/);
    expect(data.next).toBe(`delegate_reply {"thread_id": "${data.thread_id}", "prompt": "..."}`);
    expect(data.summary).toMatch(/^completed · 2 model turns · [\d.]+ s · 1 file changed \(A big\.txt\)$/);
  });

  it('a run that creates thousands of files keeps its file list, and so the result, within the budget', async () => {
    model.script({ output: [call('exec_command', { cmd: 'mkdir -p many && cd many && for i in $(seq 1 3000); do : > "generated-file-number-$i.txt"; done' }, 'c1')] }, { output: [say('Made them.')] });
    const conn = track(await connectAgent(home, ws.dir));
    const data = sc(await conn.call('delegate', { prompt: 'make many files' }));
    expect(JSON.stringify(data).length).toBeLessThanOrEqual(BUDGET);
    const files = data.files_changed as Array<{ path: string }>;
    expect(files.length).toBeGreaterThan(10);
    expect(files.at(-1)!.path).toMatch(/^\[… \d+ more changed files not listed: git_status or the diff shows them\]$/);
  });

  it('the codex compatibility tool keeps its names and shape, and its answer within the budget too', async () => {
    model.script({ output: [say(`Long. ${'An answer that goes on and on. '.repeat(3000)}`)] });
    const conn = track(await connectAgent(home, ws.dir, { args: ['--codex-compat'] }));
    const r = await conn.call('codex', { prompt: 'talk' });
    expect(Object.keys(sc(r)).sort()).toEqual(['content', 'threadId']);
    expect(JSON.stringify(sc(r)).length).toBeLessThanOrEqual(BUDGET);
    expect(r.text.length).toBeLessThanOrEqual(BUDGET);
    expect(r.text).toMatch(/\[… answer cut: \d+ more characters; agentbox:\/\/threads\/[0-9a-f-]{36} has all of it\]$/);
  });

  it('sends each step once, as progress, and no log line until the host sets a level', async () => {
    model.script({ output: [call('read_file', { path: 'a.txt' }, 'r1')] }, { output: [say('alpha')] });
    const conn = track(await connectAgent(home, ws.dir));
    const logs: unknown[] = [];
    conn.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
    const progress: string[] = [];
    await conn.client.callTool({ name: 'delegate', arguments: { prompt: 'read a.txt' } }, CallToolResultSchema, {
      onprogress: (p) => void progress.push(p.message ?? ''),
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(logs).toEqual([]);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(new Set(progress).size).toBe(progress.length);

    // After logging/setLevel info: still no step twice (steps are debug lines); at debug, both.
    model.script({ output: [say('again')] });
    await conn.client.setLoggingLevel('info');
    await conn.call('delegate', { prompt: 'hi' });
    await new Promise((r) => setTimeout(r, 100));
    expect(logs).toEqual([]);
    model.script({ output: [say('once more')] });
    await conn.client.setLoggingLevel('debug');
    await conn.call('delegate', { prompt: 'hi' });
    await new Promise((r) => setTimeout(r, 100));
    expect(logs).toContainEqual(expect.objectContaining({ level: 'debug', data: expect.stringContaining('answered') }));
  });

  it('delegate_status {wait_ms} returns when a step finished, not on bookkeeping', async () => {
    // The model answers its first turn after 1.5 s: a wait that returned on "started thread" would
    // come back before that, with no model turn done.
    model.script(
      { output: [call('exec_command', { cmd: 'sleep 1; echo slept' }, 'c1')], delayMs: 1500 },
      { output: [say('slept well')], delayMs: 500 },
    );
    const conn = track(await connectAgent(home, ws.dir));
    const started = sc(await conn.call('delegate', { prompt: 'sleep', background: true }));
    const next = JSON.parse(String(started.next).replace(/^delegate_status /, '')) as { thread_id: string; wait_ms: number };
    expect(next).toEqual({ thread_id: started.thread_id, wait_ms: 60_000 });
    const first = sc(await conn.call('delegate_status', next));
    expect(first).toMatchObject({ status: 'running', turns: 1 });
    expect(first.step).toMatch(/^turn 1: exec_command/);
    expect(first.next).toBe(started.next);
    const second = sc(await conn.call('delegate_status', next));
    expect(second).toMatchObject({ status: 'running', step: expect.stringMatching(/exited with code 0$/) });
    const third = sc(await conn.call('delegate_status', next));
    expect(third).toMatchObject({ status: 'completed', content: 'slept well' });
  });
});

describe('tools/list', () => {
  let ws: TempDir;
  beforeAll(() => {
    ws = track(tempDir());
  });

  it('describes every parameter of every tool, in snake_case, with integers as integer', async () => {
    const conn = track(await connectStdio({ args: ['--root', ws.dir] }));
    const { tools } = await conn.client.listTools();
    // Optional filters whose absence means "no filter" need no stated default.
    const filters = new Set(['grep.glob', 'exec_command.justification', 'git_diff.ref', 'git_diff.ref2', 'git_diff.paths', 'git_log.path', 'git_log.since', 'git_show.path', 'delegate.developer_instructions', 'delegate.base_instructions', 'delegate.output_schema']);
    for (const tool of tools) {
      const required = new Set(tool.inputSchema.required ?? []);
      for (const [name, prop] of Object.entries(tool.inputSchema.properties ?? {}) as Array<[string, { description?: string; type?: string }]>) {
        const id = `${tool.name}.${name}`;
        expect(prop.description, id).toBeTruthy();
        expect(name, id).toMatch(/^[a-z][a-z0-9_]*$/);
        expect(prop.type, id).not.toBe('number');
        if (!required.has(name) && !filters.has(id)) expect(prop.description, id).toMatch(/default/i);
      }
    }
  });

  it('stays no larger than before every parameter was described: 22,040 characters', async () => {
    const conn = track(await connectStdio({ args: ['--root', ws.dir] }));
    const { tools } = await conn.client.listTools();
    expect(tools.length).toBe(26);
    expect(JSON.stringify({ tools }).length).toBeLessThanOrEqual(22_040);
  });

  it('under read-only publishes no tool that writes, and says exactly what commands may read and write', async () => {
    const conn = track(await connectStdio({ args: ['--root', ws.dir, '--sandbox', 'read-only'] }));
    const { tools } = await conn.client.listTools();
    const names = tools.map((t: Tool) => t.name);
    for (const w of ['write_file', 'edit_file', 'apply_patch', 'git_add', 'git_reset', 'git_commit', 'git_branch_create', 'git_checkout', 'git_worktree']) expect(names, w).not.toContain(w);
    expect(names).toEqual(expect.arrayContaining(['read_file', 'grep', 'exec_command', 'git_status', 'git_diff', 'delegate']));
    const exec = tools.find((t: Tool) => t.name === 'exec_command')!.description!;
    expect(exec).toContain("Sandboxed: reads all but agentbox's home and sandbox.deny_read (file tools: roots and /tmp); writes only /tmp; network off.");
  });

  it('without git publishes no git tool, and the instructions say why', async () => {
    const bin = track(tempDir('agentbox-nogit-'));
    mkdirSync(bin.path('bin'));
    for (const tool of ['bash', 'bwrap', 'rg']) {
      const found = which(tool, process.env.PATH);
      if (found) symlinkSync(found, bin.path('bin', tool));
    }
    const conn = track(await connectStdio({ args: ['--root', ws.dir], env: { PATH: bin.path('bin') } }));
    const names = (await conn.client.listTools()).tools.map((t: Tool) => t.name);
    expect(names.filter((n) => n.startsWith('git_'))).toEqual([]);
    expect(names).toContain('exec_command');
    expect(conn.client.getInstructions()).toContain('git is not installed, so the git tools are not available.');
  });
});
