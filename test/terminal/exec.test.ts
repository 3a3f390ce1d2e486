// `agentbox exec` as a person and a script use it: the built CLI in a real terminal (a PTY through
// @lydell/node-pty) for the human output, and with pipes for --json; exit codes for each ending;
// --resume; Ctrl-C; and `agentbox threads list|show`. Only the model is scripted.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type * as Pty from '@lydell/node-pty';
import { existsSync } from 'node:fs';
import { agentHome, processesMatching, waitFor, type Json } from '../support/agent.js';
import { CODEX_BIN, codexEnv } from '../support/codex.js';
import { call, patch, say, startModelServer, type ModelServer } from '../support/model-server.mjs';
import { CLI } from '../support/paths.js';
import { tempDir, type TempDir } from '../support/workspace.js';

const pty = createRequire(import.meta.url)('@lydell/node-pty') as typeof Pty;

let model: ModelServer;
let home: TempDir;
let ws: TempDir;
beforeEach(async () => {
  model = await startModelServer();
  home = agentHome(model);
  ws = tempDir();
  ws.write('package.json', '{"type":"module"}\n');
  ws.write('math.js', 'export function add(a, b) {\n  return a - b;\n}\n');
  ws.write('test.js', "import { add } from './math.js';\nif (add(2, 3) !== 5) { console.error(`add(2, 3) = ${add(2, 3)}`); process.exit(1); }\nconsole.log('all tests passed');\n");
});
afterEach(async () => {
  await model.close();
  home.cleanup();
  ws.cleanup();
});

const env = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', AGENTBOX_HOME: home.dir, TERM: 'xterm-256color' });
const FIX = '*** Begin Patch\n*** Update File: math.js\n@@\n export function add(a, b) {\n-  return a - b;\n+  return a + b;\n }\n*** End Patch\n';

/** A model that runs the failing test, patches the bug, runs the test again and answers; each reply takes a moment. */
function scriptFix() {
  model.script(
    { output: [call('exec_command', { cmd: 'node test.js', yield_time_ms: 30000 }, 'c1')], delayMs: 400, usage: { input_tokens: 1000, output_tokens: 40 } },
    { output: [say('add subtracts; fixing it.'), patch(FIX, 'p1')], delayMs: 200, usage: { input_tokens: 1200, output_tokens: 30 } },
    { output: [call('exec_command', { cmd: 'node test.js', yield_time_ms: 30000 }, 'c2')], delayMs: 200, usage: { input_tokens: 1400, output_tokens: 20 } },
    { output: [say('add() subtracted its arguments; now it adds and node test.js passes.')], delayMs: 200, usage: { input_tokens: 1500, cached_input_tokens: 1000, output_tokens: 30, reasoning_tokens: 5 } },
  );
}

/** Runs the CLI in a pseudo-terminal; resolves with everything it drew and its exit code. */
function inTerminal(args: string[], opts: { onData?: (all: string, term: Pty.IPty) => void } = {}): Promise<{ screen: string; code: number }> {
  return new Promise((resolve, reject) => {
    const term = pty.spawn(process.execPath, [CLI, ...args], { name: 'xterm-256color', cols: 160, rows: 40, cwd: ws.dir, env: env() });
    let screen = '';
    const timer = setTimeout(() => {
      term.kill();
      reject(new Error(`agentbox ${args.join(' ')} did not exit; it drew:\n${screen}`));
    }, 25_000);
    term.onData((d) => {
      screen += d;
      opts.onData?.(screen, term);
    });
    term.onExit(({ exitCode }) => {
      clearTimeout(timer);
      resolve({ screen, code: exitCode });
    });
  });
}

