// Threads on disk: one append-only JSONL file per thread under $AGENTBOX_HOME/threads/, every line
// `{ts, type, ...}`, written as each step happens so that a killed server loses at most the step
// in flight. Loading replays the lines into the conversation (a `compacted` line replaces the
// history before it); a torn last line is ignored, a corrupt line elsewhere is skipped and
// reported. `index.jsonl` beside them lists threads (one line per change, the last line per id
// wins). A lock file per thread keeps one turn at a time, across server processes too.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { appendFile, mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ApprovalPolicy, ReasoningEffort, SandboxMode } from '../config/index.js';
import { fail, ok, type Result } from '../util/result.js';
import type { FileChange } from './changes.js';
import { addUsage, closeDanglingCalls, zeroUsage, type Item, type Usage } from './items.js';

export type RunStatus = 'completed' | 'failed' | 'cancelled' | 'timeout' | 'max_turns';
/** A thread's state as listed: `interrupted` when the server died during a turn. */
export type ThreadStatus = RunStatus | 'running' | 'interrupted';

/** What a thread was started with; delegate_reply keeps these. */
export interface ThreadMeta {
  id: string;
  created: string;
  title: string;
  /** Where the subagent works (inside the worktree for worktree threads). */
  cwd: string;
  model: string;
  provider: string;
  sandbox: SandboxMode;
  approval_policy: ApprovalPolicy;
  network: boolean;
  reasoning_effort?: ReasoningEffort;
  base_instructions?: string;
  developer_instructions?: string;
  output_schema?: Record<string, unknown>;
  worktree?: { repo: string; path: string; branch: string };
  /** Who runs the turns: agentbox's own loop (the default) or the Codex CLI. */
  backend?: Backend;
}

export type Backend = 'agentbox' | 'codex';

/** What a codex thread records as its model when Codex's own configuration chooses it. */
export const CODEX_CONFIGURED_MODEL = "(Codex's configured model)";
/** What a codex thread records as its provider when Codex's own configuration chooses it. */
export const CODEX_CONFIGURED_PROVIDER = 'codex';
/** True for the model a codex thread records when it names none (earlier versions recorded "codex default"). */
export const isCodexConfiguredModel = (model: string): boolean => model === CODEX_CONFIGURED_MODEL || model === 'codex default';

/** The thread's model for people to read: a codex thread that names none says Codex chooses it. */
export function modelLabel(meta: Pick<ThreadMeta, 'model' | 'backend'>): string {
  return meta.backend === 'codex' && isCodexConfiguredModel(meta.model) ? CODEX_CONFIGURED_MODEL : meta.model;
}

export interface TurnEnd {
  turn: number;
  status: RunStatus;
  content: string;
  error?: string;
  usage: Usage;
  duration_ms: number;
  files_changed: number;
  /** The rest of the call's result, so delegate_status can return it after a restart. */
  files?: FileChange[];
  diff?: string;
  output?: unknown;
  /** Model responses in the call. */
  model_turns?: number;
}

export type ThreadLine =
  | { ts: string; type: 'thread'; meta: ThreadMeta }
  | { ts: string; type: 'turn_started'; turn: number; prompt: string }
  | { ts: string; type: 'item'; item: Item }
  | { ts: string; type: 'usage'; usage: Usage }
  | { ts: string; type: 'plan'; plan: Array<{ step: string; status: string }>; explanation?: string }
  | { ts: string; type: 'compacted'; summary: string; history: Item[] }
  /** The Codex CLI's own id for a codex-backend thread (what `codex exec resume` takes). */
  | { ts: string; type: 'codex_thread'; id: string }
  /** Codex's token count for its whole session so far, as it reported it (the next turn's usage is what it adds). */
  | { ts: string; type: 'codex_usage'; total: Usage }
  | ({ ts: string; type: 'turn_ended' } & TurnEnd);

/** A line before its timestamp is added. */
export type NewLine = DistributiveOmit<ThreadLine, 'ts'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface LoadedThread {
  meta: ThreadMeta;
  lines: ThreadLine[];
  /** The conversation to continue from (after compactions, dangling calls closed). */
  history: Item[];
  turns: number;
  status: ThreadStatus;
  usage: Usage;
  /** Lines that could not be read (corrupt, not the torn last line). */
  skipped: number;
  /** The Codex thread id of a codex-backend thread, once Codex named it. */
  codexThreadId?: string;
  /** Codex's last reported session total (codex-backend threads). */
  codexUsage?: Usage;
}

