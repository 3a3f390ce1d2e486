// Resource limits for one command: processes, memory and CPU time.
//
// - Memory and CPU are rlimits set by the command's own shell before it runs the command
//   (`ulimit -d` = RLIMIT_DATA, `ulimit -t` = RLIMIT_CPU): no extra process per command. RLIMIT_DATA
//   counts memory a process has actually made writable, so it stops a runaway allocation without
//   breaking programs that merely reserve address space (RLIMIT_AS at 8 GB breaks WebAssembly in
//   Node, and with it Node's fetch).
// - Processes: RLIMIT_NPROC (`ulimit -u`) works for ordinary users but the kernel never enforces it
//   for root. So where a cgroup v1 `pids` hierarchy is writable (root, or a delegated cgroup), each
//   command gets its own cgroup with `pids.max`; that is a real limit for root too, and it also
//   lists every process of the command for killing.
//
// How a command gets into its cgroup without a wrapper process or a race: cgroup v1 places each
// thread separately and a child starts in its parent thread's cgroup. Spawning is synchronous on
// Node's main thread, so the main thread (whose thread id is the process id) steps into the
// command's cgroup, spawns, and steps back; only the new child stays there. cgroup v2 does not
// allow one thread of a process to move alone, so on v2-only machines agentbox falls back to
// RLIMIT_NPROC (and `agentbox doctor` says that root then has no process limit).
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';

export interface ResourceLimits {
  maxProcesses: number;
  maxMemoryMb: number;
  maxCpuSeconds: number;
}

/**
 * bash code that applies the rlimits, run before the command on the same line (so the command's
 * line numbers do not shift). A hard limit already lower than ours is kept, silently.
 * `nproc` is false for commands outside the sandbox, where RLIMIT_NPROC would count every process
 * the user runs on the machine rather than the command's own.
 */
export function rlimitPrefix(limits: ResourceLimits, opts: { nproc: boolean }): string {
  const parts = [`ulimit -d ${limits.maxMemoryMb * 1024}`, `ulimit -t ${limits.maxCpuSeconds}`];
  if (opts.nproc) parts.push(`ulimit -u ${limits.maxProcesses}`);
  return `{ ${parts.join('; ')}; } 2>/dev/null; `;
}

/** The pids cgroup hierarchy this server may create command cgroups in, found once per runtime. */
export class PidsCgroups {
  /** The server's own cgroup directory, where its main thread returns after each spawn. */
  readonly #home: string;
  /** `<home>/agentbox-<pid>`: holds one cgroup per running command. */
  readonly dir: string;
  readonly #log: Logger;
  #seq = 0;

  private constructor(home: string, dir: string, log: Logger) {
    this.#home = home;
    this.dir = dir;
    this.#log = log;
  }

  /** Finds a writable cgroup v1 pids hierarchy and checks that a thread can step in and out; undefined otherwise. */
  static detect(log: Logger, procRoot = '/proc'): PidsCgroups | undefined {
    try {
      const home = ownPidsCgroup(procRoot);
      if (!home) return undefined;
      removeStale(home);
      const dir = path.join(home, `agentbox-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      const groups = new PidsCgroups(home, dir, log);
      const probe = groups.create(2);
      if (!probe) return undefined;
      probe.spawnInside(() => undefined);
      probe.remove();
      return groups;
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'no writable pids cgroup; process limits use RLIMIT_NPROC');
      return undefined;
    }
  }

  /** A new cgroup for one command, limited to `maxProcesses` tasks. */
  create(maxProcesses: number): CommandCgroup | undefined {
    const dir = path.join(this.dir, `c${++this.#seq}`);
    try {
      mkdirSync(dir);
      // The main thread sits in the cgroup while it spawns, so the limit must leave room for it.
      writeFileSync(path.join(dir, 'pids.max'), String(Math.max(2, maxProcesses)));
      return new CommandCgroup(dir, this.#home, this.#log);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message, dir }, 'could not create a command cgroup');
      try {
        rmdirSync(dir);
      } catch {
        // never created
      }
      return undefined;
    }
  }

  /** Removes the server's cgroup directory (at shutdown, once every command cgroup is gone). */
  removeAll(): void {
    for (const name of safeReaddir(this.dir)) if (name.startsWith('c')) tryRmdir(path.join(this.dir, name));
    tryRmdir(this.dir);
  }
}

/** One command's pids cgroup. */
export class CommandCgroup {
  constructor(
    readonly dir: string,
    readonly home: string,
    readonly log: Logger,
  ) {}

  /** Runs a synchronous spawn with the main thread inside this cgroup, so the child starts there. */
  spawnInside<T>(spawn: () => T): T {
    writeFileSync(path.join(this.dir, 'tasks'), String(process.pid));
    try {
      return spawn();
    } finally {
      writeFileSync(path.join(this.home, 'tasks'), String(process.pid));
    }
  }

  /** Process ids in the cgroup now. */
  pids(): number[] {
    try {
      return readFileSync(path.join(this.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** Sends `signal` to every process in the cgroup. */
  signalAll(signal: NodeJS.Signals): void {
    for (const pid of this.pids()) {
      if (pid === process.pid) continue;
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }

  /** Removes the cgroup; true when it was empty and is gone. */
  remove(): boolean {
    return tryRmdir(this.dir);
  }

  /** Kills whatever is still in the cgroup, waits for it to empty (bounded), and removes it. */
  async close(): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      if (this.remove()) return;
      if (this.pids().length > 0) this.signalAll('SIGKILL');
      await new Promise((r) => setTimeout(r, Math.min(5 * 2 ** attempt, 50)));
    }
    this.log.warn({ dir: this.dir }, 'a command cgroup did not empty; it is removed at shutdown');
  }
}

/** The server's pids cgroup directory from /proc/self/cgroup and /proc/self/mountinfo (cgroup v1). */
function ownPidsCgroup(procRoot: string): string | undefined {
  const line = readFileSync(path.join(procRoot, 'self/cgroup'), 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes('pids'));
  if (!line) return undefined;
  const rel = line.split(':').slice(2).join(':');
  for (const entry of readFileSync(path.join(procRoot, 'self/mountinfo'), 'utf8').split('\n')) {
    const [left, right] = entry.split(' - ');
    if (!left || !right) continue;
    const [fstype, , superOpts] = right.split(' ');
    if (fstype !== 'cgroup' || !superOpts?.split(',').includes('pids')) continue;
    const fields = left.split(' ');
    const root = fields[3];
    const mount = fields[4];
    if (!root || !mount) continue;
    const inside = path.relative(root, rel);
    if (inside.startsWith('..')) continue;
    return path.join(mount, inside);
  }
  return undefined;
}

/** Removes `agentbox-<pid>` cgroups left behind by servers that no longer run. */
function removeStale(home: string): void {
  for (const name of safeReaddir(home)) {
    const m = /^agentbox-(\d+)$/.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    const dir = path.join(home, name);
    for (const child of safeReaddir(dir)) if (/^c\d+$/.test(child)) tryRmdir(path.join(dir, child));
    tryRmdir(dir);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
