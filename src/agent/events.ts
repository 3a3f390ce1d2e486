// A run's steps as structured events, shaped like `codex exec --json` (thread.started,
// turn.started, item.started|updated|completed, turn.completed|failed) so that a script written
// for Codex's JSONL reads agentbox's too. `agentbox exec` prints them (`--json`) or renders them
// for a human; the Codex backend passes Codex's own items through. Items agentbox adds: `tool_call`
// (its other tools: read_file, grep, git_status, …), and `result` on the final event.
//
// ItemEvents turns what the loop sees (a request sent, a response's items, a tool call starting
// and ending) into these events, or passes the Codex CLI's own items through (item()); at the end
// of the turn it closes every item still open (a command still running is killed with the run)
// as failed. It decides nothing about the run.
import { firstLine } from '../util/format.js';
import type { DelegateResult } from './run.js';
import type { Item, ToolCallItem, Usage } from './items.js';

export type ItemStatus = 'in_progress' | 'completed' | 'failed';

export type ExecItem =
  | { id: string; type: 'agent_message'; text: string }
  | { id: string; type: 'reasoning'; text: string }
  | { id: string; type: 'command_execution'; command: string; aggregated_output: string; exit_code: number | null; status: ItemStatus }
  | { id: string; type: 'file_change'; changes: Array<{ path: string; kind: 'add' | 'delete' | 'update' }>; status: ItemStatus }
  | { id: string; type: 'tool_call'; tool: string; arguments: unknown; status: ItemStatus; error?: string }
  | { id: string; type: 'todo_list'; items: Array<{ text: string; completed: boolean }> }
  | { id: string; type: 'error'; message: string };

/** Token counts as `codex exec --json` names them. */
export interface ExecUsage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
}

export type RunEvent =
  /** `model` is left out when Codex's own configuration chooses it. */
  | { type: 'thread.started'; thread_id: string; turn: number; model?: string; cwd: string; backend: 'agentbox' | 'codex' }
  | { type: 'turn.started' }
  | { type: 'item.started' | 'item.updated' | 'item.completed'; item: ExecItem }
  | { type: 'turn.completed'; usage: ExecUsage; result: DelegateResult }
  | { type: 'turn.failed'; error: { message: string }; result: DelegateResult }
  /** A model request is in flight (a spinner's cue); `agentbox exec --json` leaves it out. */
  | { type: 'model.request'; turn: number };

const execUsage = (u: Usage): ExecUsage => ({
  input_tokens: u.input_tokens,
  cached_input_tokens: u.cached_input_tokens,
  output_tokens: u.output_tokens,
  reasoning_output_tokens: u.reasoning_tokens,
});

/** The event that ends a turn: turn.completed, or turn.failed saying why. */
export function turnEndEvent(result: DelegateResult): RunEvent {
  if (result.status === 'completed') return { type: 'turn.completed', usage: execUsage(result.usage), result };
  const why: Record<string, string> = {
    failed: result.error ?? 'the run failed',
    cancelled: 'the run was cancelled',
    timeout: 'the run reached timeout_ms',
    max_turns: 'the run reached max_turns',
  };
  return { type: 'turn.failed', error: { message: why[result.status] ?? result.status }, result };
}

export type ItemPhase = 'item.started' | 'item.updated' | 'item.completed';

/** Watches one turn of the agent loop (see loop.ts `observe`) or of the Codex CLI, and emits its items. */
export class ItemEvents {
  #next = 0;
  readonly #open = new Map<string, ExecItem>();
  /** Commands still running in a shell session, by session id (write_stdin finishes them). */
  readonly #sessions = new Map<number, Extract<ExecItem, { type: 'command_execution' }>>();
  /** Items passed through (the Codex CLI's) that started and have not completed, by id. */
  readonly #passed = new Map<string, ExecItem>();
  #plan: Extract<ExecItem, { type: 'todo_list' }> | undefined;

  /**
   * `idPrefix` names the items this class makes up (warnings, and the loop's items); the Codex
   * backend gives its own (`agentbox_`), so they never share an id with Codex's `item_N`.
   */
  constructor(
    private readonly emit: (e: RunEvent) => void,
    private readonly idPrefix = 'item_',
  ) {}

  /** An item someone else made (the Codex CLI's), passed through as is and tracked until it completes. */
  item(phase: ItemPhase, item: ExecItem): void {
    if (phase === 'item.completed') this.#passed.delete(item.id);
    else this.#passed.set(item.id, item);
    this.emit({ type: phase, item });
  }

  request(turn: number): void {
    this.emit({ type: 'model.request', turn });
  }

