// Starts one command as a child process (pipes, or a PTY through @lydell/node-pty) in its own
// process group, streams its output to a callback, and kills it with everything it started.
// It knows nothing about sandboxes: the argv it gets may begin with bwrap or with bash.
import { spawn as spawnPipes } from 'node:child_process';
import os from 'node:os';
import { createRequire } from 'node:module';
import type * as Pty from '@lydell/node-pty';
import type { CgroupLimits, CommandCgroup, CommandCgroups } from './cgroups.js';
import { childrenOf, descendants, signalEach, signalGroup, waitGone } from './tree.js';

export interface SpawnSpec {
  file: string;
  args: string[];
  /** Host directory the child starts in. */
  cwd: string;
  env: Record<string, string>;
  tty: boolean;
  /** The child is bwrap: its first two levels are bwrap itself and the sandbox's init. */
  sandboxed: boolean;
  /** Where available: the child is born in cgroups of its own (pids, memory) with these limits. */
  cgroups?: CommandCgroups;
  limits: CgroupLimits;
  /** Bytes the child reads on its file descriptor 3 (bwrap's seccomp program); pipes only. */
  fd3?: Buffer;
}

export interface Exit {
  /** Exit code; 128 + n when the process ended by signal n. */
  code: number;
  signal?: NodeJS.Signals;
}

/** How long the terminated command has between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2000;
/** How long a finished command's output may stay open (held by a stray process) before agentbox stops reading. */
const CLOSE_GRACE_MS = 2000;
/** After a PTY command exits, its output counts as complete once it has been quiet this long... */
const PTY_QUIET_MS = 50;
/** ...or this long after the exit at most. */
const PTY_DRAIN_MAX_MS = 1000;

export interface Child {
  readonly pid: number;
  /** The command's cgroups, if it has them. */
  readonly cgroup?: CommandCgroup;
  /** Resolves once the process has exited and its output is fully read (or abandoned). */
  readonly done: Promise<Exit>;
  write(data: string): boolean;
  /** Ends the input: closes stdin (pipes) or sends Ctrl-D, the terminal's end of input (a PTY). */
  closeStdin(): void;
  /** SIGTERM to the command, SIGKILL to everything after `graceMs`; resolves when nothing is left. */
  terminate(graceMs?: number): Promise<void>;
}