export interface ThreadSummary {
  id: string;
  title: string;
  cwd: string;
  created: string;
  updated: string;
  status: ThreadStatus;
  turns: number;
  model: string;
  branch?: string;
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A time-ordered UUID (version 7), so thread files sort by creation. */
export function newThreadId(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const isThreadId = (id: string): boolean => ID.test(id);

export class ThreadStore {
  constructor(readonly dir: string) {}

  file(id: string): string {
    return path.join(this.dir, `${id}.jsonl`);
  }

  /** Creates a thread file with its meta line and indexes it. */
  async create(meta: ThreadMeta): Promise<ThreadLog> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const log = await ThreadLog.open(this.file(meta.id), false);
    log.append({ type: 'thread', meta });
    await log.flush();
    return log;
  }

  /** Opens an existing thread for appending (after a torn last line, a newline first). */
  openLog(id: string): Promise<ThreadLog> {
    return ThreadLog.open(this.file(id), true);
  }

  async load(id: string): Promise<Result<LoadedThread>> {
    if (!isThreadId(id)) return fail('invalid_thread_id', `${JSON.stringify(id)} is not a thread id.`, 'Use the thread_id a delegate call returned.');
    let text: string;
    try {
      text = await readFile(this.file(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return fail('thread_not_found', `Thread ${id} not found in ${this.dir}.`, 'List threads with the resource agentbox://threads.');
      }
      throw err;
    }
    const { lines, skipped } = parseLines(text);
    const first = lines[0];
    if (!first || first.type !== 'thread') return fail('thread_corrupt', `Thread file ${this.file(id)} has no readable header line.`);
    return ok(replay(first.meta, lines, skipped));
  }

  /** Records a thread's current summary in the index. */
  async index(summary: ThreadSummary): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await appendFile(path.join(this.dir, 'index.jsonl'), `${JSON.stringify(summary)}\n`);
  }

  /** Every indexed thread, most recently updated first. */
  async list(): Promise<ThreadSummary[]> {
    let text: string;
    try {
      text = await readFile(path.join(this.dir, 'index.jsonl'), 'utf8');
    } catch {
      return [];
    }
    const byId = new Map<string, ThreadSummary>();
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const s = JSON.parse(line) as ThreadSummary;
        if (s && typeof s.id === 'string') byId.set(s.id, { ...byId.get(s.id), ...s });
      } catch {
        // a torn or corrupt index line: the thread's own file stays authoritative
      }
    }
    // A thread indexed as running whose lock no live process holds was cut off by a dead server.
    return [...byId.values()]
      .map((t) => (t.status === 'running' && !this.isLocked(t.id) ? { ...t, status: 'interrupted' as const } : t))
      .sort((a, b) => b.updated.localeCompare(a.updated));
  }

  /** A cheap token that changes when the thread's file grows or its lock changes hands (no parse). */
  fingerprint(id: string): string {
    let file = 'missing';
    try {
      const st = statSync(this.file(id));
      file = `${st.size}:${st.mtimeMs}`;
    } catch {
      // A missing file is a state of its own.
    }
    return `${file}:${this.isLocked(id)}`;
  }

  /** True when a live process holds the thread's turn lock (a turn is running somewhere). */
  isLocked(id: string): boolean {
    const holder = readLock(path.join(this.dir, `${id}.lock`));
    return holder !== undefined && holder.host === os.hostname() && isAlive(holder.pid, holder.start);
  }

  /**
   * Takes the thread's turn lock, or says who holds it. A lock left by a dead process (checked by
   * pid and process start time, so a reused pid does not count) is taken over.
   */
  lock(id: string): Result<() => void> {
    const file = path.join(this.dir, `${id}.lock`);
    const me = { pid: process.pid, start: processStart(process.pid), host: os.hostname() };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        writeSync(fd, JSON.stringify(me));
        closeSync(fd);
        let released = false;
        return ok(() => {
          if (released) return;
          released = true;
          try {
            unlinkSync(file);
          } catch {
            // already gone
          }
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = readLock(file);
        if (holder && holder.host === me.host && isAlive(holder.pid, holder.start)) {
          const where = holder.pid === process.pid ? 'this server' : `agentbox process ${holder.pid}`;
          return fail(
            'thread_busy',
            `Thread ${id} is already running a turn in ${where}.`,
            'One turn at a time per thread: wait for that call to finish (or cancel it), then call delegate_reply again.',
          );
        }
        try {
          unlinkSync(file);
        } catch {
          // someone else cleaned it up first
        }
      }
    }
    return fail('thread_busy', `Thread ${id} is locked by another process.`, 'Try again in a moment.');
  }
}

