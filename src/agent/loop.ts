// The agent loop for one turn of a thread (one delegate or delegate_reply call):
//
// 1. Send the history to the model; append its output items to the history and the thread file.
// 2. If the response has no tool calls, the turn ends: its last assistant message is the answer
//    (checked against the output schema when there is one; a non-conforming answer is sent back
//    for another try).
// 3. Otherwise run the calls (read-only ones in parallel, others one at a time, in order), append
//    each result under its call id as it completes, and go to 1.
// 4. Before the next request, if the last request's context neared the window (or, at the start
//    of a turn, the history's estimated size does), compact: ask the model for a handoff summary
//    of the history (cut to fit: long tool outputs shortened, then the oldest items dropped) and
//    restart the history from the opening items, the user's messages and that summary.
//
// The loop stops at max_turns (model responses) or when the run's signal aborts (cancel or
// timeout); whatever it stopped in, the history stays valid to continue from.
import type { ReasoningEffort } from '../config/index.js';
import type { CallContext } from '../tools/define.js';
import { firstLine } from '../util/format.js';
import { formatFailure } from '../util/result.js';
import { addUsage, closeDanglingCalls, isToolCall, lastAssistantText, outputFor, zeroUsage, type Item, type ToolCallItem, type Usage } from './items.js';
import type { ModelClient, ModelRequest } from './model.js';
import { COMPACT_PROMPT, SUMMARY_PREFIX } from './prompts/compact.js';
import type { RunStatus, ThreadLog } from './threads.js';
import type { Toolbox } from './toolbox.js';

/** Why a run's signal was aborted. */
export class StopReason {
  constructor(
    readonly status: 'cancelled' | 'timeout',
    /** Why, when it is not the caller's own cancel (saved as the turn's error). */
    readonly note?: string,
  ) {}
}

export interface AnswerCheck {
  schema: Record<string, unknown>;
  /** Parses and validates the answer: the value, or a message saying what is wrong. */
  check(answer: string): { ok: true; value: unknown } | { ok: false; message: string };
}

export interface TurnOptions {
  client: ModelClient;
  model: string;
  instructions: string;
  reasoningEffort?: ReasoningEffort;
  toolbox: Toolbox;
  /** The conversation; the loop appends to it (and replaces it when compacting). */
  history: Item[];
  /** How many items at the start of the history are the thread's opening (kept by compaction). */
  openingItems: number;
  log: ThreadLog;
  /** The run's signal; its reason is a StopReason. */
  signal: AbortSignal;
  /** What the subagent's tools get: the run's signal plus the host call's progress, log and approvals. */
  toolContext: CallContext;
  maxTurns: number;
  contextWindow: number;
  compactThreshold: number;
  answer?: AnswerCheck;
  cacheKey?: string;
  /** One message per meaningful step (model turn, command, patch, plan, compaction). */
  report(message: string, level?: 'info' | 'warning'): void;
  /** Live counters for whoever watches the run. */
  onTurn?(turns: number, usage: Usage): void;
  /** A step finished: a model turn ended, a command ended, a patch applied or failed. */
  stepDone?(): void;
  /** Sees each request, response and tool call as it happens (structured events; see events.ts). */
  observe?: LoopObserver;
}

export interface LoopObserver {
  request(turn: number): void;
  response(items: readonly Item[]): void;
  callStart(call: ToolCallItem): void;
  callDone(call: ToolCallItem, output: string, isError: boolean): void;
}

export interface TurnOutcome {
  status: RunStatus;
  content: string;
  output?: unknown;
  error?: string;
  usage: Usage;
  turns: number;
}

const SCHEMA_RETRIES = 2;
/** How long a tool may take to return after the run was cancelled before it is left behind. */
const TOOL_GRACE_MS = 5_000;

