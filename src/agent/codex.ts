// The Codex CLI backend (`backend: "codex"`): one turn of a thread is one `codex exec --json`
// (a new thread) or `codex exec resume <id> --json` (a reply), run as a child process in its own
// process group. Codex brings its own model client, tools and sandbox; agentbox maps the delegate
// parameters to Codex flags, turns Codex's JSONL events into the run's progress and events, and
// keeps the thread (its own JSONL, the Codex thread id to resume, the diff from git) as for its
// own loop. What Codex cannot do headless: ask for approvals (always `approval_policy="never"`).
//
// 1. codexArgs() builds the argv (pure; the prompt goes to stdin, so neither `ps` nor ARG_MAX sees it).
// 2. runCodexTurn() spawns it, reads stdout line by line, and on cancel or timeout kills the whole
//    process tree (Codex's sandboxed commands live in their own sessions: the tree is walked).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ReasoningEffort, SandboxMode } from '../config/index.js';
import { descendants, isRunning, processesWithEnv, signalEach, signalGroup } from '../exec/tree.js';
import { fail, ok, type Result } from '../util/result.js';
import { settledWithin } from '../util/wait.js';
import type { ExecItem, ItemPhase } from './events.js';
import { RUN_MARK_NAME } from './codex-env.js';
import { addUsage, zeroUsage, type Item, type Usage } from './items.js';
import { StopReason, type AnswerCheck, type TurnOutcome } from './loop.js';

export interface CodexRequest {
  prompt: string;
  cwd: string;
  /** The Codex thread to continue (`codex exec resume`); a new thread without it. */
  resumeId?: string;
  model?: string;
  provider?: string;
  sandbox: SandboxMode;
  network: boolean;
  reasoningEffort?: ReasoningEffort;
  developerInstructions?: string;
  /** A file holding the base instructions (Codex's `model_instructions_file`). */
  instructionsFile?: string;
  /** A file holding the output JSON Schema (`--output-schema`). */
  outputSchemaFile?: string;
  /** `-c shell_environment_policy.*` arguments (codex-env.ts): the environment Codex's commands get. */
  shellEnv?: readonly string[];
}

/** The codex argv for one turn (without the executable). */
export function codexArgs(r: CodexRequest): string[] {
  const config = (key: string, value: string | boolean) => ['-c', `${key}=${typeof value === 'string' ? JSON.stringify(value) : String(value)}`];
  const args = r.resumeId ? ['exec', 'resume', '--json'] : ['exec', '--json'];
  args.push('--skip-git-repo-check');
  // `exec resume` has no -C or -s: the process's cwd and the sandbox_mode key do the same.
  if (r.resumeId) args.push(...config('sandbox_mode', r.sandbox));
  else args.push('-C', r.cwd, '-s', r.sandbox);
  // Headless: nobody could answer an approval request.
  args.push(...config('approval_policy', 'never'));
  if (r.shellEnv) args.push(...r.shellEnv);
  if (r.model) args.push('-m', r.model);
  if (r.provider) args.push(...config('model_provider', r.provider));
  if (r.reasoningEffort) args.push(...config('model_reasoning_effort', r.reasoningEffort));
  if (r.sandbox === 'workspace-write') args.push(...config('sandbox_workspace_write.network_access', r.network));
  if (r.developerInstructions) args.push(...config('developer_instructions', r.developerInstructions));
  if (r.instructionsFile) args.push(...config('model_instructions_file', r.instructionsFile));
  if (r.outputSchemaFile) args.push('--output-schema', r.outputSchemaFile);
  if (r.resumeId) args.push(r.resumeId);
  args.push('-');
  return args;
}

