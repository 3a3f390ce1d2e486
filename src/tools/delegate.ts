// delegate and delegate_reply: hand a coding task to a subagent (agentbox's own agent loop, in
// the sandbox, with the same tools the host has, or the Codex CLI) and get back its answer, the
// diff, the files it changed and the tokens it used. A run can also outlive the call: in the
// background (delegate_status, delegate_cancel) or as an MCP task. Threads are also published as
// resources. The logic lives in agent/; this file holds the schemas, the descriptions and the
// result rendering.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  agentService,
  detachedHost,
  formatUsage,
  isThreadId,
  renderTranscript,
  type AgentService,
  type DelegateResult,
  type Run,
  type RunHost,
  type ThreadState,
  type ToolsFor,
} from '../agent/index.js';
import { ApprovalPolicy, MAX_TIMEOUT_MS, ReasoningEffort, SandboxMode } from '../config/index.js';
import type { TaskSource, TaskState } from '../mcp/tasks.js';
import type { SessionContext } from '../session.js';
import type { Result } from '../util/result.js';
import { sleep } from '../util/wait.js';
import { defineTool, type AnyToolSpec, type CallContext, type ResourceSpec, type TaskStart } from './define.js';
import { dataResult, errorResult } from './result.js';

const STATUS = ['completed', 'failed', 'cancelled', 'timeout', 'max_turns', 'running', 'interrupted'] as const;

/**
 * The structuredContent of delegate, delegate_reply and delegate_status. Hosts show their model
 * this JSON rather than the text, so it carries everything the text says: a one-line `summary`,
 * the answer and the diff (within the reply budget), and `next`, the exact call to make next.
 * delegate_status adds a running run's turn, step, turns, usage, elapsed_ms and plan.
 */
export const DelegateOutput = {
  thread_id: z.string(),
  status: z.enum(STATUS),
  summary: z.string(),
  next: z.string().optional(),
  content: z.string().optional(),
  output: z.unknown().optional(),
  error: z.string().optional(),
  diff: z.string().optional(),
  files_changed: z.array(z.object({ path: z.string(), kind: z.enum(['added', 'modified', 'deleted', 'renamed']), from: z.string().optional() })).optional(),
  usage: z.object({ input_tokens: z.number(), cached_input_tokens: z.number(), output_tokens: z.number(), reasoning_tokens: z.number() }).optional(),
  duration_ms: z.number().optional(),
  branch: z.string().optional(),
  notes: z.array(z.string()).optional(),
};

/** delegate_status waits at most this long for a step to finish. */
export const MAX_WAIT_MS = 60_000;
/** What `next` suggests for wait_ms: the cap, so a host follows a run in a few calls. */
const NEXT_WAIT_MS = MAX_WAIT_MS;

const ANNOTATIONS = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true } as const;

/**
 * The most diff a result carries before the reply budget applies: hosts show their model the
 * structuredContent or the text, and the answer matters more than a huge diff. Beyond it the diff
 * is cut, saying what is missing and where it is.
 */
export const MAX_RESULT_DIFF_BYTES = 32 * 1024;

/** The call that follows a run still going. */
const statusCall = (threadId: string) => `delegate_status {"thread_id": "${threadId}", "wait_ms": ${NEXT_WAIT_MS}}`;
/** The call that continues a thread that ended. */
const replyCall = (threadId: string) => `delegate_reply {"thread_id": "${threadId}", "prompt": "..."}`;