export async function runTurn(o: TurnOptions): Promise<TurnOutcome> {
  const usage = zeroUsage();
  const produced: Item[] = [];
  let turns = 0;
  let schemaRetries = 0;
  // A continued thread may arrive with a long history: estimate it before the first request.
  let lastContext = estimateTokens(o.history);
  let compactedAfterOverflow = false;
  /** The estimated size of a history the endpoint refused as too long, once it has. */
  let overflowed: number | undefined;
  // Some local servers refuse structured output (response_format / text.format); the schema is
  // then enforced by the instructions and the answer check alone.
  let sendSchema = o.answer !== undefined;

  const stopped = (): TurnOutcome => ({
    status: (o.signal.reason as StopReason | undefined)?.status ?? 'cancelled',
    content: lastAssistantText(produced),
    usage,
    turns,
  });
  const failed = (error: string): TurnOutcome => ({ status: 'failed', content: lastAssistantText(produced), error, usage, turns });
  const record = async (items: Item[]) => {
    for (const item of items) {
      o.history.push(item);
      produced.push(item);
      o.log.append({ type: 'item', item });
    }
    await o.log.flush();
  };
  const request = (input: readonly Item[], tools: ModelRequest['tools'] = o.toolbox.tools): ModelRequest => ({
    model: o.model,
    instructions: o.instructions,
    input,
    tools,
    ...(o.reasoningEffort ? { reasoningEffort: o.reasoningEffort } : {}),
    ...(o.cacheKey ? { cacheKey: o.cacheKey } : {}),
  });
  const onRetry = (i: { attempt: number; delayMs: number; reason: string }) =>
    o.report(`model request failed (${i.reason}); retry ${i.attempt} in ${(i.delayMs / 1000).toFixed(1)} s`, 'warning');

  for (;;) {
    if (o.signal.aborted) return stopped();
    if (lastContext >= o.compactThreshold * o.contextWindow) {
      // (Only the opening and the user's own messages: nothing a summary would shorten.)
      if (hasWorkToCompact(o)) {
        o.report(
          overflowed !== undefined
            ? `compacting the conversation (the endpoint refused about ${overflowed} tokens as too long)`
            : `compacting the conversation (about ${lastContext} of ${o.contextWindow} tokens in use)`,
        );
        const compacted = await compact(o, usage, request, onRetry, overflowed);
        if (!compacted.ok) return o.signal.aborted ? stopped() : failed(compacted.error);
      }
      lastContext = 0;
      overflowed = undefined;
    }
    if (turns >= o.maxTurns) {
      o.report(`stopped after ${turns} model turns (max_turns)`, 'warning');
      return { status: 'max_turns', content: lastAssistantText(produced), usage, turns };
    }

    turns++;
    o.observe?.request(turns);
    const res = await o.client.complete(
      { ...request(o.history), ...(o.answer && sendSchema ? { outputSchema: o.answer.schema } : {}) },
      { signal: o.signal, onRetry },
    );
    if (!res.ok) {
      if (o.signal.aborted) return stopped();
      // A context overflow the usage numbers did not predict: compact once and try again.
      if (!compactedAfterOverflow && isOverflow(res.error.message)) {
        compactedAfterOverflow = true;
        turns--;
        lastContext = Number.POSITIVE_INFINITY;
        overflowed = estimateTokens(o.history);
        continue;
      }
      if (sendSchema && res.error.code === 'model_bad_request') {
        sendSchema = false;
        turns--;
        o.report(`the endpoint refused structured output (${res.error.message.slice(0, 120)}); asking for JSON in the instructions only`, 'warning');
        continue;
      }
      return failed(formatFailure(res.error));
    }
    const response = res.value;
    addUsage(usage, response.usage);
    o.log.append({ type: 'usage', usage: response.usage });
    await record(response.items);
    o.observe?.response(response.items);
    o.onTurn?.(turns, usage);
    lastContext = response.usageReported ? response.usage.input_tokens + response.usage.output_tokens : estimateTokens(o.history);

    if (response.incomplete) o.report(`turn ${turns}: the model's response was cut off (${response.incomplete})`, 'warning');
    const calls = response.items.filter(isToolCall);
    if (calls.length === 0) {
      const content = lastAssistantText(response.items);
      // An answer cut off by the output limit is not a finished answer.
      if (response.incomplete) {
        return failed(`The model's response was cut off (${response.incomplete}) before it finished; its partial answer is in content. delegate_reply can ask it to go on.`);
      }
      if (!o.answer) {
        o.report(`turn ${turns}: answered`);
        return { status: 'completed', content, usage, turns };
      }
      const checked = o.answer.check(content);
      if (checked.ok) {
        o.report(`turn ${turns}: answered`);
        return { status: 'completed', content, output: checked.value, usage, turns };
      }
      if (schemaRetries >= SCHEMA_RETRIES) return failed(`The final answer does not match output_schema: ${checked.message}`);
      schemaRetries++;
      o.report(`turn ${turns}: the answer does not match output_schema; asking again`, 'warning');
      await record([
        {
          type: 'message',
          role: 'user',
          content: `Your final answer does not match the required output schema: ${checked.message}\nReply with only the JSON value, nothing else.`,
        },
      ]);
      continue;
    }

    o.report(`turn ${turns}: ${calls.map(describeCall).join('; ')}`);
    o.stepDone?.();
    await runCalls(o, calls, record);
    if (!response.usageReported) lastContext = estimateTokens(o.history);
    else lastContext += estimateTokens(o.history.slice(-calls.length));
  }
}

