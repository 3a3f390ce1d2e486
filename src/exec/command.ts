// The shell tools' core: exec_command, write_stdin, kill_session, list_sessions. Each takes the
// session's context (the policy and approval policy in force come from there, never from the
// config directly, so a delegate run's overrides apply) and returns a Result.
//
// exec_command, in order:
// 1. Approval: decide from the approval policy; ask the host's user when needed (never hangs).
// 2. Sandbox: bwrap must work here (checked once per server); never falls back to no sandbox.
// 3. Capacity: at most sandbox.max_sessions commands run at once, server-wide.
// 4. Start: bash -c (or -lc) with the rlimits, inside bwrap unless the mode is danger-full-access
//    or the user approved an escalation; its own process group and, where available, pids cgroup.
// 5. Wait up to yield_time_ms: the final result, or a session id to continue with write_stdin.
import type { SessionContext } from '../session.js';
import { buildBwrapArgs, existingRoots, filterEnv, findProtectedPaths, SANDBOX_TMP, type Policy } from '../sandbox/index.js';
import type { CallContext } from '../types/call.js';
import { payloadRoom } from '../util/budget.js';
import { fail, ok, type Result } from '../util/result.js';
import { approvalMessage, approvalOutcome, decideApproval } from './approval.js';
import type { ExecReport } from './format.js';
import { ExecHost } from './host.js';
import { CAPTURE_BYTES, truncateForModel } from './output.js';
import { startChild, type Child } from './process.js';
import { shellArgs } from './script.js';
import { sandboxHint } from './hints.js';
import { ExecSession } from './session.js';

export const YIELD_DEFAULT_MS = 10_000;
export const YIELD_MIN_MS = 250;
export const YIELD_MAX_MS = 30_000;
/** write_stdin with no chars waits this long at most for the first new output (or the end). */
export const POLL_MAX_MS = 300_000;
/** write_stdin with chars waits this long by default for the command to end. */
export const WRITE_YIELD_DEFAULT_MS = 250;
/** write_stdin with no chars, once output came, collects until this long after the call began, by default. */
export const POLL_YIELD_DEFAULT_MS = 10_000;
/** How often a long wait reports progress (to hosts that gave a progressToken). */
const PROGRESS_EVERY_MS = 10_000;

/** The shell sessions one MCP session (or one delegate run) can see. */
export class SessionTable {
  readonly host: ExecHost;
  #sessions = new Map<number, ExecSession>();

  constructor(host: ExecHost) {
    this.host = host;
  }

  get(id: number): ExecSession | undefined {
    return this.#sessions.get(id);
  }

  /** Adds a session; ended sessions nobody read beyond max_sessions are dropped, oldest first (memory stays bounded). */
  add(s: ExecSession): void {
    const ended = this.list().filter((x) => x.finished);
    for (const old of ended.slice(0, Math.max(0, ended.length - this.host.runtime.config.sandbox.max_sessions + 1))) this.delete(old.info.id);
    this.#sessions.set(s.info.id, s);
  }

  delete(id: number): void {
    this.#sessions.delete(id);
  }