/**
 * Appends lines to one thread file. Lines are buffered until `flush()` (the loop flushes at every
 * step), then written with one append, so a step costs one write however many lines it has.
 */
export class ThreadLog {
  #pending = '';
  #chain: Promise<void> = Promise.resolve();
  #error: unknown;

  private constructor(
    private readonly handle: FileHandle,
    readonly file: string,
  ) {}

  static async open(file: string, existing: boolean): Promise<ThreadLog> {
    const handle = await open(file, existing ? 'a+' : 'wx', 0o600);
    const log = new ThreadLog(handle, file);
    if (existing) {
      const { size } = await handle.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        // A torn last line (the server died mid-write) must not swallow the next line.
        if (last[0] !== 0x0a) log.#pending += '\n';
      }
    }
    return log;
  }

  append(line: NewLine): void {
    this.#pending += `${JSON.stringify({ ts: new Date().toISOString(), ...line })}\n`;
  }

  /** Writes everything appended so far; throws if a write failed (disk full, directory removed). */
  async flush(): Promise<void> {
    if (this.#pending !== '') {
      const text = this.#pending;
      this.#pending = '';
      this.#chain = this.#chain.then(() => this.handle.appendFile(text, 'utf8')).catch((err) => void (this.#error ??= err));
    }
    await this.#chain;
    if (this.#error) throw this.#error;
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    await this.handle.close().catch(() => undefined);
  }
}

/** Parses JSONL, ignoring a torn last line and skipping (and counting) other unreadable lines. */
export function parseLines(text: string): { lines: ThreadLine[]; skipped: number } {
  const raw = text.split('\n');
  const tornTail = !text.endsWith('\n');
  const lines: ThreadLine[] = [];
  let skipped = 0;
  raw.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      lines.push(JSON.parse(line) as ThreadLine);
    } catch {
      if (!(tornTail && i === raw.length - 1)) skipped++;
    }
  });
  return { lines, skipped };
}

/** Rebuilds the conversation and state from a thread's lines. */
export function replay(meta: ThreadMeta, lines: ThreadLine[], skipped = 0): LoadedThread {
  let history: Item[] = [];
  let turns = 0;
  let status: ThreadStatus = 'completed';
  let open = false;
  let codexThreadId: string | undefined;
  let codexUsage: Usage | undefined;
  const usage = zeroUsage();
  for (const line of lines) {
    switch (line.type) {
      case 'codex_thread':
        codexThreadId = line.id;
        break;
      case 'codex_usage':
        codexUsage = line.total;
        break;
      case 'item':
        history.push(line.item);
        break;
      case 'compacted':
        history = [...line.history];
        break;
      case 'usage':
        addUsage(usage, line.usage);
        break;
      case 'turn_started':
        turns = Math.max(turns, line.turn);
        open = true;
        break;
      case 'turn_ended':
        status = line.status;
        open = false;
        break;
    }
  }
  if (open) status = 'interrupted';
  history = closeDanglingCalls(history, 'aborted: the run stopped before this call returned a result');
  return { meta, lines, history, turns, status, usage, skipped, ...(codexThreadId ? { codexThreadId } : {}), ...(codexUsage ? { codexUsage } : {}) };
}

/** The start and (when it ended) the end of one turn; the last turn without `turn`. */
export function turnLines(thread: LoadedThread, turn = thread.turns): { started?: Extract<ThreadLine, { type: 'turn_started' }>; ended?: Extract<ThreadLine, { type: 'turn_ended' }> } {
  let started: Extract<ThreadLine, { type: 'turn_started' }> | undefined;
  let ended: Extract<ThreadLine, { type: 'turn_ended' }> | undefined;
  for (const line of thread.lines) {
    if (line.type === 'turn_started' && line.turn === turn) started = line;
    else if (line.type === 'turn_ended' && line.turn === turn) ended = line;
  }
  return { ...(started ? { started } : {}), ...(ended ? { ended } : {}) };
}

function readLock(file: string): { pid: number; start?: number; host: string } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { pid: number; start?: number; host: string };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number, start: number | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStart(pid);
  return start === undefined || now === undefined || now === start;
}

/** A process's start time in clock ticks since boot (Linux /proc), to tell a reused pid apart. */
function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}