const SIGNAL_NAMES = new Map(Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** Starts the child; `onData` receives stdout and stderr (or the PTY's output) as they arrive. */
export async function startChild(spec: SpawnSpec, onData: (chunk: Buffer) => void): Promise<Child> {
  const spawnNow = () => (spec.tty ? startPty(spec, onData) : startPiped(spec, onData));
  let started: Started;
  let cgroup: CommandCgroup | undefined;
  if (spec.cgroups) ({ value: started, cgroup } = await spec.cgroups.spawnInto({ limits: spec.limits, sandboxed: spec.sandboxed }, spawnNow));
  else started = spawnNow();
  const { pid, done, write, closeStdin } = started;
  let terminating: Promise<void> | undefined;
  let exited = false;
  void done.then(() => (exited = true));

  // Everything that belongs to the command: the group, the process tree, the cgroup.
  const everything = (): number[] => [...new Set([pid, ...descendants(pid), ...(cgroup?.commandPids() ?? [])])];
  const killAll = (signal: NodeJS.Signals) => {
    signalGroup(pid, signal);
    signalEach(everything(), signal);
  };

  return {
    pid,
    ...(cgroup ? { cgroup } : {}),
    done,
    write,
    closeStdin,
    terminate(graceMs = KILL_GRACE_MS) {
      terminating ??= (async () => {
        if (exited) return;
        const seen = everything();
        // SIGTERM goes to the command's own processes. In the sandbox those are below bwrap and the
        // sandbox's init: bwrap would die of SIGTERM at once and take everything down with SIGKILL,
        // leaving the command no chance to clean up.
        const bwraps = spec.sandboxed ? new Set([pid, ...childrenOf(pid)]) : new Set<number>();
        if (!spec.sandboxed) signalGroup(pid, 'SIGTERM');
        signalEach(seen.filter((p) => !bwraps.has(p)), 'SIGTERM');
        const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
        if ((await Promise.race([done, timer])) === 'timeout') killAll('SIGKILL');
        await done;
        // Processes that outlived the command's exit (PID-namespace teardown is asynchronous).
        const rest = [...new Set([...seen, ...(cgroup?.commandPids() ?? [])])];
        if (!(await waitGone(rest, 200))) {
          signalEach(rest, 'SIGKILL');
          await waitGone(rest, 3000);
        }
      })();
      return terminating;
    },
  };
}

interface Started {
  pid: number;
  done: Promise<Exit>;
  write(data: string): boolean;
  closeStdin(): void;
}

function startPiped(spec: SpawnSpec, onData: (chunk: Buffer) => void): Started {
  const child = spawnPipes(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: spec.fd3 ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
  });
  if (spec.fd3) {
    const fd3 = child.stdio[3] as NodeJS.WritableStream & { on(e: 'error', f: () => void): void };
    fd3.on('error', () => undefined);
    fd3.end(spec.fd3);
  }
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.stdin?.on('error', () => undefined);
  const done = new Promise<Exit>((resolve) => {
    let exit: Exit | undefined;
    let closeTimer: NodeJS.Timeout | undefined;
    child.on('error', (err) => {
      onData(Buffer.from(`agentbox: cannot start ${spec.file}: ${err.message}\n`));
      resolve({ code: 127 });
    });
    child.on('exit', (code, signal) => {
      exit = toExit(code, signal);
      // A background process still holding stdout or stderr would keep 'close' from firing: end
      // the rest of the group, and stop reading after a grace period.
      if (!spec.sandboxed) signalGroup(child.pid ?? 0, 'SIGKILL');
      closeTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve(exit!);
      }, CLOSE_GRACE_MS);
      closeTimer.unref();
    });
    child.on('close', (code, signal) => {
      if (closeTimer) clearTimeout(closeTimer);
      resolve(exit ?? toExit(code, signal));
    });
  });
  return {
    pid: child.pid ?? -1,
    done,
    write: (data) => Boolean(child.stdin?.writable && child.stdin.write(data)),
    closeStdin: () => void child.stdin?.end(),
  };
}

// node-pty (a native module) is loaded on the first PTY command only (Node caches it from then on):
// most servers never need it, and every megabyte the server holds makes each fork slower.
const require = createRequire(import.meta.url);

function startPty(spec: SpawnSpec, onData: (chunk: Buffer) => void): Started {
  const pty = require('@lydell/node-pty') as typeof Pty;
  const term = pty.spawn(spec.file, spec.args, {
    name: spec.env.TERM ?? 'xterm-256color',
    cols: 200,
    rows: 50,
    cwd: spec.cwd,
    env: spec.env,
    encoding: null,
  } as Pty.IPtyForkOptions);
  let lastData = performance.now();
  term.onData((d: string | Buffer) => {
    lastData = performance.now();
    onData(typeof d === 'string' ? Buffer.from(d) : d);
  });
  const done = new Promise<Exit>((resolve) => {
    term.onExit(({ exitCode, signal }) => {
      if (!spec.sandboxed) signalGroup(term.pid, 'SIGKILL');
      const exit: Exit = signal ? { code: 128 + signal, signal: SIGNAL_NAMES.get(signal) } : { code: exitCode };
      // node-pty can report the exit before the last output (microsoft/node-pty#72): the command
      // ends only once its output has been quiet for a moment, so a final line is never lost.
      const exitedAt = performance.now();
      const settle = () => {
        const now = performance.now();
        const quiet = now - lastData;
        if (quiet >= PTY_QUIET_MS || now - exitedAt >= PTY_DRAIN_MAX_MS) resolve(exit);
        else setTimeout(settle, PTY_QUIET_MS - quiet);
      };
      setTimeout(settle, PTY_QUIET_MS);
    });
  });
  return {
    pid: term.pid,
    done,
    write(data) {
      try {
        term.write(data);
        return true;
      } catch {
        return false;
      }
    },
    closeStdin() {
      try {
        term.write('\u0004');
      } catch {
        // ended meanwhile
      }
    },
  };
}

function toExit(code: number | null, signal: NodeJS.Signals | null): Exit {
  if (signal) return { code: 128 + (os.constants.signals[signal] ?? 0), signal };
  return { code: code ?? 1 };
}
