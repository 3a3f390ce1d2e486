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
// Node's main thread (whose thread id is the process id), so the child is born in whatever cgroup
// the main thread is in at that moment. Moving a thread costs the kernel an RCU grace period (often
// 5 to 15 ms on a busy machine), so instead of stepping in and out around each spawn, the main
// thread waits ("parks") in the next command's cgroup ahead of time:
// 1. At start-up the main thread moves into a fresh, unlimited cgroup: the parked one.
// 2. To start a sandboxed command: set the parked cgroup's pids.max, spawn (the child is born
//    there), and move the main thread on into a new parked cgroup, in the background.
// 3. The next spawn waits until that move is done, so it never lands in the previous command's cgroup.
// Other processes the server spawns meanwhile (rg, git) also land in the parked cgroup; they are
// counted against that command's limit but never killed with it: cleanup kills only processes in
// another PID namespace than the server's, i.e. inside the sandbox. A command outside the sandbox
// (no PID namespace to tell its processes apart) gets an exclusive cgroup instead: the main thread
// steps in, spawns and steps back synchronously, paying the grace period.
// cgroup v2 does not allow one thread of a process to move alone, so on v2-only machines agentbox
// falls back to RLIMIT_NPROC (and `agentbox doctor` says that root then has no process limit).
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdir as fsMkdir, writeFile as fsWriteFile } from 'node:fs';
import { rmdir } from 'node:fs/promises';
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

/** The pids cgroup hierarchy this server creates command cgroups in, found once per runtime. */
export class PidsCgroups {
  /** The server's own cgroup directory, where its main thread returns at shutdown. */
  readonly #home: string;
  /** `<home>/agentbox-<pid>`: holds one cgroup per command, and the parked one. */
  readonly dir: string;
  readonly #log: Logger;
  readonly #pidNs: string;
  #seq = 0;
  /** The cgroup the main thread is parked in (the next command's), once a move has finished. */
  #parked: string | undefined;
  /** The background move into the next parked cgroup. */
  #moving: Promise<void> = Promise.resolve();
  /** Spawns run one at a time, each after the previous move. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Command cgroups that still held other processes of the server when their command ended. */
  #leftover = new Set<CommandCgroup>();

  private constructor(home: string, dir: string, log: Logger) {
    this.#home = home;
    this.dir = dir;
    this.#log = log;
    this.#pidNs = pidNamespace('self') ?? '';
  }