  list(): ExecSession[] {
    return [...this.#sessions.values()];
  }

  /** Kills every command of this table (the MCP session closed). */
  async closeAll(): Promise<void> {
    const all = this.list();
    this.#sessions.clear();
    await Promise.all(all.map((s) => s.kill()));
  }
}

/** Creates the table for `ctx` and ends its commands when the session closes. */
export function sessionTableFor(ctx: SessionContext): SessionTable {
  const table = new SessionTable(ExecHost.of(ctx.runtime));
  ctx.onClose(() => table.closeAll());
  return table;
}

export interface ExecRequest {
  cmd: string;
  /** The working directory, already resolved through the path policy. */
  workdir: string;
  timeoutMs?: number;
  yieldMs?: number;
  tty?: boolean;
  login?: boolean;
  maxOutputBytes?: number;
  escalate?: boolean;
  justification?: string;
}

type Call = Pick<CallContext, 'signal' | 'askApproval' | 'progress'>;

export async function execCommand(ctx: SessionContext, table: SessionTable, req: ExecRequest, call: Call): Promise<Result<ExecReport>> {
  const { runtime } = ctx;
  const { config } = runtime;
  const host = table.host;
  const policy = ctx.policy();

  // 1. Approval.
  const decision = decideApproval({ policy: ctx.approvalPolicy(), mode: policy.mode, escalate: Boolean(req.escalate), cmd: req.cmd });
  if (decision.kind === 'refuse') return fail('escalation_refused', decision.message, decision.hint);
  if (decision.kind === 'ask') {
    const timeoutMs = config.approval_timeout_ms;
    call.progress('Waiting for the user to approve the command');
    const answer = await call.askApproval(
      approvalMessage({ cmd: req.cmd, cwd: req.workdir, justification: req.justification, sandboxed: decision.sandboxed, timeoutMs }),
    );
    const outcome = approvalOutcome(answer, { sandboxed: decision.sandboxed, timeoutMs });
    if (!outcome.ok) return outcome;
  }
  if (call.signal.aborted) return fail('cancelled', 'The call was cancelled before the command started.');

  // 2. Sandbox.
  const sandboxed = decision.sandboxed;
  const bash = runtime.bin.bash;
  if (!bash) return fail('no_bash', 'bash was not found on the server\'s PATH, so no command can run.', 'Install bash, or start agentbox with a PATH that contains it.');
  if (sandboxed) {
    const probe = await host.sandbox();
    if (!probe.ok) {
      return fail(
        'sandbox_unavailable',
        `Cannot run the command: the sandbox is unavailable. ${probe.reason} agentbox never runs commands unsandboxed on its own, so every command fails until this is fixed.`,
        `Fix: ${probe.fix} (\`agentbox doctor\` checks it.)`,
      );
    }
  }

  // 3. Capacity (checked after the last wait, so that concurrent calls cannot overshoot).
  if (host.closing) return fail('shutting_down', 'agentbox is shutting down; the command did not run.');
  if (host.live.size >= config.sandbox.max_sessions) {
    return fail(
      'too_many_sessions',
      `${host.live.size} commands are already running (sandbox.max_sessions = ${config.sandbox.max_sessions}); the command did not run.`,
      'Wait for one to finish (write_stdin), or stop one with kill_session; list_sessions shows them.',
    );
  }

  // 4. Start.
  const id = host.nextId();
  const session = new ExecSession({
    id,
    command: req.cmd,
    cwd: req.workdir,
    tty: Boolean(req.tty),
    sandbox: sandboxed ? policy.mode : 'danger-full-access',
    timeoutMs: req.timeoutMs ?? config.shell.default_timeout_ms,
  });
  host.live.add(session);
  const started = await startCommand(ctx, policy, session, req, sandboxed, bash);
  if (!started.ok) {
    host.live.delete(session);
    session.abandon();
    return started;
  }
  table.add(session);

  // 5. Wait.
  await session.wait({ ms: clamp(req.yieldMs ?? YIELD_DEFAULT_MS, YIELD_MIN_MS, YIELD_MAX_MS), signal: call.signal });
  if (call.signal.aborted && !session.finished) {
    // Cancel (or shutdown) kills what this call started; nothing outlives the call that was cancelled.
    await session.kill();
    table.delete(id);
    return fail('cancelled', 'The call was cancelled; the command was killed with everything it started.');
  }
  return ok(report(ctx, table, session, req.maxOutputBytes ?? config.shell.max_output_bytes));
}

async function startCommand(ctx: SessionContext, policy: Policy, session: ExecSession, req: ExecRequest, sandboxed: boolean, bash: string): Promise<Result<Child>> {
  const { runtime } = ctx;
  const { config } = runtime;
  const host = ExecHost.of(runtime);
  const limits = { maxProcesses: config.sandbox.max_processes, maxMemoryMb: config.sandbox.max_memory_mb, maxCpuSeconds: config.sandbox.max_cpu_seconds };
  const tty = Boolean(req.tty);
  const bashArgs = shellArgs(req.cmd, { limits, nproc: sandboxed, tty, login: Boolean(req.login) });
  const env = filterEnv(host.env, {
    include: config.shell.env.include,
    set: config.shell.env.set,
    sandbox: sandboxed ? policy.mode : 'danger-full-access',
    network: sandboxed ? policy.network : true,
    tmpDir: sandboxed ? SANDBOX_TMP : policy.tmpDir,
    term: tty ? 'xterm-256color' : 'dumb',
  });
  const mountable = sandboxed ? await existingRoots(policy) : policy;
  const [protectedMounts, hostPaths] = sandboxed ? await Promise.all([findProtectedPaths(mountable), host.hostPaths(mountable)]) : [[], undefined];
  const masks = protectedMounts.filter((m) => m.kind === 'mask').map((m) => m.path);
  // Outside the sandbox, the command's first process dies with the server even if the server is
  // killed (parent-death signal); the watchdog ends the rest of its process group (watchdog.ts).
  const file = sandboxed ? (tty ? bash : runtime.bin.bwrap!) : (runtime.bin.setpriv ?? bash);
  // The seccomp program (no keyctl: seccomp.ts) reaches bwrap on fd 3: a pipe, or for a PTY
  // (node-pty passes no extra descriptors) a process substitution in a bash that then execs bwrap.
  const bwrapSpec = { policy: mountable, protectedMounts, host: hostPaths, shmBytes: limits.maxMemoryMb * 1024 * 1024, seccompFd: 3, cwd: req.workdir, newSession: !tty };
  const seccomp = host.seccomp;
  const args = sandboxed
    ? [...(tty ? ['-c', 'exec 3< <(printf %b "$1"); shift; exec "$@"', 'agentbox-seccomp', [...seccomp].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join(''), runtime.bin.bwrap!] : []), ...buildBwrapArgs(bwrapSpec), bash, ...bashArgs]
    : runtime.bin.setpriv
      ? ['--pdeathsig', 'KILL', '--', bash, ...bashArgs]
      : bashArgs;
  const cgroups = host.cgroups();
  host.noteMasks(masks);
  let child: Child;
  try {
    child = await startChild(
      {
        file,
        args,
        cwd: req.workdir,
        env,
        tty,
        sandboxed,
        limits: { maxProcesses: limits.maxProcesses, maxMemoryBytes: limits.maxMemoryMb * 1024 * 1024 },
        ...(sandboxed && !tty ? { fd3: seccomp } : {}),
        ...(cgroups ? { cgroups } : {}),
      },
      session.onData,
    );
  } catch (err) {
    return fail('spawn_failed', `Cannot start the command: ${(err as Error).message}`);
  }
  const watchdog = sandboxed || child.pid <= 0 ? undefined : host.watchdog();
  watchdog?.watch(child.pid, Object.values(child.cgroup?.dirs ?? {}));
  const closeCgroup = async () => {
    if (child.cgroup && !(await child.cgroup.close())) cgroups?.keep(child.cgroup);
    await cgroups?.sweep();
  };
  session.attach(child, async () => {
    host.live.delete(session);
    // A failed command only: reading the counter costs every command a round trip otherwise.
    const oomKills = (await child.done).code !== 0 ? await child.cgroup?.oomKills() : 0;
    if (oomKills) {
      session.note(
        `The command reached its memory limit (sandbox.max_memory_mb = ${config.sandbox.max_memory_mb} MB for all its processes and /dev/shm together): ` +
          `${oomKills === 1 ? 'one process was' : `${oomKills} processes were`} killed. Use less memory at once, or ask the user to raise the limit.`,
      );
    }
    // In the sandbox nothing outlives bwrap (its PID namespace ends with it), so the cgroup is
    // removed after the result is out. Outside it, whatever the command left in its cgroup (a
    // daemon that escaped the process group) is killed before the command counts as ended.
    if (sandboxed) setImmediate(() => void closeCgroup());
    else {
      await closeCgroup();
      watchdog?.unwatch(child.pid);
    }
  });
  runtime.log.debug({ id: session.info.id, sandbox: session.info.sandbox, pid: child.pid }, 'command started');
  return ok(child);
}

export interface StdinRequest {
  sessionId: number;
  chars?: string;
  /** After writing chars, close the command's stdin (end of input); with a PTY, sends Ctrl-D. */
  closeStdin?: boolean;
  yieldMs?: number;
  maxOutputBytes?: number;
}

/** Sends input to a running session (or just waits, with no chars) and returns the output since the last read. */
export async function writeStdin(ctx: SessionContext, table: SessionTable, req: StdinRequest, call: Call): Promise<Result<ExecReport>> {
  const session = table.get(req.sessionId);
  if (!session) return unknownSession(req.sessionId);
  const chars = req.chars ?? '';
  const notes: string[] = [];
  if (chars.length > 0 || req.closeStdin) {
    if (session.finished) return fail('session_ended', `Session ${req.sessionId} has already exited; the input was not sent.`, 'Call write_stdin without chars to read its final output.');
    if (chars.length > 0 && !session.write(chars)) return fail('stdin_closed', `Session ${req.sessionId} no longer accepts input (its stdin is closed).`);
    if (req.closeStdin) session.closeStdin();
    if (!session.info.tty && chars.includes('\u0003')) {
      notes.push('Ctrl-C ("\\u0003") went to the command as a plain byte: without a terminal (tty: true) it interrupts nothing. Use kill_session to stop it.');
    }
  }
  // With chars: until the command ends or yield_time_ms (default 250 ms) pass. Without: until the
  // first new output (up to 300 s), then on until yield_time_ms (default 10 s) since the call began.
  const polling = chars.length === 0 && !req.closeStdin;
  const ms = clamp(req.yieldMs ?? (polling ? POLL_YIELD_DEFAULT_MS : WRITE_YIELD_DEFAULT_MS), YIELD_MIN_MS, POLL_MAX_MS);
  // A long wait tells the host it is alive (hosts that reset their timeout on progress keep waiting).
  const beat = setInterval(() => call.progress(`Session ${req.sessionId} still running (${session.unread} bytes of new output)`), PROGRESS_EVERY_MS);
  try {
    // Cancelling a write_stdin call stops this wait only: the command belongs to the exec_command
    // that started it and keeps running until it ends, times out, or kill_session stops it.
    await session.wait({ ms, signal: call.signal, ...(polling ? { firstOutputWithin: Math.max(ms, POLL_MAX_MS) } : {}) });
  } finally {
    clearInterval(beat);
  }
  return ok(report(ctx, table, session, req.maxOutputBytes ?? ctx.runtime.config.shell.max_output_bytes, notes));
}

/** Kills a session and everything it started; returns its final output. */
export async function killSession(ctx: SessionContext, table: SessionTable, sessionId: number): Promise<Result<ExecReport>> {
  const session = table.get(sessionId);
  if (!session) return unknownSession(sessionId);
  await session.kill();
  return ok(report(ctx, table, session, ctx.runtime.config.shell.max_output_bytes));
}

export interface SessionSummary {
  session_id: number;
  command: string;
  cwd: string;
  running: boolean;
  exit_code: number | null;
  tty: boolean;
  sandbox: string;
  started_at: string;
  wall_time_ms: number;
  unread_bytes: number;
}

/** Every session of this table: running ones and finished ones whose final output was not read yet. */
export function listSessions(ctx: SessionContext, table: SessionTable): SessionSummary[] {
  return table.list().map((s) => ({
    session_id: s.info.id,
    command: s.info.command.length > 200 ? `${s.info.command.slice(0, 200)}…` : s.info.command,
    cwd: ctx.show(s.info.cwd),
    running: !s.finished,
    exit_code: s.finished?.code ?? null,
    tty: s.info.tty,
    sandbox: s.info.sandbox,
    started_at: s.startedAtIso,
    wall_time_ms: Math.round(s.wallMs),
    unread_bytes: s.unread,
  }));
}

/** The unread output and state of `session`; a finished session leaves the table once reported. */
function report(ctx: SessionContext, table: SessionTable, session: ExecSession, maxOutputBytes: number, notes: readonly string[] = []): ExecReport {
  const finished = session.finished;
  // The reply budget bounds what the model is shown whatever max_output_bytes asks for (a byte is
  // at most a character, so bytes within the payload room keep the whole reply within the budget).
  const output = truncateForModel(session.drain(), clamp(maxOutputBytes, 1, Math.min(CAPTURE_BYTES, payloadRoom(ctx.runtime.config.output.max_chars))));
  if (!finished) return { state: 'running', sessionId: session.info.id, wallMs: session.wallMs, output, notes };
  table.delete(session.info.id);
  const { sandbox } = session.info;
  if (finished.code !== 0 && !finished.timedOut && !finished.killed && (sandbox === 'read-only' || sandbox === 'workspace-write')) {
    const policy = ctx.policy();
    const hint = sandboxHint(output.text, {
      mode: sandbox,
      network: policy.network,
      escalation: ctx.approvalPolicy() !== 'never',
      gitTools: ctx.runtime.config.tools.includes('git'),
    });
    if (hint) session.note(hint);
  }
  return {
    state: 'exited',
    exitCode: finished.code,
    timedOut: finished.timedOut,
    killed: finished.killed,
    timeoutMs: session.info.timeoutMs,
    wallMs: session.wallMs,
    output,
    notes: [...notes, ...session.notes],
  };
}

function unknownSession(id: number): Result<never> {
  return fail('unknown_session', `There is no session ${id}.`, 'Sessions end once their final output has been read; list_sessions shows the current ones.');
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}