/** The codex executable: config `codex.path`, else `codex` on PATH (both looked up at start-up). */
export function codexBinary(found: string | undefined, configured: string | undefined): Result<string> {
  if (found) return ok(found);
  if (configured) {
    return fail('codex_not_found', `codex.path = ${JSON.stringify(configured)} is not an executable file, so backend "codex" cannot run.`, 'Fix codex.path in config.toml (or AGENTBOX_CODEX_PATH), or install the Codex CLI: npm install -g @openai/codex.');
  }
  return fail(
    'codex_not_found',
    'backend "codex" needs the Codex CLI, and there is no `codex` on the PATH agentbox started with.',
    'Install it (npm install -g @openai/codex) and restart agentbox, set codex.path in config.toml to the codex executable, or call without backend "codex" to use agentbox\'s own agent loop.',
  );
}

export interface CodexTurnOptions {
  bin: string;
  request: Omit<CodexRequest, 'instructionsFile' | 'outputSchemaFile'>;
  baseInstructions?: string;
  answer?: AnswerCheck;
  /** Codex's own environment (codex-env.ts codexProcessEnv: no AGENTBOX_*, no secrets it does not need). */
  env: Record<string, string>;
  signal: AbortSignal;
  /** A progress step; `echo: false` for a warning about an item already passed through (no separate error item). */
  report(message: string, level?: 'info' | 'warning', echo?: boolean): void;
  /** The run's item events (agentbox exec): Codex's items pass through as they are. */
  events?: { request(turn: number): void; item(phase: ItemPhase, item: ExecItem): void };
  /** Codex named its thread (the id to resume it with). */
  onThread(codexThreadId: string): void;
  /** An item for the thread's transcript. */
  record(item: Item): void;
  /**
   * Codex's token count for its whole session so far (a resumed thread's includes every earlier
   * turn) when this turn starts: the thread's last `total` (see onUsage).
   */
  usageBefore?: Usage;
  /** A step finished: a command ended, a patch applied or failed (a model turn's end comes with onUsage). */
  stepDone?(): void;
  /** Tokens this turn used since the last report (`used`), and Codex's session total now (`total`, to store). */
  onUsage?(used: Usage, total: Usage): void;
}

/** How long Codex has between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2_000;
const STDERR_KEEP = 4_000;

/** Runs one Codex turn to its end (or until the signal aborts it and everything it started is gone). */
export async function runCodexTurn(o: CodexTurnOptions): Promise<TurnOutcome> {
  const usage = zeroUsage();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'agentbox-codex-'));
  try {
    const request: CodexRequest = { ...o.request };
    if (o.baseInstructions) {
      request.instructionsFile = path.join(scratch, 'instructions.md');
      await writeFile(request.instructionsFile, o.baseInstructions);
    }
    if (o.answer) {
      request.outputSchemaFile = path.join(scratch, 'output-schema.json');
      await writeFile(request.outputSchemaFile, JSON.stringify(o.answer.schema));
    }
    return await drive(o, codexArgs(request), usage);
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function drive(o: CodexTurnOptions, args: string[], usage: Usage): Promise<TurnOutcome> {
  let answer = '';
  let failure: string | undefined;
  let completed = false;
  let stderr = '';
  let turns = 0;
  let sessionTotal = o.usageBefore ?? zeroUsage();
  const stopped = (): TurnOutcome => ({ status: (o.signal.reason as StopReason | undefined)?.status ?? 'cancelled', content: answer, usage, turns });
  if (o.signal.aborted) return stopped();

  const mark = `${RUN_MARK_NAME}=agentbox-${randomUUID()}`;
  const child = spawn(o.bin, args, { cwd: o.request.cwd, env: { ...o.env, [RUN_MARK_NAME]: mark.slice(RUN_MARK_NAME.length + 1) }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  // Its last events may still be in the pipe when it exits; a stray process holding the pipe
  // open must not hold the turn, though.
  const drained = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.stdin.on('error', () => undefined);
  child.stdin.end(o.request.prompt);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_KEEP)));

  let killing: Promise<void> | undefined;
  const kill = () => {
    if (child.pid !== undefined) killing ??= killTree(child.pid, exited, mark);
  };
  o.signal.addEventListener('abort', kill, { once: true });

  const onEvent = (e: CodexEvent) => {
    switch (e.type) {
      case 'thread.started':
        if (typeof e.thread_id === 'string') o.onThread(e.thread_id);
        break;
      case 'turn.started':
        turns++;
        o.events?.request(turns);
        break;
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        if (e.item && typeof e.item === 'object') {
          const item = e.item as ExecItem;
          o.events?.item(e.type, item);
          if (e.type === 'item.completed' && item.type === 'agent_message') answer = item.text;
          describe(o, e.type, item);
        }
        break;
      case 'turn.completed': {
        completed = true;
        // Codex reports its session's total, not the turn's: this turn used the difference.
        const total = codexUsage(e.usage);
        const used = usageSince(total, sessionTotal);
        sessionTotal = total;
        addUsage(usage, used);
        o.onUsage?.(used, total);
        break;
      }
      case 'turn.failed':
        failure = messageOf(e.error) ?? 'Codex reported that the turn failed.';
        break;
      case 'error':
        failure = messageOf(e) ?? failure;
        break;
    }
  };

  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      try {
        onEvent(JSON.parse(line) as CodexEvent);
      } catch {
        // not an event line
      }
    }
  });

  const exit = await exited;
  await settledWithin(drained, KILL_GRACE_MS);
  o.signal.removeEventListener('abort', kill);
  await killing;

  if (o.signal.aborted) return stopped();
  if (exit.error) {
    const why = (exit.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : exit.error.message;
    return { status: 'failed', content: answer, error: `Cannot run the Codex CLI at ${o.bin}: ${why}.`, usage, turns };
  }
  if (failure !== undefined && !completed) return { status: 'failed', content: answer, error: `Codex: ${failure}`, usage, turns };
  if (!completed) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    return { status: 'failed', content: answer, error: `codex ${how} before the turn completed${tail ? `:\n${tail}` : '.'}`, usage, turns };
  }
  if (o.answer) {
    const checked = o.answer.check(answer);
    if (!checked.ok) return { status: 'failed', content: answer, error: `The final answer does not match output_schema: ${checked.message}`, usage, turns };
    return { status: 'completed', content: answer, output: checked.value, usage, turns };
  }
  return { status: 'completed', content: answer, usage, turns };
}