  /** Finds a writable cgroup v1 pids hierarchy and parks the main thread in it; undefined where there is none. */
  static detect(log: Logger, procRoot = '/proc'): PidsCgroups | undefined {
    try {
      const home = ownPidsCgroup(procRoot);
      if (!home) return undefined;
      removeStale(home);
      const dir = path.join(home, `agentbox-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      const groups = new PidsCgroups(home, dir, log);
      const first = groups.#newDir();
      writeFileSync(path.join(first, 'tasks'), String(process.pid));
      groups.#parked = first;
      return groups;
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'no writable pids cgroup; process limits use RLIMIT_NPROC');
      return undefined;
    }
  }

  /**
   * Runs the synchronous `spawn` so that the child is born in a cgroup of its own with `pids.max`.
   * `sandboxed` commands use the parked cgroup (no waiting on the kernel); others get an exclusive one.
   */
  spawnInto<T>(opts: { maxProcesses: number; sandboxed: boolean }, spawn: () => T): Promise<{ value: T; cgroup: CommandCgroup }> {
    const run = this.#queue.then(async () => {
      await this.#moving;
      return opts.sandboxed ? this.#spawnParked(opts.maxProcesses, spawn) : this.#spawnExclusive(opts.maxProcesses, spawn);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #spawnParked<T>(maxProcesses: number, spawn: () => T): { value: T; cgroup: CommandCgroup } {
    const dir = this.#parked;
    if (!dir) return this.#spawnExclusive(maxProcesses, spawn);
    // The main thread is counted too until it has moved on: leave room for it.
    writeFileSync(path.join(dir, 'pids.max'), String(Math.max(2, maxProcesses)));
    this.#parked = undefined;
    try {
      return { value: spawn(), cgroup: new CommandCgroup(dir, this.#pidNs, true, this.#log) };
    } finally {
      this.#moveOn();
    }
  }

  #spawnExclusive<T>(maxProcesses: number, spawn: () => T): { value: T; cgroup: CommandCgroup } {
    const dir = this.#newDir();
    writeFileSync(path.join(dir, 'pids.max'), String(Math.max(2, maxProcesses))); // room for the main thread
    const back = this.#parked ?? this.#home;
    writeFileSync(path.join(dir, 'tasks'), String(process.pid));
    try {
      return { value: spawn(), cgroup: new CommandCgroup(dir, this.#pidNs, false, this.#log) };
    } finally {
      writeFileSync(path.join(back, 'tasks'), String(process.pid));
    }
  }

  /** Moves the main thread into a new parked cgroup, on a pool thread so the event loop never waits for the kernel. */
  #moveOn(): void {
    const next = path.join(this.dir, `c${++this.#seq}`);
    this.#moving = new Promise<void>((resolve, reject) => {
      // One mkdir and one write on the pool (callback API: no FileHandle objects to open and collect).
      fsMkdir(next, (err) => (err ? reject(err) : fsWriteFile(path.join(next, 'tasks'), String(process.pid), (e) => (e ? reject(e) : resolve()))));
    }).then(
        () => void (this.#parked = next),
        (err: Error) => {
          this.#log.warn({ err: err.message }, 'could not park in the next command cgroup');
          tryRmdir(next);
        },
      );
  }

  #newDir(): string {
    const dir = path.join(this.dir, `c${++this.#seq}`);
    mkdirSync(dir);
    return dir;
  }

  /** Remembers a command cgroup that could not be removed yet (other processes of the server are still in it). */
  keep(cgroup: CommandCgroup): void {
    this.#leftover.add(cgroup);
  }

  /** Removes the command cgroups that have emptied since. */
  sweep(): void {
    for (const cg of this.#leftover) if (cg.remove()) this.#leftover.delete(cg);
  }

  /** Moves the main thread home and removes every cgroup of this server (at shutdown). */
  async removeAll(): Promise<void> {
    await this.#moving;
    try {
      writeFileSync(path.join(this.#home, 'tasks'), String(process.pid));
    } catch {
      // the hierarchy went away
    }
    this.#parked = undefined;
    for (const name of safeReaddir(this.dir)) if (name.startsWith('c')) tryRmdir(path.join(this.dir, name));
    tryRmdir(this.dir);
  }
}

/** One command's pids cgroup. */
export class CommandCgroup {
  constructor(
    readonly dir: string,
    /** The server's PID namespace: processes in it are the server's own, never the sandbox's. */
    readonly serverPidNs: string,
    /** Other processes of the server may share this cgroup (see the header). */
    readonly shared: boolean,
    readonly log: Logger,
  ) {}

  /** Process ids in the cgroup now. */
  pids(): number[] {
    try {
      return readFileSync(path.join(this.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** The command's processes in the cgroup: all of them, or in a shared cgroup those inside the sandbox. */
  commandPids(): number[] {
    const pids = this.pids().filter((p) => p !== process.pid);
    return this.shared ? pids.filter((p) => { const ns = pidNamespace(String(p)); return ns !== undefined && ns !== this.serverPidNs; }) : pids;
  }

  /** Sends `signal` to the command's processes in the cgroup. */
  signalAll(signal: NodeJS.Signals): void {
    for (const pid of this.commandPids()) {
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

  /**
   * Kills what is left of the command in the cgroup, waits for it to go (bounded), and removes the
   * cgroup; false when other processes of the server still hold it (the caller retries later).
   */
  async close(): Promise<boolean> {
    for (let attempt = 0; attempt < 100; attempt++) {
      // rmdir of a cgroup can take the kernel a while: on a pool thread, not the event loop.
      if (await rmdir(this.dir).then(() => true, (err: NodeJS.ErrnoException) => err.code === 'ENOENT')) return true;
      if (this.commandPids().length === 0) return false;
      this.signalAll('SIGKILL');
      await new Promise((r) => setTimeout(r, Math.min(5 * 2 ** attempt, 50)));
    }
    this.log.warn({ dir: this.dir }, 'a command cgroup did not empty');
    return false;
  }
}

function pidNamespace(pid: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
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