/** Runs the CLI with pipes; resolves with stdout, stderr and the exit code. */
function piped(args: string[], stdin = '', extraEnv: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ws.dir, env: { ...env(), ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(stdin);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

describe('agentbox exec in a terminal', () => {
  it('shows each step as it happens with a spinner, then the answer, the diff summary, usage and the thread id', async () => {
    scriptFix();
    const { screen, code } = await inTerminal(['exec', 'node test.js fails; fix it']);
    expect(code).toBe(0);
    expect(screen).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] thinking \(model turn 1\)/);
    expect(screen).toContain('\x1b[32m'); // colour on a terminal
    const text = plain(screen);
    const order = ['agentbox exec · thread', '$ node test.js', '✗ exit 1 · add(2, 3) = -1', '• add subtracts; fixing it.', '✎ patch M math.js', '✓ exit 0 · all tests passed', 'add() subtracted its arguments; now it adds and node test.js passes.', 'M math.js +1 -1', 'tokens: 5100 in (1000 cached), 120 out (5 reasoning) · 4 model turns', 'completed · thread '];
    let at = 0;
    for (const piece of order) {
      const found = text.indexOf(piece, at);
      expect(found, `"${piece}" after position ${at} in:\n${text}`).toBeGreaterThanOrEqual(0);
      at = found + piece.length;
    }
    expect(text).toMatch(/continue: agentbox exec --resume [0-9a-f-]{36}/);
  });

  it('asks before an escalated command on the terminal, and runs it when the user says yes', async () => {
    const outside = tempDir('agentbox-outside-');
    try {
      const target = outside.path('marker.txt');
      model.script(
        { output: [call('exec_command', { cmd: `echo hi > ${target}`, sandbox_permissions: 'require_escalated', justification: 'write the marker' }, 'e1')] },
        { output: [say('wrote it')] },
      );
      let answered = false;
      const { screen, code } = await inTerminal(['exec', '--approval-policy', 'on-request', 'write the marker'], {
        onData: (all, term) => {
          if (!answered && all.includes('Allow? [y/N]')) {
            answered = true;
            term.write('y\r');
          }
        },
      });
      expect(code).toBe(0);
      expect(plain(screen)).toContain('OUTSIDE the sandbox');
      // The terminal is the run's own: no tag saying which delegate asks.
      expect(plain(screen)).not.toContain('[delegate ');
      expect(answered).toBe(true);
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(target, 'utf8')).toBe('hi\n');
    } finally {
      outside.cleanup();
    }
  });

  it('declines and cancels the run on Ctrl-C at an approval question, and exits with 130', async () => {
    const outside = tempDir('agentbox-outside-');
    try {
      const target = outside.path('marker.txt');
      model.script({ output: [call('exec_command', { cmd: `echo hi > ${target}`, sandbox_permissions: 'require_escalated', justification: 'write the marker' }, 'e1')] });
      let sent = false;
      // approval_timeout_ms is 120 s: only the Ctrl-C can end this run within the test's bound.
      const { screen, code } = await inTerminal(['exec', '--approval-policy', 'on-request', 'write the marker'], {
        onData: (all, term) => {
          if (!sent && all.includes('Allow? [y/N]')) {
            sent = true;
            term.write('\x03');
          }
        },
      });
      expect(sent).toBe(true);
      expect(code).toBe(130);
      expect(plain(screen)).toContain('cancelling');
      expect(plain(screen)).toContain('cancelled · thread');
      expect(existsSync(target)).toBe(false);
    } finally {
      outside.cleanup();
    }
  });

  it('cancels the run on Ctrl-C and exits with 130', async () => {
    model.script({ hang: true });
    let sent = false;
    const { screen, code } = await inTerminal(['exec', 'wait forever'], {
      onData: (all, term) => {
        if (!sent && all.includes('thinking')) {
          sent = true;
          term.write('\x03');
        }
      },
    });
    expect(code).toBe(130);
    expect(plain(screen)).toContain('cancelling');
    expect(plain(screen)).toContain('cancelled · thread');
  });
});

