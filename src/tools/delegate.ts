// delegate and delegate_reply: hand a coding task to a subagent (agentbox's own agent loop, in
// the sandbox, with the same tools the host has) and get back its answer, the diff, the files it
// changed and the tokens it used. Threads are also published as resources. The logic lives in
// agent/; this file holds the schemas, the descriptions and the result rendering.
import { z } from 'zod';
import { agentService, isThreadId, renderTranscript, type DelegateResult, type Run, type ToolsFor } from '../agent/index.js';
import { ApprovalPolicy, MAX_TIMEOUT_MS, ReasoningEffort, SandboxMode } from '../config/index.js';
import type { SessionContext } from '../session.js';
import type { Result } from '../util/result.js';
import { defineTool, type AnyToolSpec, type CallContext, type ResourceSpec } from './define.js';
import { dataResult, errorResult } from './result.js';

const STATUS = ['completed', 'failed', 'cancelled', 'timeout', 'max_turns'] as const;

/** The structuredContent of delegate and delegate_reply. */
export const DelegateOutput = {
  threadId: z.string(),
  status: z.enum(STATUS),
  content: z.string(),
  output: z.unknown().optional(),
  error: z.string().optional(),
  diff: z.string(),
  files_changed: z.array(z.object({ path: z.string(), kind: z.enum(['added', 'modified', 'deleted', 'renamed']), from: z.string().optional() })),
  usage: z.object({ input_tokens: z.number(), cached_input_tokens: z.number(), output_tokens: z.number(), reasoning_tokens: z.number() }),
  duration_ms: z.number(),
  branch: z.string().optional(),
  notes: z.array(z.string()).optional(),
};

const ANNOTATIONS = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true } as const;

/**
 * The most diff a result carries, in structuredContent and in the text alike: hosts show their
 * model one or the other (Claude Code refuses a tool result over 25,000 tokens), and the answer
 * matters more than a huge diff. Beyond it the diff is cut, saying what is missing and where it is.
 */
export const MAX_RESULT_DIFF_BYTES = 32 * 1024;

export function delegateTools(ctx: SessionContext, toolsFor: ToolsFor): AnyToolSpec[] {
  const service = agentService(ctx.runtime, toolsFor);
  const { config } = ctx.runtime;

  const delegate = defineTool({
    name: 'delegate',
    title: 'Delegate a task to a subagent',
    group: 'delegate',
    description:
      'Hand a coding task to a subagent that works in this sandbox with shell, patch, search and git tools until done. ' +
      `Returns its answer, the diff, files changed, token usage and a threadId for delegate_reply. Default model: ${config.model}.`,
    input: {
      prompt: z.string().min(1).describe('The task, self-contained.'),
      cwd: z.string().optional().describe('Default: workspace root.'),
      model: z.string().optional(),
      provider: z.string().optional().describe('A model_providers id.'),
      sandbox: SandboxMode.optional(),
      approval_policy: ApprovalPolicy.optional(),
      reasoning_effort: ReasoningEffort.optional(),
      developer_instructions: z.string().optional(),
      base_instructions: z.string().optional().describe('Replaces the built-in ones.'),
      worktree: z.boolean().optional().describe('Work on a new branch in a new git worktree.'),
      output_schema: z.record(z.string(), z.unknown()).optional().describe('JSON Schema for the answer; parsed into `output`.'),
      max_turns: z.number().int().min(1).optional(),
      timeout_ms: z.number().int().min(1000).max(MAX_TIMEOUT_MS).optional(),
    },
    output: DelegateOutput,
    annotations: ANNOTATIONS,
    async run(args, call) {
      return finish(await service.start(args, ctx, call), call);
    },
  });

  const reply = defineTool({
    name: 'delegate_reply',
    title: 'Continue a delegate thread',
    group: 'delegate',
    description: 'Continue a delegate thread with a new prompt; the subagent keeps its full history, also after a server restart. Returns what delegate returns.',
    input: {
      threadId: z.string(),
      prompt: z.string().min(1),
    },
    output: DelegateOutput,
    annotations: ANNOTATIONS,
    async run(args, call) {
      return finish(await service.reply(args.threadId, args.prompt, ctx, call), call);
    },
  });

  return [delegate, reply];
}

/** Waits for the run (cancelling it when the call is cancelled) and renders its result. */
async function finish(started: Result<Run>, call: CallContext) {
  if (!started.ok) return errorResult(started.error);
  const run = started.value;
  const cancel = () => run.cancel('cancelled');
  if (call.signal.aborted) cancel();
  call.signal.addEventListener('abort', cancel, { once: true });
  try {
    const done = await run.done;
    const result = { ...done, diff: capDiff(done) };
    const { turns: _turns, ...data } = result;
    const rendered = dataResult(data as Record<string, unknown>, renderText(result));
    return result.status === 'failed' ? { ...rendered, isError: true } : rendered;
  } finally {
    call.signal.removeEventListener('abort', cancel);
  }
}

/** The result for hosts that read text: the answer first, then a summary line, the files and the diff. */
export function renderText(r: DelegateResult): string {
  const u = r.usage;
  const lines = [
    r.content.trim() || '(no answer)',
    '',
    '---',
    `status: ${r.status} · thread ${r.threadId} · ${r.turns} model turn${r.turns === 1 ? '' : 's'} · ${(r.duration_ms / 1000).toFixed(1)} s`,
    `tokens: ${u.input_tokens} in (${u.cached_input_tokens} cached), ${u.output_tokens} out (${u.reasoning_tokens} reasoning)`,
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
  return lines.join('\n');
}

/** The result's diff, cut at MAX_RESULT_DIFF_BYTES (at a file boundary when one is near) with a note. */
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
    `${shown}[… diff cut at ${Math.round(max / 1024)} KiB: ${bytes.length - Buffer.byteLength(shown)} more bytes not shown` +
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