export function delegateTools(ctx: SessionContext, toolsFor: ToolsFor): AnyToolSpec[] {
  const service = agentService(ctx.runtime, toolsFor);
  const { config } = ctx.runtime;
  const budget = config.output.max_chars;
  const render = (r: DelegateResult) => resultOf(r, budget);
  const state = (threadId: string, s: ThreadState) => stateResult(threadId, s, budget);
  const threadId = z.string().describe('From delegate.');

  const delegate = defineTool({
    name: 'delegate',
    title: 'Delegate a task to a subagent',
    group: 'delegate',
    description:
      'Hand a coding task to a subagent that works in this sandbox with shell, patch, search and git tools until done. ' +
      'Returns its answer, the diff, files changed and a thread_id for delegate_reply.',
    input: {
      prompt: z.string().min(1).describe('The task, self-contained.'),
      cwd: z.string().optional().describe('Default: workspace root.'),
      model: z.string().optional().describe(`Default ${config.model}.`),
      provider: z.string().optional().describe(`A model_providers id. Default ${config.model_provider}.`),
      sandbox: SandboxMode.optional().describe(`Default ${config.sandbox.mode}; never wider than the server's.`),
      approval_policy: ApprovalPolicy.optional().describe(`Default ${config.approval_policy}.`),
      reasoning_effort: ReasoningEffort.optional().describe("Default: the model's."),
      developer_instructions: z.string().optional().describe('Added to the instructions.'),
      base_instructions: z.string().optional().describe('Replaces the built-in ones.'),
      worktree: z.boolean().optional().describe('Work on a new branch in a new git worktree. Default false.'),
      output_schema: z.record(z.string(), z.unknown()).optional().describe('JSON Schema for the answer; parsed into `output`.'),
      max_turns: z.number().int().min(1).optional().describe(`Model turns. Default ${config.agent.max_turns}.`),
      timeout_ms: z.number().int().min(1000).max(MAX_TIMEOUT_MS).optional().describe(`Default ${config.agent.timeout_ms}.`),
      backend: z.enum(['agentbox', 'codex']).optional().describe('codex: run the Codex CLI. Default agentbox.'),
      background: z.boolean().optional().describe('Return at once; follow with delegate_status. Default false.'),
    },
    output: DelegateOutput,
    annotations: ANNOTATIONS,
    async run({ background, ...args }, call) {
      if (background) return startedInBackground(await service.start(args, ctx, detached(ctx)));
      return finish(await service.start(args, ctx, call), call, render);
    },
    async task({ background: _ignored, ...args }, _call, progress) {
      return taskStart(service, await service.start(args, ctx, detached(ctx, progress)));
    },
  });

  const reply = defineTool({
    name: 'delegate_reply',
    title: 'Continue a delegate thread',
    group: 'delegate',
    description: 'Continue a delegate thread with a new prompt; the subagent keeps its full history, also after a server restart. Returns what delegate returns.',
    input: {
      thread_id: threadId,
      prompt: z.string().min(1).describe('The next message.'),
      background: z.boolean().optional().describe('As for delegate. Default false.'),
    },
    annotations: ANNOTATIONS,
    async run(args, call) {
      if (args.background) return startedInBackground(await service.reply(args.thread_id, args.prompt, ctx, detached(ctx)));
      return finish(await service.reply(args.thread_id, args.prompt, ctx, call), call, render);
    },
    async task(args, _call, progress) {
      return taskStart(service, await service.reply(args.thread_id, args.prompt, ctx, detached(ctx, progress)));
    },
  });

  const status = defineTool({
    name: 'delegate_status',
    title: 'Delegate run status',
    group: 'delegate',
    description:
      "A delegate thread's state: while it runs, its step, turns and usage; once done, what delegate returns.",
    input: {
      thread_id: threadId,
      wait_ms: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe(`Wait up to this long for a step to finish (a command ends, a patch applies, a model turn ends) or the run to end. Default 0, max ${MAX_WAIT_MS}.`),
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run(args, call) {
      const first = await service.state(args.thread_id);
      if (!first.ok) return errorResult(first.error);
      const wait = Math.min(args.wait_ms ?? 0, MAX_WAIT_MS);
      if (first.value.state === 'running' && wait > 0) {
        await first.value.run.nextStep(wait, call.signal);
        const now = await service.state(args.thread_id, first.value.run.turn);
        if (now.ok) return state(args.thread_id, now.value);
      }
      if (first.value.state === 'running_elsewhere' && wait > 0) {
        const now = await pollElsewhere(service, args.thread_id, first.value.turn, wait, call.signal);
        if (now) return state(args.thread_id, now);
      }
      return state(args.thread_id, first.value);
    },
  });

  const cancel = defineTool({
    name: 'delegate_cancel',
    title: 'Cancel a delegate run',
    group: 'delegate',
    description: 'Stop a running delegate thread and kill its processes; returns its result. delegate_reply continues it.',
    input: { thread_id: threadId },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async run(args) {
      const current = await service.state(args.thread_id);
      if (!current.ok) return errorResult(current.error);
      const s = current.value;
      if (s.state === 'running') {
        s.run.cancel('cancelled');
        return render(await s.run.done);
      }
      if (s.state === 'running_elsewhere') {
        return errorResult({ code: 'thread_elsewhere', message: `Thread ${args.thread_id} is running in another agentbox process on the same home; only that process can cancel it.` });
      }
      const was = s.state === 'interrupted' ? 'interrupted (its server stopped)' : s.result.status;
      return errorResult({ code: 'not_running', message: `Thread ${args.thread_id} is not running: its last turn ended ${was}.`, hint: 'Nothing to cancel; delegate_reply continues it.' });
    },
  });

  return [delegate, reply, status, cancel];
}

/** A host for runs nobody waits on; `progress` reaches the MCP task's requester while it is connected. */
function detached(ctx: SessionContext, progress?: (message: string) => void): RunHost {
  const host = detachedHost((message) => ctx.runtime.log.debug({ step: message }, 'background delegate step'));
  return progress ? { ...host, progress } : host;
}

function startedInBackground(started: Result<Run>): CallToolResult {
  if (!started.ok) return errorResult(started.error);
  const { threadId } = started.value;
  const summary = `Started thread ${threadId} in the background.`;
  const next = statusCall(threadId);
  return dataResult({ thread_id: threadId, status: 'running', summary, next }, `${summary} Follow it with ${next}; stop it with delegate_cancel.`);
}

/** An MCP task for a run: id `<thread_id>.<turn>`, answered by the runtime's delegate task source. */
function taskStart(service: AgentService, started: Result<Run>): TaskStart {
  if (!started.ok) return { ok: false, result: errorResult(started.error) };
  const run = started.value;
  return { ok: true, taskId: `${run.threadId}.${run.turn}`, source: delegateTaskSource(service) };
}

/** Delegate thread turns as MCP tasks (one source per runtime): state and result from the live run, else from the thread file. */
export function delegateTaskSource(service: AgentService): TaskSource {
  return service.runtime.shared('delegate-task-source', () => createTaskSource(service));
}

function createTaskSource(service: AgentService): TaskSource {
  const budget = service.runtime.config.output.max_chars;
  const parse = (taskId: string) => {
    const m = /^([0-9a-f-]{36})\.(\d+)$/.exec(taskId);
    return m && isThreadId(m[1]!) ? { threadId: m[1]!, turn: Number(m[2]) } : undefined;
  };
  return {
    async state(taskId): Promise<TaskState | undefined> {
      const id = parse(taskId);
      if (!id) return undefined;
      const s = await service.state(id.threadId, id.turn);
      if (!s.ok) return undefined;
      switch (s.value.state) {
        case 'running':
          return { status: 'working', message: s.value.run.step, createdAt: new Date(s.value.run.startedAt).toISOString() };
        case 'running_elsewhere':
          return { status: 'working', message: 'running in another agentbox process' };
        case 'interrupted':
          return { status: 'failed', message: 'interrupted: the server running it stopped; continue the thread with delegate_reply' };
        case 'finished': {
          const r = s.value.result;
          const status = r.status === 'failed' ? 'failed' : r.status === 'cancelled' ? 'cancelled' : 'completed';
          return { status, message: r.error ? `${r.status}: ${r.error.split('\n')[0]}` : r.status };
        }
      }
    },
    async result(taskId) {
      const id = parse(taskId);
      if (!id) return errorResult(`${taskId} is not a delegate task id.`);
      const s = await service.state(id.threadId, id.turn);
      if (!s.ok) return errorResult(s.error);
      if (s.value.state === 'running') return resultOf(await s.value.run.done, budget);
      return stateResult(id.threadId, s.value, budget);
    },
    cancel(taskId) {
      const id = parse(taskId);
      const run = id ? service.running(id.threadId) : undefined;
      if (!run || run.turn !== id!.turn) return false;
      return run.cancel('cancelled');
    },
  };
}

/** How often delegate_status re-reads the file of a thread another agentbox process runs. */
const ELSEWHERE_POLL_MS = 400;

/**
 * Re-reads a thread run elsewhere until its turn's state changes, `ms` pass or the call is
 * cancelled. The file is parsed only when its size, time or lock changed (a stat a poll), so a long
 * wait on a long thread costs little.
 */
async function pollElsewhere(service: AgentService, threadId: string, turn: number, ms: number, signal: AbortSignal): Promise<ThreadState | undefined> {
  const until = Date.now() + ms;
  let last: ThreadState | undefined;
  // No fingerprint yet: the first poll always re-reads, since the turn may have ended between the
  // caller's read of the state and this wait.
  let seen: string | undefined;
  while (!signal.aborted && Date.now() < until) {
    await sleep(Math.min(ELSEWHERE_POLL_MS, until - Date.now()), signal);
    const now0 = service.threads.fingerprint(threadId);
    if (now0 === seen) continue;
    seen = now0;
    const now = await service.state(threadId, turn);
    if (!now.ok) return last;
    last = now.value;
    if (last.state !== 'running_elsewhere') return last;
  }
  return last;
}

function stateResult(threadId: string, s: ThreadState, budget: number): CallToolResult {
  switch (s.state) {
    case 'finished':
      return resultOf(s.result, budget);
    case 'running': {
      const { run } = s;
      const elapsed = Date.now() - run.startedAt;
      const u = run.usage;
      const next = statusCall(threadId);
      const summary = `running: turn ${run.turn} · ${run.turns} model turn${run.turns === 1 ? '' : 's'} · ${(elapsed / 1000).toFixed(1)} s · now: ${run.step}`;
      const data = {
        thread_id: threadId,
        status: 'running',
        summary,
        next,
        turn: run.turn,
        step: run.step,
        turns: run.turns,
        usage: { ...u },
        elapsed_ms: elapsed,
        ...(run.plan.length ? { plan: run.plan } : {}),
      };
      const text = [
        `running: thread ${threadId} · ${run.turns} model turn${run.turns === 1 ? '' : 's'} · ${(elapsed / 1000).toFixed(1)} s`,
        `now: ${run.step}`,
        `tokens so far: ${u.input_tokens} in (${u.cached_input_tokens} cached), ${u.output_tokens} out`,
        ...(run.plan.length ? ['plan:', ...run.plan.map((p) => `- [${p.status === 'completed' ? 'x' : ' '}] ${p.step}`)] : []),
        `Next: ${next} (returns when a step finishes), or delegate_cancel to stop it.`,
      ];
      return dataResult(data, text.join('\n'));
    }
    case 'running_elsewhere': {
      const summary = `Thread ${threadId} is running turn ${s.turn} in another agentbox process on the same home; its live state is only known there.`;
      const next = statusCall(threadId);
      return dataResult({ thread_id: threadId, status: 'running', summary, next, turn: s.turn }, `${summary} Next: ${next}.`);
    }
    case 'interrupted': {
      const summary = `Thread ${threadId} was interrupted: the agentbox server running turn ${s.turn} stopped before it ended; delegate_reply continues it with everything recorded up to then.`;
      const next = replyCall(threadId);
      return dataResult({ thread_id: threadId, status: 'interrupted', summary, next, turn: s.turn }, `${summary} Next: ${next}.`);
    }
  }
}

/** Waits for the run (cancelling it when the call is cancelled) and renders its result. */
async function finish(started: Result<Run>, call: CallContext, render: (r: DelegateResult) => CallToolResult) {
  if (!started.ok) return errorResult(started.error);
  return render(await waitForRun(started.value, call));
}

/** The run's result; cancelling the call cancels the run. */
export async function waitForRun(run: Run, call: CallContext): Promise<DelegateResult> {
  const cancel = () => run.cancel('cancelled');
  if (call.signal.aborted) cancel();
  call.signal.addEventListener('abort', cancel, { once: true });
  try {
    return await run.done;
  } finally {
    call.signal.removeEventListener('abort', cancel);
  }
}

/**
 * A finished run as a tool result: structuredContent (what hosts show their model) plus the text
 * rendering, both within `budget` characters; isError when it failed.
 */
function resultOf(raw: DelegateResult, budget: number): CallToolResult {
  const fitted = fitResult(raw, budget);
  const { turns: _turns, threadId, status, ...rest } = fitted;
  const data = { thread_id: threadId, status, summary: resultSummary(fitted), next: replyCall(threadId), ...rest };
  const rendered = dataResult(data as Record<string, unknown>, renderText(fitted));
  return fitted.status === 'failed' ? { ...rendered, isError: true } : rendered;
}

/** A finished run in one line: status, size of the work, files changed. */
export function resultSummary(r: DelegateResult): string {
  const mark = { added: 'A', modified: 'M', deleted: 'D', renamed: 'R' } as const;
  const files =
    r.files_changed.length === 0
      ? 'no files changed'
      : `${r.files_changed.length} file${r.files_changed.length === 1 ? '' : 's'} changed (${r.files_changed.slice(0, 5).map((f) => `${mark[f.kind]} ${f.path}`).join(', ')}${r.files_changed.length > 5 ? ', …' : ''})`;
  const error = r.error ? ` · ${r.error.split('\n')[0]!.slice(0, 200)}` : '';
  return `${r.status} · ${r.turns} model turn${r.turns === 1 ? '' : 's'} · ${(r.duration_ms / 1000).toFixed(1)} s · ${files}${error}${r.branch ? ` · branch ${r.branch}` : ''}`;
}

/**
 * The result with its answer and diff cut so that its JSON (what a host shows its model) stays
 * within `budget` characters: the answer keeps up to half of the room, the diff the rest, each cut
 * saying what is missing and where the whole of it is.
 */
export function fitResult(whole: DelegateResult, budget: number): DelegateResult {
  const raw = { ...whole, files_changed: fitFiles(whole.files_changed, Math.floor(budget / 4)) };
  const size = (r: DelegateResult) => JSON.stringify({ ...r, summary: resultSummary(r), next: replyCall(r.threadId) }).length;
  // What the result costs without its answer and diff: every other field, and the JSON around them.
  const fixed = size({ ...raw, content: '', diff: '' }) + 200;
  const room = Math.max(1000, budget - fixed);
  let content = raw.content;
  const maxAnswer = raw.diff ? Math.floor(room / 2) : room;
  if (JSON.stringify(content).length > maxAnswer) {
    // JSON escapes cost up to 6 characters each; cut by the escaped length, then step back until it fits.
    let keep = maxAnswer;
    const tail = (n: number) => `\n[… answer cut: ${raw.content.length - n} more characters; agentbox://threads/${raw.threadId} has all of it]`;
    while (keep > 0 && JSON.stringify(raw.content.slice(0, keep) + tail(keep)).length > maxAnswer) keep = Math.floor(keep * 0.9);
    content = raw.content.slice(0, keep) + tail(keep);
  }
  // The diff gets what the answer left, measured as JSON (escapes included).
  let max = Math.max(200, Math.min(MAX_RESULT_DIFF_BYTES, room - JSON.stringify(content).length));
  let result: DelegateResult = { ...raw, content, diff: capDiff(raw, max) };
  for (let i = 0; i < 8 && size(result) > budget && max > 200; i++) {
    max = Math.max(200, max - (size(result) - budget) - 100);
    result = { ...raw, content, diff: capDiff(raw, max) };
  }
  return result;
}

/** The result for hosts that read text: the answer first, then a summary line, the files and the diff. */
export function renderText(r: DelegateResult): string {
  const lines = [
    r.content.trim() || '(no answer)',
    '',
    '---',
    `status: ${r.status} · thread ${r.threadId} · ${r.turns} model turn${r.turns === 1 ? '' : 's'} · ${(r.duration_ms / 1000).toFixed(1)} s`,
    `tokens: ${formatUsage(r.usage)}`,
  ];
  if (r.error) lines.push(`error: ${r.error}`);
  if (r.branch) lines.push(`branch: ${r.branch}`);
  for (const note of r.notes ?? []) lines.push(`note: ${note}`);
  if (r.files_changed.length === 0) lines.push('files changed: none');
  else {
    const mark = { added: 'A', modified: 'M', deleted: 'D', renamed: 'R' } as const;
    lines.push(`files changed: ${r.files_changed.map((f) => `${mark[f.kind]} ${f.from ? `${f.from} -> ` : ''}${f.path}`).join(', ')}`);
    lines.push('', '```diff', r.diff.trimEnd(), '```');
  }
  lines.push(`continue: ${replyCall(r.threadId)}`);
  return lines.join('\n');
}

/** The result's diff, cut at `max` bytes (at a file boundary when one is near) with a note. */
export function capDiff(r: Pick<DelegateResult, 'diff' | 'files_changed' | 'threadId' | 'branch'>, max = MAX_RESULT_DIFF_BYTES): string {
  const bytes = Buffer.from(r.diff, 'utf8');
  if (bytes.length <= max) return r.diff;
  const head = bytes.subarray(0, max).toString('utf8').replace(/\uFFFD$/, '');
  const lastFile = head.lastIndexOf('\ndiff --git ');
  const shown = lastFile > max / 2 ? head.slice(0, lastFile + 1) : head.slice(0, head.lastIndexOf('\n') + 1);
  const seen = new Set([...shown.matchAll(/^diff --git a\/.* b\/(.*)$/gm)].map((m) => m[1]));
  const missing = r.files_changed.map((f) => f.path).filter((p) => !seen.has(p));
  const where = [
    r.branch ? `every change is committed on branch ${r.branch} (git_show, or git log -p ${r.branch})` : 'git_diff shows the working tree (with any changes made before this call)',
    `agentbox://threads/${r.threadId} has each patch the subagent applied`,
  ];
  return (
    `${shown}[… diff cut at ${max < 10 * 1024 ? `${max} bytes` : `${Math.round(max / 1024)} KiB`}: ${bytes.length - Buffer.byteLength(shown)} more bytes not shown` +
    `${missing.length ? `, including all of ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ` and ${missing.length - 20} more files` : ''}` : ''}. ` +
    `files_changed lists every file; ${where.join('; ')}.]\n`
  );
}