  /** A response's messages and reasoning (its tool calls are reported as they run). */
  response(items: readonly Item[]): void {
    for (const item of items) {
      if (item.type === 'message' && item.role === 'assistant' && item.content.trim()) {
        this.emit({ type: 'item.completed', item: { id: this.#id(), type: 'agent_message', text: item.content } });
      } else if (item.type === 'reasoning' && item.summary.length > 0) {
        this.emit({ type: 'item.completed', item: { id: this.#id(), type: 'reasoning', text: item.summary.join('\n') } });
      }
    }
  }

  callStart(call: ToolCallItem): void {
    const args = argsOf(call);
    let item: ExecItem | undefined;
    if (call.name === 'exec_command') {
      item = { id: this.#id(), type: 'command_execution', command: String(args.cmd ?? ''), aggregated_output: '', exit_code: null, status: 'in_progress' };
    } else if (call.name === 'apply_patch') {
      const text = call.type === 'custom_tool_call' ? call.input : String(args.patch ?? '');
      item = { id: this.#id(), type: 'file_change', changes: patchChanges(text), status: 'in_progress' };
    } else if (call.name !== 'update_plan' && call.name !== 'write_stdin') {
      item = { id: this.#id(), type: 'tool_call', tool: call.name, arguments: args, status: 'in_progress' };
    }
    if (!item) return;
    this.#open.set(call.call_id, item);
    this.emit({ type: 'item.started', item });
  }

  callDone(call: ToolCallItem, output: string, isError: boolean): void {
    if (call.name === 'update_plan') {
      if (isError) return;
      const plan = (argsOf(call).plan ?? []) as Array<{ step?: string; status?: string }>;
      const items = plan.map((s) => ({ text: String(s.step ?? ''), completed: s.status === 'completed' }));
      const first = this.#plan === undefined;
      this.#plan = { id: this.#plan?.id ?? this.#id(), type: 'todo_list', items };
      this.emit({ type: first ? 'item.started' : 'item.updated', item: this.#plan });
      return;
    }
    if (call.name === 'write_stdin') {
      const session = Number(argsOf(call).session_id);
      const command = this.#sessions.get(session);
      const code = exitCode(output);
      if (command && code !== undefined) {
        this.#sessions.delete(session);
        this.emit({ type: 'item.completed', item: { ...command, aggregated_output: command.aggregated_output + commandOutput(output), exit_code: code, status: code === 0 ? 'completed' : 'failed' } });
      }
      return;
    }
    const open = this.#open.get(call.call_id);
    if (!open) return;
    this.#open.delete(call.call_id);
    if (open.type === 'command_execution') {
      const code = exitCode(output);
      const session = /running with session ID (\d+)/i.exec(output)?.[1];
      if (code === undefined && session !== undefined && !isError) {
        const running = { ...open, aggregated_output: commandOutput(output) };
        this.#sessions.set(Number(session), running);
        this.emit({ type: 'item.updated', item: running });
        return;
      }
      this.emit({ type: 'item.completed', item: { ...open, aggregated_output: isError && code === undefined ? output : commandOutput(output), exit_code: code ?? null, status: !isError && code === 0 ? 'completed' : 'failed' } });
    } else if (open.type === 'file_change') {
      this.emit({ type: 'item.completed', item: { ...open, status: isError ? 'failed' : 'completed' } });
    } else if (open.type === 'tool_call') {
      this.emit({ type: 'item.completed', item: { ...open, status: isError ? 'failed' : 'completed', ...(isError ? { error: firstLine(output, 200) } : {}) } });
    }
  }

  warning(message: string): void {
    this.emit({ type: 'item.completed', item: { id: this.#id(), type: 'error', message } });
  }

  /**
   * The turn ended: the plan is final, and every item still open ends as failed (a call that never
   * returned, a command still running in a session: the run's end killed it).
   */
  finish(): void {
    if (this.#plan) this.emit({ type: 'item.completed', item: this.#plan });
    this.#plan = undefined;
    const open = [...this.#open.values(), ...this.#sessions.values(), ...this.#passed.values()];
    this.#open.clear();
    this.#sessions.clear();
    this.#passed.clear();
    for (const item of open) this.emit({ type: 'item.completed', item: failed(item) });
  }

  #id(): string {
    return `${this.idPrefix}${this.#next++}`;
  }
}

/** An item that never completed, as completed with status failed (items without a status as they are). */
function failed(item: ExecItem): ExecItem {
  switch (item.type) {
    case 'command_execution':
      return { ...item, exit_code: item.exit_code ?? null, status: 'failed' };
    case 'file_change':
      return { ...item, status: 'failed' };
    case 'tool_call':
      return { ...item, status: 'failed', error: item.error ?? 'the run ended before this call finished' };
    default:
      return 'status' in item ? ({ ...(item as ExecItem), status: 'failed' } as ExecItem) : item;
  }
}

function argsOf(call: ToolCallItem): Record<string, unknown> {
  if (call.type === 'custom_tool_call') return { input: call.input };
  try {
    const v = JSON.parse(call.arguments || '{}') as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The files a patch names, as file_change entries. */
export function patchChanges(patch: string): Array<{ path: string; kind: 'add' | 'delete' | 'update' }> {
  const out: Array<{ path: string; kind: 'add' | 'delete' | 'update' }> = [];
  for (const m of patch.matchAll(/^\*\*\* (Add|Update|Delete) File: (.+)$|^\*\*\* Move to: (.+)$/gm)) {
    if (m[3]) {
      const last = out.at(-1);
      if (last) last.path = m[3].trim();
      continue;
    }
    out.push({ path: m[2]!.trim(), kind: m[1] === 'Add' ? 'add' : m[1] === 'Delete' ? 'delete' : 'update' });
  }
  return out;
}

const exitCode = (output: string): number | undefined => {
  const m = /^Process exited with code (-?\d+)/m.exec(output);
  return m ? Number(m[1]) : undefined;
};

/** The command's own output from exec_command's report (after its `Output:` header line). */
function commandOutput(report: string): string {
  const m = /^Output(?: \([^)]*\))?:(?: \(none\))?$/m.exec(report);
  if (!m) return '';
  if (m[0].endsWith('(none)')) return '';
  return report.slice(m.index + m[0].length + 1);
}
