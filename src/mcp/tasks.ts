// MCP tasks (protocol 2025-11-25, the SDK's experimental task API): a tool that can run as a task
// (ToolSpec.task) starts its work without waiting for it and names a TaskSource that answers for
// it from then on. This store is the SDK's TaskStore (it answers tasks/get, tasks/result,
// tasks/cancel and tasks/list) as a thin view over those sources: it keeps only what the protocol
// adds (creation time, ttl, poll interval, a cancel in progress), so a task is as durable as the
// work behind it. A delegate task is a thread turn: its state survives a restart in the thread's
// file, and an id this process never saw is still answered by asking the sources.
//
// One store per Runtime, shared by every MCP session: like threads, a task is not tied to the
// session that created it (HTTP sessions come and go; the task id is the capability).
import type { CreateTaskOptions, TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import type { CallToolResult, Request, RequestId, Result, Task } from '@modelcontextprotocol/sdk/types.js';

export type TaskState = { status: 'working' | 'completed' | 'failed' | 'cancelled'; message?: string; createdAt?: string };

/** The work behind tasks of one kind (e.g. delegate thread turns). */
export interface TaskSource {
  /** The task's state now, or undefined when the id is not one of this source's. */
  state(taskId: string): Promise<TaskState | undefined>;
  /** The tool result, once the work has ended (waits for it otherwise). */
  result(taskId: string): Promise<CallToolResult>;
  /**
   * Asks the work to stop (it then ends cancelled); false when it is not running in this process
   * or has already ended (or settled on its outcome).
   */
  cancel(taskId: string): boolean;
}

interface Entry {
  source?: TaskSource;
  createdAt: string;
  lastUpdatedAt: string;
  ttl: number | null;
  pollInterval: number;
  cancelled?: boolean;
  lastStatus?: string;
  /** A task whose work never started (or whose result was stored): its status and result are fixed. */
  fixed?: { status: 'completed' | 'failed'; result: CallToolResult; message: string };
}

/** How often a client is asked to poll. */
export const TASK_POLL_MS = 1000;
/** Tasks this process remembers beyond their sources (oldest forgotten first). */
const MAX_ENTRIES = 1000;
/** tasks/list shows the newest this many. */
const LIST_MAX = 100;

export class SourceTaskStore implements TaskStore {
  readonly #entries = new Map<string, Entry>();
  readonly #sources = new Set<TaskSource>();

  /** A source to ask about task ids this process did not create (after a restart). */
  addSource(source: TaskSource): void {
    this.#sources.add(source);
  }

  /**
   * Registers a task the tool started; `context.taskId` and `context.source` say which (or
   * `context.failed`, a result for work that could not start).
   */
  async createTask(params: CreateTaskOptions, _requestId: RequestId, _request: Request, _sessionId?: string): Promise<Task> {
    const ctx = (params.context ?? {}) as { taskId?: string; source?: TaskSource; failed?: CallToolResult };
    const now = new Date().toISOString();
    const taskId = ctx.taskId ?? `failed-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const entry: Entry = { createdAt: now, lastUpdatedAt: now, ttl: params.ttl ?? null, pollInterval: params.pollInterval ?? TASK_POLL_MS };
    if (ctx.source) {
      entry.source = ctx.source;
      this.#sources.add(ctx.source);
    }
    if (ctx.failed) {
      const first = ctx.failed.content.find((c) => c.type === 'text');
      entry.fixed = { status: 'failed', result: ctx.failed, message: first && first.type === 'text' ? first.text.split('\n')[0]! : 'the task could not start' };
    }
    this.#entries.set(taskId, entry);
    this.#trim();
    return (await this.getTask(taskId))!;
  }

  async getTask(taskId: string): Promise<Task | null> {
    const entry = this.#entries.get(taskId);
    if (entry?.fixed) return task(taskId, entry, { status: entry.fixed.status, message: entry.fixed.message });
    if (entry?.cancelled) return task(taskId, entry, { status: 'cancelled', message: 'Cancelled at the client\'s request.' });
    const found = await this.#state(taskId, entry?.source);
    if (!found) return null;
    const { state, source } = found;
    const known = entry ?? this.#remember(taskId, source, state.createdAt);
    if (known.lastStatus !== state.status) {
      if (known.lastStatus !== undefined) known.lastUpdatedAt = new Date().toISOString();
      known.lastStatus = state.status;
    }
    return task(taskId, known, state);
  }

  async storeTaskResult(taskId: string, status: 'completed' | 'failed', result: Result): Promise<void> {
    const entry = this.#entries.get(taskId) ?? this.#remember(taskId, undefined);
    entry.fixed = { status, result: result as CallToolResult, message: status };
    entry.lastUpdatedAt = new Date().toISOString();
  }

  async getTaskResult(taskId: string): Promise<Result> {
    const entry = this.#entries.get(taskId);
    if (entry?.fixed) return entry.fixed.result;
    const found = await this.#state(taskId, entry?.source);
    if (!found) throw new Error(`Task ${taskId} not found.`);
    return found.source.result(taskId);
  }

  async updateTaskStatus(taskId: string, status: Task['status'], _message?: string): Promise<void> {
    const entry = this.#entries.get(taskId);
    const found = entry?.source ? { source: entry.source } : await this.#state(taskId, undefined);
    if (!found) throw new Error(`Task ${taskId} not found.`);
    if (status !== 'cancelled') return; // the work's own state is the status; only a cancel comes from outside
    if (!found.source.cancel(taskId)) {
      // The work ended (or settled its outcome) as the cancel came in: it keeps the status it ends
      // with, which the SDK replies with. result() waits for a settled run to finish saving.
      await found.source.result(taskId).catch(() => undefined);
      const now = await found.source.state(taskId);
      if (now && now.status !== 'working') return;
      throw new Error(`Task ${taskId} is not running in this server, so it cannot be cancelled here.`);
    }
    const known = entry ?? this.#remember(taskId, found.source);
    known.cancelled = true;
    known.lastUpdatedAt = new Date().toISOString();
  }

  async listTasks(_cursor?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const tasks: Task[] = [];
    for (const id of [...this.#entries.keys()].reverse().slice(0, LIST_MAX)) {
      const t = await this.getTask(id);
      if (t) tasks.push(t);
    }
    return { tasks };
  }

  async #state(taskId: string, source: TaskSource | undefined): Promise<{ state: TaskState; source: TaskSource } | undefined> {
    for (const s of source ? [source] : this.#sources) {
      const state = await s.state(taskId);
      if (state) return { state, source: s };
    }
    return undefined;
  }

  #remember(taskId: string, source: TaskSource | undefined, createdAt?: string): Entry {
    const now = new Date().toISOString();
    const entry: Entry = { createdAt: createdAt ?? now, lastUpdatedAt: now, ttl: null, pollInterval: TASK_POLL_MS, ...(source ? { source } : {}) };
    this.#entries.set(taskId, entry);
    this.#trim();
    return entry;
  }

  #trim(): void {
    for (const id of this.#entries.keys()) {
      if (this.#entries.size <= MAX_ENTRIES) break;
      this.#entries.delete(id);
    }
  }
}

function task(taskId: string, entry: Entry, state: TaskState): Task {
  return {
    taskId,
    status: state.status,
    ...(state.message ? { statusMessage: state.message } : {}),
    ttl: entry.ttl,
    createdAt: entry.createdAt,
    lastUpdatedAt: entry.lastUpdatedAt,
    pollInterval: entry.pollInterval,
  };
}