/**
 * Runs one response's tool calls: read-only calls start together, a call that may change things
 * waits for everything before it and holds back everything after it. Each result is recorded as
 * it completes. After a cancel, calls still running get a short grace period, then a placeholder.
 */
async function runCalls(o: TurnOptions, calls: ToolCallItem[], record: (items: Item[]) => Promise<void>): Promise<void> {
  let barrier: Promise<unknown> = Promise.resolve();
  let readers: Promise<unknown>[] = [];
  const finished = new Set<string>();
  const all: Promise<void>[] = [];
  for (const call of calls) {
    const readOnly = o.toolbox.isReadOnly(call.name);
    const start = readOnly ? barrier : Promise.all([barrier, ...readers]);
    const done = start.then(async () => {
      if (o.signal.aborted) return;
      o.observe?.callStart(call);
      const outcome = await o.toolbox.run(call, o.toolContext);
      o.observe?.callDone(call, outcome.output, outcome.isError);
      reportOutcome(o, call, outcome.output, outcome.isError);
      await record([outputFor(call, outcome.output)]);
      finished.add(call.call_id);
    });
    all.push(done);
    if (readOnly) readers.push(done);
    else {
      barrier = done;
      readers = [];
    }
  }
  let onAbort = () => {};
  const grace = new Promise<void>((resolve) => {
    onAbort = () => void setTimeout(resolve, TOOL_GRACE_MS).unref?.();
    if (o.signal.aborted) onAbort();
    else o.signal.addEventListener('abort', onAbort, { once: true });
  });
  await Promise.race([Promise.allSettled(all), grace]);
  o.signal.removeEventListener('abort', onAbort);
  const missing = calls.filter((c) => !finished.has(c.call_id));
  if (missing.length > 0) {
    const why = (o.signal.reason as StopReason | undefined)?.status === 'timeout' ? 'the run timed out' : 'the run was cancelled';
    for (const c of missing) o.observe?.callDone(c, `aborted: ${why} before this call finished`, true);
    await record(missing.map((c) => outputFor(c, `aborted: ${why} before this call finished`)));
  }
}

/** Whether the endpoint's error says the request was longer than the model's context. */
const isOverflow = (message: string) => /context.{0,20}(length|window)|maximum context|too many tokens/i.test(message);

/** True when the history after the opening holds more than the user's own messages. */
function hasWorkToCompact(o: TurnOptions): boolean {
  return o.history.slice(o.openingItems).some((i) => !(i.type === 'message' && i.role === 'user'));
}