describe('agentbox exec with pipes', () => {
  it('prints JSONL events, one per step, ending with turn.completed and the result; exit 0', async () => {
    scriptFix();
    const { stdout, stderr, code } = await piped(['exec', '--json', 'node test.js fails; fix it']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as Json);
    expect(events.map((e) => (e.item ? `${e.type}:${e.item.type}` : e.type))).toEqual([
      'thread.started',
      'turn.started',
      'item.started:command_execution',
      'item.completed:command_execution',
      'item.completed:agent_message',
      'item.started:file_change',
      'item.completed:file_change',
      'item.started:command_execution',
      'item.completed:command_execution',
      'item.completed:agent_message',
      'turn.completed',
    ]);
    expect(events[3].item).toMatchObject({ command: 'node test.js', exit_code: 1, status: 'failed' });
    expect(events[6].item).toMatchObject({ changes: [{ path: 'math.js', kind: 'update' }], status: 'completed' });
    const last = events.at(-1);
    expect(last.usage).toEqual({ input_tokens: 5100, cached_input_tokens: 1000, output_tokens: 120, reasoning_output_tokens: 5 });
    expect(last.result).toMatchObject({ status: 'completed', threadId: events[0].thread_id, files_changed: [{ path: 'math.js', kind: 'modified' }] });
    expect(last.result.diff).toContain('+  return a + b;');
  });

  it('prints plain lines without a spinner or colours when stderr is not a terminal, and only the answer on stdout', async () => {
    scriptFix();
    const { stdout, stderr, code } = await piped(['exec', 'node test.js fails; fix it']);
    expect(code).toBe(0);
    expect(stdout).toBe('add() subtracted its arguments; now it adds and node test.js passes.\n');
    expect(stderr).not.toMatch(/\x1b|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(stderr).toContain('$ node test.js\n  ✗ exit 1');
    expect(stderr).toContain('M math.js +1 -1');
  });

  it('reads the task from stdin with "-", and continues the thread with --resume', async () => {
    model.script({ output: [say('first answer')] });
    const first = await piped(['exec', '--json', '-'], 'the first question\n');
    expect(first.code).toBe(0);
    const id = (JSON.parse(first.stdout.split('\n')[0]!) as Json).thread_id as string;
    expect(((model.requests[0]!.body as Json).input as Json[]).at(-1).content).toBe('the first question\n');

    model.script({ output: [say('second answer')] });
    const second = await piped(['exec', '--json', '--resume', id, 'the second question']);
    expect(second.code).toBe(0);
    const users = ((model.requests[1]!.body as Json).input as Json[]).filter((i) => i.role === 'user').map((i) => i.content);
    expect(users.slice(-2)).toEqual(['the first question\n', 'the second question']);
    expect(JSON.parse(second.stdout.trim().split('\n').at(-1)!).result.threadId).toBe(id);
  });

  it('cancels the run on SIGTERM: the command it runs is killed, the thread saved, exit 130', async () => {
    const marker = `sleep ${300 + Math.floor(Math.random() * 1000)}.5`;
    model.script({ output: [call('exec_command', { cmd: marker, yield_time_ms: 30000 }, 'c1')] }, { hang: true });
    const child = spawn(process.execPath, [CLI, 'exec', '--json', 'wait on a command'], { cwd: ws.dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const code = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitFor(() => processesMatching(marker).length > 0, 'the command to start');
    child.kill('SIGTERM');
    expect(await code).toBe(130);
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ result: { status: 'cancelled' } });
    expect(processesMatching(marker)).toEqual([]);
  });

  it('exits non-zero when the run does not complete: 1 failed, 3 max_turns', async () => {
    model.otherwise({ error: 500, message: 'down' });
    const failed = await piped(['exec', '--json', 'hi']);
    expect(failed.code).toBe(1);
    const end = JSON.parse(failed.stdout.trim().split('\n').at(-1)!) as Json;
    expect(end.type).toBe('turn.failed');
    expect(end.error.message).toContain('down');

    model.otherwise({ output: [call('list_dir', {})] });
    const looping = await piped(['exec', '--max-turns', '2', 'loop']);
    expect(looping.code).toBe(3);
    expect(looping.stderr).toContain('max_turns');
  });

  it('exits 2 on a usage error (bad flag, invalid --sandbox, no task), with one JSON error event under --json', async () => {
    const bogus = await piped(['exec', '--bogus', 'hi']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("unknown option '--bogus'");
    expect(bogus.stdout).toBe('');
    const sandbox = await piped(['exec', '--json', '--sandbox', 'wide-open', 'hi']);
    expect(sandbox.code).toBe(2);
    const events = sandbox.stdout.trim().split('\n').map((l) => JSON.parse(l) as Json);
    expect(events).toEqual([{ type: 'error', message: expect.stringContaining('wide-open') }]);
    const empty = await piped(['exec', '--json', '']);
    expect(empty.code).toBe(2);
    expect(JSON.parse(empty.stdout)).toEqual({ type: 'error', message: 'the task is empty.' });
    const turns = await piped(['exec', '--max-turns', 'zero', 'hi']);
    expect(turns.code).toBe(2);
    expect(model.requests).toHaveLength(0);
    expect((await piped(['exec', '--help'])).code).toBe(0);
  });

  it('fails at once, exit 1, when the run cannot start', async () => {
    const r = await piped(['exec', '--provider', 'nope', 'hi']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Unknown model provider "nope"');
  });
});

describe('agentbox threads', () => {
  it('lists the persisted threads and shows one', async () => {
    model.script({ output: [call('read_file', { path: 'math.js' }, 'r1')] }, { output: [say('it subtracts')] });
    const run = await piped(['exec', '--json', 'what does add do?']);
    const id = (JSON.parse(run.stdout.split('\n')[0]!) as Json).thread_id as string;

    const list = await piped(['threads', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${id}  completed  1 turn  .*  what does add do\\?\\n$`));
    const json = JSON.parse((await piped(['threads', 'list', '--json'])).stdout) as Json[];
    expect(json).toEqual([expect.objectContaining({ id, status: 'completed', turns: 1 })]);

    const show = await piped(['threads', 'show', id]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('# what does add do?');
    expect(show.stdout).toContain('**Tool call** `read_file`');
    expect(show.stdout).toContain('it subtracts');
    const shown = JSON.parse((await piped(['threads', 'show', id, '--json'])).stdout) as Json;
    expect(shown).toMatchObject({ meta: { id }, status: 'completed', turns: 1 });

    const missing = await piped(['threads', 'show', '0190a0b0-0000-7000-8000-000000000000']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not found');
  });
});

describe.skipIf(!existsSync(CODEX_BIN))('agentbox exec --backend codex', () => {
  it('runs the task with the Codex CLI and prints its events in the same JSONL', async () => {
    const cx = codexEnv(model);
    try {
      model.script({ output: [call('exec_command', { cmd: 'node test.js' }, 'c1')] }, { output: [say('the test fails: add subtracts')] });
      const { stdout, code } = await piped(['exec', '--json', '--backend', 'codex', 'why does node test.js fail?'], '', { ...cx.env, AGENTBOX_CODEX_PATH: CODEX_BIN });
      expect(code).toBe(0);
      const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as Json);
      expect(events[0]).toMatchObject({ type: 'thread.started', backend: 'codex' });
      // No model was named: Codex's config chooses it, and nothing pretends it has a name.
      expect(events[0]).not.toHaveProperty('model');
      expect(stdout).not.toContain('codex default');
      const listed = JSON.parse((await piped(['threads', 'list', '--json'])).stdout) as Json[];
      expect(listed[0]).toMatchObject({ id: events[0].thread_id, model: "(Codex's configured model)" });
      const command = events.find((e) => e.type === 'item.completed' && e.item.type === 'command_execution');
      expect(command.item).toMatchObject({ exit_code: 1 });
      expect(command.item.aggregated_output).toContain('add(2, 3) = -1');
      expect(events.at(-1)).toMatchObject({ type: 'turn.completed', result: { status: 'completed', content: 'the test fails: add subtracts' } });
      // Codex's items keep their ids (item_0, …); nothing agentbox adds reuses one, and Codex's own
      // error items (here: no metadata for test-model) are not repeated as warnings.
      const completed = events.filter((e) => e.type === 'item.completed').map((e) => e.item);
      expect(completed.some((i) => i.type === 'error' && i.id.startsWith('item_'))).toBe(true);
      expect(new Set(completed.map((i) => i.id)).size).toBe(completed.length);
      expect(completed.filter((i) => i.type === 'error' && String(i.message).startsWith('codex: '))).toEqual([]);
    } finally {
      cx.dir.cleanup();
    }
  });

  it('exits 124 when the Codex CLI run times out', async () => {
    const cx = codexEnv(model);
    try {
      model.script({ hang: true });
      const { stdout, code } = await piped(['exec', '--json', '--backend', 'codex', '--timeout-ms', '1500', 'never answers'], '', { ...cx.env, AGENTBOX_CODEX_PATH: CODEX_BIN });
      expect(code).toBe(124);
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ result: { status: 'timeout' } });
    } finally {
      cx.dir.cleanup();
    }
  });
});