interface CodexEvent {
  type: string;
  thread_id?: unknown;
  item?: unknown;
  usage?: Record<string, unknown>;
  error?: unknown;
  message?: unknown;
}

function messageOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') return (v as { message: string }).message;
  return undefined;
}

/** `turn.completed`'s usage (Codex's names) as agentbox's Usage. */
function codexUsage(u: Record<string, unknown> | undefined): Usage {
  const n = (k: string) => (typeof u?.[k] === 'number' ? (u[k] as number) : 0);
  return { input_tokens: n('input_tokens'), cached_input_tokens: n('cached_input_tokens'), output_tokens: n('output_tokens'), reasoning_tokens: n('reasoning_output_tokens') };
}

/**
 * What was used between two of Codex's session totals. A total below the earlier one is not a
 * running total of the same session (the stored one is stale, or Codex counted afresh): it is
 * taken as this turn's own.
 */
function usageSince(total: Usage, before: Usage): Usage {
  const keys = ['input_tokens', 'cached_input_tokens', 'output_tokens', 'reasoning_tokens'] as const;
  if (keys.some((k) => total[k] < before[k])) return { ...total };
  return { input_tokens: total.input_tokens - before.input_tokens, cached_input_tokens: total.cached_input_tokens - before.cached_input_tokens, output_tokens: total.output_tokens - before.output_tokens, reasoning_tokens: total.reasoning_tokens - before.reasoning_tokens };
}