/** How many times a compaction request refused as too long is cut down further and sent again. */
const COMPACT_ATTEMPTS = 3;

async function compact(
  o: TurnOptions,
  usage: Usage,
  request: (input: readonly Item[], tools?: ModelRequest['tools']) => ModelRequest,
  onRetry: (i: { attempt: number; delayMs: number; reason: string }) => void,
  overflowed: number | undefined,
): Promise<{ ok: true } | { ok: false; error: string }> {
  const ask: Item = { type: 'message', role: 'user', content: COMPACT_PROMPT };
  // The summary request must fit where the history did not: within the compaction threshold, and
  // after an overflow within half of what was refused; each refusal halves it again.
  let budget = Math.floor(o.compactThreshold * o.contextWindow);
  if (overflowed !== undefined) budget = Math.min(budget, Math.floor(overflowed / 2));
  let res: Awaited<ReturnType<ModelClient['complete']>>;
  for (let attempt = 1; ; attempt++) {
    const input = fitHistory(o.history, o.openingItems, budget - estimateTokens([ask]));
    res = await o.client.complete(request([...input, ask], []), { signal: o.signal, onRetry });
    if (res.ok || o.signal.aborted || attempt >= COMPACT_ATTEMPTS || !isOverflow(res.error.message)) break;
    budget = Math.floor(estimateTokens(input) / 2);
  }
  if (!res.ok) return { ok: false, error: `Compacting the conversation failed: ${formatFailure(res.error)}` };
  addUsage(usage, res.value.usage);
  o.log.append({ type: 'usage', usage: res.value.usage });
  const summary = lastAssistantText(res.value.items);
  if (!summary) return { ok: false, error: 'Compacting the conversation failed: the model returned an empty summary.' };
  const opening = o.history.slice(0, o.openingItems);
  const userMessages = keepUserMessages(o.history.slice(o.openingItems), 80_000);
  const history: Item[] = [...opening, ...userMessages, { type: 'message', role: 'user', content: `${SUMMARY_PREFIX}${summary}` }];
  o.history.splice(0, o.history.length, ...history);
  o.log.append({ type: 'compacted', summary, history });
  await o.log.flush();
  return { ok: true };
}

/**
 * The history cut down to about `budget` tokens for a compaction request: reasoning left out,
 * then long tool outputs, patches and messages after the opening shortened (each to 8000
 * characters, then 4000, … 500), then the oldest items after the opening dropped. Calls and
 * their outputs stay paired.
 */
export function fitHistory(history: readonly Item[], openingItems: number, budget: number): Item[] {
  const opening = history.slice(0, openingItems);
  let rest: Item[] = history.slice(openingItems).filter((i) => i.type !== 'reasoning');
  const fits = () => estimateTokens(opening) + estimateTokens(rest) <= budget;
  for (let limit = 8000; !fits() && limit >= 500; limit = Math.floor(limit / 2)) rest = rest.map((i) => shorten(i, limit));
  while (!fits() && rest.length > 1) rest = closeDanglingCalls(rest.slice(1), '');
  return [...opening, ...rest];
}

function shorten(item: Item, limit: number): Item {
  const cut = (text: string) => (text.length <= limit ? text : `${text.slice(0, limit / 2)}\n[… ${text.length - limit} characters cut …]\n${text.slice(-limit / 2)}`);
  switch (item.type) {
    case 'function_call_output':
    case 'custom_tool_call_output':
      return { ...item, output: cut(item.output) };
    case 'custom_tool_call':
      return { ...item, input: cut(item.input) };
    case 'message':
      return { ...item, content: cut(item.content) };
    default:
      return item;
  }
}

