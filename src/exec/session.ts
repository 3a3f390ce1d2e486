// One running command: its child process, the output not yet read (head + tail, 1 MiB), its
// timeout, and the waits that tool calls do on it. Sessions live in a SessionTable per MCP
// session (ids are unique per server) and in the ExecHost, which ends them all at shutdown.
import { CAPTURE_BYTES, HeadTailBuffer } from './output.js';
import type { Child, Exit } from './process.js';

/** Exit code reported for a command killed because timeout_ms passed (as GNU timeout does). */
export const TIMEOUT_EXIT_CODE = 124;

/** The longest timeout a timer can hold (2^31 - 1 ms, about 24.8 days); longer ones would fire at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface SessionInfo {
  id: number;
  command: string;
  cwd: string;
  tty: boolean;
  /** `read-only`, `workspace-write`, or `danger-full-access` for commands outside the sandbox. */
  sandbox: string;
  timeoutMs: number;
}

export interface Finished extends Exit {
  timedOut: boolean;
  killed: boolean;
}

export class ExecSession {
  readonly info: SessionInfo;
  readonly startedAt = performance.now();
  readonly startedAtIso = new Date().toISOString();
  #child: Child | undefined;
  #buffer = new HeadTailBuffer(CAPTURE_BYTES);
  #finished: Finished | undefined;
  #endedAt: number | undefined;
  #timedOut = false;
  #killed = false;
  #timer: NodeJS.Timeout | undefined;
  #wakers = new Set<() => void>();
  #notes: string[] = [];
  readonly #ended: Promise<Finished>;
  #resolveEnded!: (f: Finished) => void;

  constructor(info: SessionInfo) {
    // Node fires a longer timer at once (TimeoutOverflowWarning): a huge timeout_ms means "no limit" here.
    this.info = { ...info, timeoutMs: Math.min(Math.max(1, info.timeoutMs), MAX_TIMEOUT_MS) };
    this.#ended = new Promise((r) => (this.#resolveEnded = r));
  }

  /** Takes output from the child (before or after attach: the child starts inside attach's caller). */
  onData = (chunk: Buffer): void => {
    this.#buffer.push(chunk);
    this.#wake();
  };

  /** Binds the started child; `cleanup` runs after it has exited and before waiters see the end. */
  attach(child: Child, cleanup: () => Promise<void>): void {
    this.#child = child;
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      void child.terminate();
    }, this.info.timeoutMs);
    this.#timer.unref();
    if (this.#killed) void child.terminate(); // killed (shutdown, session closed) while it was starting
    void child.done.then(async (exit) => {
      clearTimeout(this.#timer);
      await cleanup().catch(() => undefined);
      this.#endedAt = performance.now();
      const finished: Finished = {
        ...exit,
        code: this.#timedOut ? TIMEOUT_EXIT_CODE : exit.code,
        timedOut: this.#timedOut,
        killed: this.#killed,
      };
      this.#finished = finished;
      this.#resolveEnded(finished);
      this.#wake();
    });
  }

  get finished(): Finished | undefined {
    return this.#finished;
  }

  get ended(): Promise<Finished> {
    return this.#ended;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Bytes printed and not yet read. */
  get unread(): number {
    return this.#buffer.total;
  }

  /** Wall time so far, or until the command ended. */
  get wallMs(): number {
    return (this.#endedAt ?? performance.now()) - this.startedAt;
  }

  write(chars: string): boolean {
    return this.#child?.write(chars) ?? false;
  }

  /** Ends the command's input: closes its stdin (pipes), or sends Ctrl-D (a PTY). */
  closeStdin(): void {
    this.#child?.closeStdin();
  }

  /** Adds a line of explanation to the final report (e.g. the memory limit was hit). */
  note(line: string): void {
    if (!this.#notes.includes(line)) this.#notes.push(line);
  }

  /** The explanations noted so far. */
  get notes(): readonly string[] {
    return this.#notes;
  }

  /** Takes the unread output. */
  drain() {
    return this.#buffer.drain();
  }

  /** Kills the command and everything it started (SIGTERM, SIGKILL after a grace period); resolves when it has ended. */
  async kill(): Promise<Finished> {
    if (!this.#finished) {
      this.#killed = true;
      await this.#child?.terminate();
    }
    return this.#ended;
  }

  /** The command could not be started: ends the session so that nothing waits for it. */
  abandon(): void {
    if (this.#child || this.#finished) return;
    this.#finished = { code: 127, timedOut: false, killed: this.#killed };
    this.#endedAt = performance.now();
    this.#resolveEnded(this.#finished);
  }

  /**
   * Waits until the command ends, `signal` aborts, or the time is up. The time is `ms` from now;
   * with `firstOutputWithin`, the wait first lasts until there is output to read (at most
   * `firstOutputWithin` from now), then until `ms` from now, or `settleMs` after that output when
   * it came later (so that a burst of output is read whole).
   */
  async wait(opts: { ms: number; signal?: AbortSignal; firstOutputWithin?: number; settleMs?: number }): Promise<void> {
    if (this.#finished || opts.signal?.aborted) return;
    const start = performance.now();
    const settleMs = opts.settleMs ?? 250;
    // When this wait first saw output to read.
    let firstOutputAt = this.#buffer.total > 0 ? start : undefined;
    const end = (): number => {
      if (opts.firstOutputWithin === undefined) return start + opts.ms;
      const cap = start + opts.firstOutputWithin;
      if (firstOutputAt === undefined) return cap;
      return Math.min(cap, Math.max(start + opts.ms, firstOutputAt + settleMs));
    };
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        opts.signal?.removeEventListener('abort', finish);
        resolve();
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(finish, Math.max(0, end() - performance.now()));
      };
      const wake = () => {
        if (this.#finished) return finish();
        if (firstOutputAt === undefined && this.#buffer.total > 0) {
          firstOutputAt = performance.now();
          arm();
        }
      };
      arm();
      this.#wakers.add(wake);
      opts.signal?.addEventListener('abort', finish, { once: true });
    });
  }

  #wake(): void {
    for (const w of [...this.#wakers]) w();
  }
}