/** One progress line per meaningful step, worded like agentbox's own loop; items go to the transcript. */
function describe(o: CodexTurnOptions, phase: string, item: ExecItem): void {
  const rel = (p: string) => (path.isAbsolute(p) ? path.relative(o.request.cwd, p) || '.' : p);
  switch (item.type) {
    case 'command_execution': {
      const cmd = shortCommand(item.command);
      if (phase === 'item.started') o.report(`exec_command \`${cmd}\``);
      else if (phase === 'item.completed') {
        o.report(item.exit_code === null ? `command \`${cmd}\` ${item.status}` : `command \`${cmd}\` exited with code ${item.exit_code}`);
        o.stepDone?.();
        const call = `codex_${item.id}`;
        o.record({ type: 'function_call', call_id: call, name: 'exec_command', arguments: JSON.stringify({ cmd }) });
        o.record({ type: 'function_call_output', call_id: call, output: `Process exited with code ${item.exit_code ?? '?'}\nOutput:\n${item.aggregated_output}` });
      }
      break;
    }
    case 'file_change':
      if (phase === 'item.completed') {
        const mark = { add: 'A', update: 'M', delete: 'D' } as const;
        const files = item.changes.map((c) => `${mark[c.kind] ?? 'M'} ${rel(c.path)}`).join(', ');
        o.report(item.status === 'completed' ? `patch applied: ${files}` : `patch failed: ${files}`, item.status === 'completed' ? 'info' : 'warning', false);
        o.stepDone?.();
        const call = `codex_${item.id}`;
        o.record({ type: 'function_call', call_id: call, name: 'file_change', arguments: JSON.stringify({ changes: item.changes }) });
        o.record({ type: 'function_call_output', call_id: call, output: item.status });
      }
      break;
    case 'todo_list': {
      const done = item.items.filter((i) => i.completed).length;
      const current = item.items.find((i) => !i.completed)?.text;
      o.report(`plan updated: ${done}/${item.items.length} done${current ? `; now: ${current}` : ''}`);
      break;
    }
    case 'agent_message':
      if (phase === 'item.completed') o.record({ type: 'message', role: 'assistant', content: item.text });
      break;
    case 'reasoning':
      if (phase === 'item.completed') o.record({ type: 'reasoning', summary: [item.text] });
      break;
    case 'error':
      // Codex's own error item went out as it is: no second one for the same warning.
      o.report(`codex: ${item.message}`, 'warning', false);
      break;
    default: {
      const other = item as { type: string; server?: string; tool?: string; query?: string };
      if (phase !== 'item.started') break;
      if (other.type === 'mcp_tool_call') o.report(`tool ${other.server}.${other.tool}`);
      else if (other.type === 'web_search') o.report(`web search: ${other.query ?? ''}`);
    }
  }
}

/** `/bin/bash -lc 'npm test'` → `npm test`: the command the model wrote. */
export function shortCommand(command: string): string {
  const m = /^(?:\/usr)?\/bin\/(?:ba|z)?sh -l?c '([\s\S]*)'$/.exec(command);
  const inner = m ? m[1]!.replace(/'\\''/g, "'") : command;
  return inner.length > 80 ? `${inner.slice(0, 77)}…` : inner;
}

/**
 * SIGTERM to Codex's process group and every descendant (sandboxed commands run in sessions of
 * their own), SIGKILL to whatever is left after the grace period; resolves once Codex has exited.
 */
export async function killTree(pid: number, exited: Promise<unknown>, mark?: string): Promise<void> {
  const targets = new Set([pid, ...descendants(pid)]);
  const signal = (sig: NodeJS.Signals) => {
    signalGroup(pid, sig);
    signalEach(targets, sig);
  };
  signal('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, KILL_GRACE_MS)))]);
  clearTimeout(timer);
  for (const p of [...targets]) for (const d of descendants(p)) targets.add(d);
  signal('SIGKILL');
  await exited;
  // kill(2) returns before a process is gone, and a process of the turn may have left the tree (its
  // parent died first) or been started while Codex was stopping: until every one has died (bounded),
  // SIGKILL what is left of the tree and whatever carries the turn's mark.
  const deadline = Date.now() + KILL_GRACE_MS;
  for (;;) {
    const left = [...targets, ...(mark ? processesWithEnv(mark) : [])].filter((p) => p !== process.pid && isRunning(p));
    if (left.length === 0 || Date.now() > deadline) break;
    for (const p of left) targets.add(p);
    signalEach(left, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 10));
  }
}