/** The user's own messages (not earlier summaries), newest kept first within `maxChars`. */
function keepUserMessages(items: readonly Item[], maxChars: number): Item[] {
  const users = items.filter((i): i is Extract<Item, { type: 'message' }> => i.type === 'message' && i.role === 'user' && !i.content.startsWith(SUMMARY_PREFIX));
  const kept: Item[] = [];
  let left = maxChars;
  for (let i = users.length - 1; i >= 0 && left > 0; i--) {
    const text = users[i]!.content;
    kept.unshift({ type: 'message', role: 'user', content: text.length <= left ? text : `${text.slice(0, left)}\n[… cut]` });
    left -= text.length;
  }
  return kept;
}

/** About four characters per token: used when an endpoint reports no usage. */
export function estimateTokens(items: readonly Item[]): number {
  let chars = 0;
  for (const item of items) chars += JSON.stringify(item).length;
  return Math.ceil(chars / 4);
}

/** A short description of a tool call for progress messages. */
function describeCall(call: ToolCallItem): string {
  if (call.type === 'custom_tool_call') return `${call.name} (${patchFiles(call.input)})`;
  let args: Record<string, unknown> = {};
  try {
    args = JSON.parse(call.arguments || '{}') as Record<string, unknown>;
  } catch {
    return call.name;
  }
  const pick = (v: unknown) => (typeof v === 'string' ? (v.length > 80 ? `${v.slice(0, 77)}…` : v) : undefined);
  switch (call.name) {
    case 'exec_command':
      return `exec_command \`${pick(args.cmd) ?? ''}\`${args.sandbox_permissions === 'require_escalated' ? ' (asks to run outside the sandbox)' : ''}`;
    case 'apply_patch':
      return `apply_patch (${patchFiles(typeof args.patch === 'string' ? args.patch : '')})`;
    case 'update_plan':
      return 'update_plan';
    default: {
      const target = pick(args.path) ?? pick(args.pattern) ?? pick(args.session_id?.toString());
      return target ? `${call.name} ${target}` : call.name;
    }
  }
}

function patchFiles(patch: string): string {
  const files = [...patch.matchAll(/^\*\*\* (Add|Update|Delete) File: (.+)$/gm)].map((m) => m[2]!.trim());
  return files.length > 0 ? files.join(', ') : 'patch';
}

/** Reports the steps worth a line of their own: commands ending, patches applied or failing. */
function reportOutcome(o: TurnOptions, call: ToolCallItem, output: string, isError: boolean): void {
  if (call.name === 'exec_command' || call.name === 'write_stdin') {
    // The shell tools' first line is fixed (src/exec/format.ts); the output after it is the
    // command's own and may say anything.
    const head = output.split('\n', 1)[0] ?? '';
    const code = /^Process exited with code (-?\d+)$/.exec(head)?.[1];
    const running = /^Process running with session ID (\d+)$/.exec(head)?.[1];
    const what = call.name === 'exec_command' ? `command ${describeCall(call).replace(/^exec_command /, '')}` : `session ${sessionOf(call) ?? running ?? '?'}`;
    if (code !== undefined) o.report(`${what} exited with code ${code}`);
    else if (running !== undefined) o.report(call.name === 'exec_command' ? `${what} still running (session ${running})` : `${what} still running`);
    else if (isError) o.report(`${what} failed: ${firstLine(output)}`, 'warning');
    if (code !== undefined || isError) o.stepDone?.();
  } else if (call.name === 'apply_patch') {
    if (isError) o.report(`patch failed: ${firstLine(output)}`, 'warning');
    else {
      const files = [...output.matchAll(/^([AMD]) (.+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
      o.report(`patch applied${files.length ? `: ${files.join(', ')}` : ''}`);
    }
    o.stepDone?.();
  }
}

/** write_stdin's session_id argument. */
function sessionOf(call: ToolCallItem): string | undefined {
  if (call.type !== 'function_call') return undefined;
  try {
    const id = (JSON.parse(call.arguments || '{}') as { session_id?: unknown }).session_id;
    return typeof id === 'number' || typeof id === 'string' ? String(id) : undefined;
  } catch {
    return undefined;
  }
}