/** agentbox://threads (the list, JSON) and agentbox://threads/{id} (a transcript, Markdown). */
export function delegateResources(ctx: SessionContext, toolsFor: ToolsFor): ResourceSpec[] {
  const service = agentService(ctx.runtime, toolsFor);
  const list: ResourceSpec = {
    name: 'threads',
    group: 'delegate',
    uri: 'agentbox://threads',
    title: 'Delegate threads',
    description: 'Every delegate thread: id, title, status, cwd, turns, model, branch; most recent first.',
    mimeType: 'application/json',
    async read(uri) {
      const threads = await service.threads.list();
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ threads }, null, 2) }] };
    },
  };
  const thread: ResourceSpec = {
    name: 'thread',
    group: 'delegate',
    uri: 'agentbox://threads/{id}',
    title: 'Delegate thread transcript',
    description: 'The transcript of one delegate thread: prompts, answers, tool calls and results.',
    mimeType: 'text/markdown',
    async list() {
      return (await service.threads.list()).slice(0, 100).map((t) => ({
        uri: `agentbox://threads/${t.id}`,
        name: t.id,
        title: t.title,
        description: `${t.status}, ${t.turns} turn${t.turns === 1 ? '' : 's'}, ${t.cwd}`,
        mimeType: 'text/markdown',
      }));
    },
    async read(uri, vars) {
      const id = String(Array.isArray(vars.id) ? vars.id[0] : vars.id);
      if (!isThreadId(id)) throw new Error(`${id} is not a thread id; list threads at agentbox://threads.`);
      const loaded = await service.threads.load(id);
      if (!loaded.ok) throw new Error(loaded.error.message);
      const running = service.running(id) !== undefined || service.threads.isLocked(id);
      const t = running ? { ...loaded.value, status: 'running' as const } : loaded.value;
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: renderTranscript(t) }] };
    },
  };
  return [list, thread];
}

/**
 * At most `room` characters of JSON for the changed files: a run that created thousands of files
 * would otherwise push the result past the budget by its file list alone. The last entry then
 * says how many were left out and where to see them.
 */
function fitFiles(files: DelegateResult['files_changed'], room: number): DelegateResult['files_changed'] {
  if (JSON.stringify(files).length <= room) return files;
  const kept: DelegateResult['files_changed'] = [];
  let used = 2;
  for (const f of files) {
    const cost = JSON.stringify(f).length + 1;
    if (used + cost > room - 120) break;
    kept.push(f);
    used += cost;
  }
  kept.push({ path: `[… ${files.length - kept.length} more changed files not listed: git_status or the diff shows them]`, kind: 'modified' });
  return kept;
}
