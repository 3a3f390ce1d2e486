// `agentbox exec "<task>"`: the delegate's agent loop from a terminal, without an MCP host. The
// run is the same as a delegate call's (same service, tools, sandbox, threads); only the host
// differs: its steps are rendered for a person (human.ts) or printed as JSONL events (--json,
// shaped like `codex exec --json`), approvals are asked on the terminal when there is one, and
// Ctrl-C cancels the run (a second Ctrl-C exits at once).
//
// Exit status: 0 completed, 1 failed (or could not start), 2 usage error (cli.ts), 3 max_turns, 124 timeout, 130 cancelled.
import { createInterface } from 'node:readline';
import { agentService, type DelegateParams, type DelegateResult, type Run, type RunEvent, type RunHost } from '../agent/index.js';
import type { ApprovalPolicy, ReasoningEffort } from '../config/index.js';
import type { Runtime } from '../runtime.js';
import { allTools } from '../server.js';
import { createSessionContext } from '../session.js';
import type { ApprovalAnswer } from '../types/call.js';
import { formatFailure, type Result } from '../util/result.js';
import { HumanRenderer } from './human.js';
import { stripControls } from './sanitize.js';

export interface ExecOptions {
  prompt: string;
  json: boolean;
  cwd: string;
  resume?: string;
  model?: string;
  provider?: string;
  backend?: 'agentbox' | 'codex';
  reasoningEffort?: ReasoningEffort;
  approvalPolicy?: ApprovalPolicy;
  maxTurns?: number;
  timeoutMs?: number;
}

const EXIT: Record<DelegateResult['status'], number> = { completed: 0, failed: 1, max_turns: 3, timeout: 124, cancelled: 130 };

/** Runs one turn and returns the process exit status. */
export async function runExec(runtime: Runtime, o: ExecOptions): Promise<number> {
  const out = (text: string) => void process.stdout.write(text);
  const err = (text: string) => void process.stderr.write(text);
  const tty = Boolean(process.stderr.isTTY);
  const human = o.json ? undefined : new HumanRenderer({ out, err, tty, color: tty && !process.env.NO_COLOR });
  const service = agentService(runtime, allTools);
  const session = createSessionContext(runtime, { cwd: o.cwd });

  // Ctrl-C cancels the run (its processes killed, the thread saved); a second one quits at once.
  // While an approval question is on the terminal, readline reads Ctrl-C in raw mode: it comes
  // here too, and declines the question.
  let run: Run | undefined;
  let interrupts = 0;
  const interrupt = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    if (!o.json) err('\ncancelling (Ctrl-C again to quit at once)…\n');
    run?.cancel('cancelled');
  };
  // Asked to stop by something else (kill, timeout(1), a closed terminal): cancel the run the same
  // way, so its processes (a Codex CLI, the commands) are killed and the thread is saved, not orphaned.
  const terminate = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(signal === 'SIGHUP' ? 129 : 143);
    // After SIGHUP the terminal is gone: writing to it would only fail.
    if (!o.json && signal !== 'SIGHUP') err(`\n${signal}: cancelling…\n`);
    run?.cancel('cancelled');
  };

  const host: RunHost = {
    ownTerminal: true,
    progress: () => undefined,
    log: () => undefined,
    askApproval: (message, opts) => askOnTerminal(message, { timeoutMs: runtime.config.approval_timeout_ms, pause: () => human?.pause(), interrupt, ...(opts?.signal ? { signal: opts.signal } : {}) }),
    event(e: RunEvent) {
      if (human) human.event(e);
      else if (e.type !== 'model.request') out(`${JSON.stringify(e)}\n`);
    },
  };

  let started: Result<Run>;
  if (o.resume) started = await service.reply(o.resume, o.prompt, session, host);
  else {
    const params: DelegateParams = {
      prompt: o.prompt,
      cwd: o.cwd,
      ...(o.model ? { model: o.model } : {}),
      ...(o.provider ? { provider: o.provider } : {}),
      ...(o.backend ? { backend: o.backend } : {}),
      ...(o.reasoningEffort ? { reasoning_effort: o.reasoningEffort } : {}),
      ...(o.approvalPolicy ? { approval_policy: o.approvalPolicy } : {}),
      ...(o.maxTurns ? { max_turns: o.maxTurns } : {}),
      ...(o.timeoutMs ? { timeout_ms: o.timeoutMs } : {}),
    };
    started = await service.start(params, session, host);
  }
  if (!started.ok) {
    if (o.json) out(`${JSON.stringify({ type: 'error', message: formatFailure(started.error) })}\n`);
    else err(`agentbox: ${stripControls(formatFailure(started.error))}\n`);
    return 1;
  }

  run = started.value;
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', terminate);
  process.on('SIGHUP', terminate);
  // A closed terminal makes writes fail (EIO); the run must still end and save its thread.
  const ignore = () => undefined;
  process.stdout.on('error', ignore);
  process.stderr.on('error', ignore);
  try {
    const result = await run.done;
    human?.finish(result);
    return EXIT[result.status];
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', terminate);
    process.off('SIGHUP', terminate);
    process.stdout.off('error', ignore);
    process.stderr.off('error', ignore);
  }
}

interface AskOptions {
  timeoutMs: number;
  /** Stops the spinner while the question is on the terminal. */
  pause(): void;
  /** Ctrl-C at the question: the run's own cancel. */
  interrupt(): void;
  /** The run stopped (cancel, timeout): the question is withdrawn. */
  signal?: AbortSignal;
}

/** Asks on the terminal (stdin and stderr both TTYs); anything but y/yes declines, and so does Ctrl-C (which also cancels the run). */
async function askOnTerminal(message: string, o: AskOptions): Promise<ApprovalAnswer> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return 'unavailable';
  if (o.signal?.aborted) return 'cancel';
  o.pause();
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<ApprovalAnswer>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), o.timeoutMs);
      onAbort = () => resolve('cancel');
      o.signal?.addEventListener('abort', onAbort, { once: true });
      // In raw mode Ctrl-C reaches readline, not the process: without this it would do nothing.
      rl.on('SIGINT', () => {
        resolve('decline');
        o.interrupt();
      });
      rl.question(`\n${stripControls(message)}\nAllow? [y/N] `, (a) => resolve(/^\s*y(es)?\s*$/i.test(a) ? 'accept' : 'decline'));
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
    rl.close();
  }
}
