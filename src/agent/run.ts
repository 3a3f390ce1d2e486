// A run: one turn of a thread in progress (a delegate or delegate_reply call). It owns its abort
// controller, so it can outlive the call that started it (background runs, issue 8), and keeps
// live state (step, turns, usage, plan) that watchers can read or subscribe to. `done` resolves
// with the result once everything the run started is stopped and the thread is saved.
import type { ApprovalAnswer } from '../types/call.js';
import type { FileChange } from './changes.js';
import type { RunEvent } from './events.js';
import { zeroUsage, type Usage } from './items.js';
import { StopReason } from './loop.js';
import type { RunStatus, ThreadStatus } from './threads.js';
import type { PlanStep } from './toolbox.js';

export interface DelegateResult {
  threadId: string;
  status: RunStatus;
  /** The last assistant message (the answer). */
  content: string;
  /** The parsed answer, when an output_schema was given and the answer matched it. */
  output?: unknown;
  /** Why the run failed, when it did. */
  error?: string;
  /** Unified diff of everything the run changed. */
  diff: string;
  files_changed: FileChange[];
  usage: Usage;
  duration_ms: number;
  /** The branch of a worktree thread. */
  branch?: string;
  /** Settings of the thread narrowed for this turn (delegate_reply under a stricter server). */
  notes?: string[];
  /** Model responses in this call. */
  turns: number;
}

/** What a run reports to and asks of whoever started it (the delegate call's CallContext). */
export interface RunHost {
  progress(message: string): void;
  log(level: 'debug' | 'info' | 'notice' | 'warning' | 'error', message: string): void;
  /** Asks the host's user; the run passes its own signal, so a stopped run withdraws its question. */
  askApproval(message: string, opts?: { signal?: AbortSignal }): Promise<ApprovalAnswer>;
  /** Structured events as the run goes (agentbox exec); optional. */
  event?(e: RunEvent): void;
  /**
   * Nobody waits on the run (a background run or an MCP task, which outlive the call and the
   * session that started them): approval requests have no host to ask and are declined, and the
   * subagent is told so up front.
   */
  detached?: boolean;
  /**
   * The host is this run's own terminal (`agentbox exec`): approval questions need no
   * `[delegate <thread>]` tag saying which run asks.
   */
  ownTerminal?: boolean;
}

/** A host for a run nobody waits on: steps go to the run's live state and the server log only. */
export function detachedHost(log: (message: string) => void = () => undefined): RunHost {
  return {
    detached: true,
    progress: () => undefined,
    log: (_level, message) => log(message),
    askApproval: async () => 'unavailable',
  };
}

export class Run {
  readonly startedAt = Date.now();
  status: ThreadStatus = 'running';
  step = 'starting';
  turns = 0;
  usage: Usage = zeroUsage();
  plan: PlanStep[] = [];
  result: DelegateResult | undefined;
  /** The turn is being saved: nothing more will run, and `done` follows shortly. */
  ending = false;
  done!: Promise<DelegateResult>;
  readonly #controller = new AbortController();
  readonly #listeners = new Set<() => void>();
  /** Set by cancel(): the step stays "cancelling…" while the run winds down. */
  #stopping = false;
  #settled = false;
  /** Steps finished so far (a command ended, a patch applied or failed, a model turn ended). */
  #stepsDone = 0;
  /** Set by end(): the run is over. */
  #ended = false;

  constructor(
    readonly threadId: string,
    readonly turn: number,
  ) {}

  /** Aborted (with a StopReason) when the run is cancelled or times out. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Stops the model stream and every process of the run; the thread is saved as `status`. False
   * when the run's outcome was already decided (it ends as it would have): a cancel racing the
   * run's end has one winner, so the status a caller was told is the one saved.
   */
  cancel(status: 'cancelled' | 'timeout' = 'cancelled', note?: string): boolean {
    // Already stopping: accepted only if for the same reason (a cancel during a timeout is not a cancel).
    if (this.#controller.signal.aborted) return (this.#controller.signal.reason as StopReason).status === status;
    if (this.#settled) return false;
    this.#controller.abort(new StopReason(status, note));
    this.update({ step: status === 'timeout' ? 'timing out…' : 'cancelling…' });
    this.#stopping = true;
    return true;
  }

  /** The outcome is decided: a later cancel() changes nothing. Why it stopped, when a cancel came first. */
  settle(): StopReason | undefined {
    this.#settled = true;
    return this.#controller.signal.aborted ? (this.#controller.signal.reason as StopReason) : undefined;
  }

  /** Watchers subscribed now (tests: waits must not leave theirs behind). */
  get watchers(): number {
    return this.#listeners.size;
  }

  /**
   * Resolves on the next change of the live state (the end included), after `ms`, or when
   * `signal` aborts; leaves no listener behind on any of them.
   */
  nextChange(ms: number, signal?: AbortSignal): Promise<void> {
    return this.#until(ms, signal, () => true);
  }

  /**
   * Resolves when a step finishes (stepDone) or the run ends, after `ms`, or when `signal` aborts;
   * never for bookkeeping (the step text, usage, the plan). What delegate_status {wait_ms} waits for.
   */
  nextStep(ms: number, signal?: AbortSignal): Promise<void> {
    const seen = this.#stepsDone;
    const over = () => this.result !== undefined || this.#ended;
    if (over()) return Promise.resolve();
    return this.#until(ms, signal, () => this.#stepsDone !== seen || over());
  }

  /** Resolves on the first change for which `settled` holds, after `ms`, or when `signal` aborts; no listener is left behind. */
  #until(ms: number, signal: AbortSignal | undefined, settled: () => boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        off();
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const off = this.onChange(() => {
        if (settled()) done();
      });
      const timer = setTimeout(done, ms);
      if (signal?.aborted) done();
      else signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** A step finished: a command ended, a patch applied or failed, a model turn ended. */
  stepDone(): void {
    this.#stepsDone++;
    this.update({});
  }

  /** The run is over (its thread saved or its start failed): watchers waiting for a step return. */
  end(): void {
    this.#ended = true;
    this.update({});
  }

  /** Calls `fn` after every change of the live state; returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Updates the live state and tells the watchers. */
  update(change: Partial<Pick<Run, 'status' | 'step' | 'turns' | 'usage' | 'plan' | 'result'>>): void {
    // A stopped run winds down (processes killed, diff taken, thread saved) as "cancelling…",
    // not as the last steps it reports on the way.
    const { step, ...rest } = change;
    if (step !== undefined && !this.#stopping) this.step = step;
    Object.assign(this, rest);
    for (const fn of this.#listeners) {
      try {
        fn();
      } catch {
        // a watcher's failure is not the run's
      }
    }
  }
}
