// Limits for a command as a whole, with cgroup v1 where the server may create cgroups (root, or a
// delegated hierarchy): each command gets its own cgroup in every hierarchy found of
// - `pids`: `pids.max` = sandbox.max_processes. RLIMIT_NPROC (rlimits.ts) works for ordinary users
//   but the kernel never enforces it for root; a pids cgroup holds for root too, and it also lists
//   every process of the command for killing.
// - `memory`: `memory.limit_in_bytes` = sandbox.max_memory_mb for all the command's processes
//   together, tmpfs pages it writes (/dev/shm) included. RLIMIT_DATA alone is per process.
//
// How a command gets into its cgroups without a wrapper process or a race: cgroup v1 places each
// thread separately and a child starts in its parent thread's cgroups. Spawning is synchronous on
// Node's main thread (whose thread id is the process id), so the child is born in whatever cgroups
// the main thread is in at that moment. Moving a thread costs the kernel an RCU grace period (often
// 5 to 15 ms on a busy machine), so instead of stepping in and out around each spawn, the main
// thread waits ("parks") in the next command's cgroups ahead of time:
// 1. At start-up the main thread moves into fresh, unlimited cgroups: the parked ones.
// 2. To start a sandboxed command: set the parked cgroup's pids.max, note its memory use so far,
//    spawn (the child is born there), and move the main thread on into new parked cgroups, in the
//    background.
// 3. Once the main thread is out, set the memory limit: the command's budget on top of what the
//    server itself left charged there while parked (its pages stay charged where they were first
//    touched). Not before: the memory cgroup's OOM killer picks among the tasks inside, and the
//    server must never be one of them. Until then (a few milliseconds) RLIMIT_DATA and the size of
//    /dev/shm bound the command; a command already over its budget by then is killed.
// 4. The next spawn waits until the move is done, so it never lands in the previous command's cgroups.
// 5. A command's cgroups that are empty once it has ended are kept for a later command (a few at
//    most) instead of removed: creating and removing a memory cgroup costs the kernel more than
//    resetting its limits, and a removed one lingers in the kernel while pages are still charged
//    to it.
// Other processes the server spawns meanwhile (rg, git) also land in the parked cgroups; they are
// counted against that command's limits but never killed with it: cleanup kills only processes in
// another PID namespace than the server's, i.e. inside the sandbox. A command outside the sandbox
// (no PID namespace to tell its processes apart) gets exclusive cgroups instead: the main thread
// steps in, spawns and steps back synchronously, paying the grace period.
// cgroup v2 does not allow one thread of a process to move alone, so on v2-only machines agentbox
// falls back to the rlimits (and `agentbox doctor` says which limits hold).
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdir as fsMkdir, readFile as fsReadFile, writeFile as fsWriteFile } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';

export type Controller = 'pids' | 'memory';
const CONTROLLERS: readonly Controller[] = ['pids', 'memory'];
/** Emptied command cgroups kept for reuse. */
const FREE_CGROUPS = 8;

export interface CgroupLimits {
  maxProcesses: number;
  maxMemoryBytes: number;
}

interface Hierarchy {
  controller: Controller;
  /** The server's own cgroup directory, where its main thread returns at shutdown. */
  home: string;
  /** `<home>/agentbox-<pid>`: holds one cgroup per command, and the parked one. */
  dir: string;
}

/** The cgroup hierarchies this server creates command cgroups in, found once per runtime. */
export class CommandCgroups {
  #hierarchies: Hierarchy[];
  readonly #log: Logger;
  readonly #pidNs: string;
  #seq = 0;
  /** The name (`c<N>`) of the cgroups the main thread is parked in (the next command's), once a move has finished. */
  #parked: string | undefined;

  /** The background move into the next parked cgroups. */
  #moving: Promise<void> = Promise.resolve();
  /** Spawns run one at a time, each after the previous move. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Command cgroups that still held other processes of the server when their command ended. */
  #leftover = new Set<CommandCgroup>();
  /** Empty cgroups (by name) ready for another command, with the OOM kill count they already have. */
  #free: string[] = [];
  /** Read once: without swap, the memory limit alone bounds a command. */
  readonly #swap = hasSwap();

  private constructor(hierarchies: Hierarchy[], log: Logger) {
    this.#hierarchies = hierarchies;
    this.#log = log;
    this.#pidNs = pidNamespace('self') ?? '';
  }

  /**
   * Finds the writable cgroup v1 hierarchies among `controllers`, removes what dead servers left in
   * them (killing their commands), and parks the main thread; undefined where there is none.
   */
  static detect(log: Logger, opts: { procRoot?: string; controllers?: readonly Controller[] } = {}): CommandCgroups | undefined {
    const found: Hierarchy[] = [];
    for (const controller of opts.controllers ?? CONTROLLERS) {
      try {
        const home = ownCgroup(opts.procRoot ?? '/proc', controller);
        if (!home) continue;
        removeStale(home, log);
        const dir = path.join(home, `agentbox-${process.pid}`);
        mkdirSync(dir, { recursive: true });
        found.push({ controller, home, dir });
      } catch (err) {
        log.debug({ controller, err: (err as Error).message }, 'no writable cgroup for this controller');
      }
    }
    if (found.length === 0) return undefined;
    const groups = new CommandCgroups(found, log);
    const first = `c${++groups.#seq}`;
    for (const h of [...found]) {
      try {
        mkdirSync(path.join(h.dir, first));
        writeFileSync(path.join(h.dir, first, 'tasks'), String(process.pid));
      } catch (err) {
        log.debug({ controller: h.controller, err: (err as Error).message }, 'cannot move into a cgroup of this controller');
        groups.#drop(h);
      }
    }
    if (groups.#hierarchies.length === 0) return undefined;
    groups.#parked = first;
    return groups;
  }

  /** Whether commands get a cgroup of `controller`. */
  has(controller: Controller): boolean {
    return this.#hierarchies.some((h) => h.controller === controller);
  }

  /**
   * Runs the synchronous `spawn` so that the child is born in cgroups of its own, with the limits.
   * `sandboxed` commands use the parked cgroups (no waiting on the kernel); others get exclusive ones.
   */
  spawnInto<T>(opts: { limits: CgroupLimits; sandboxed: boolean }, spawn: () => T): Promise<{ value: T; cgroup: CommandCgroup }> {
    const run = this.#queue.then(async () => {
      await this.#moving;
      return opts.sandboxed && this.#parked ? this.#spawnParked(opts.limits, spawn) : this.#spawnExclusive(opts.limits, spawn);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #spawnParked<T>(limits: CgroupLimits, spawn: () => T): { value: T; cgroup: CommandCgroup } {
    const name = this.#parked!;
    const hs = [...this.#hierarchies];
    const { baseline, oomKills } = this.#prepare(hs, name, limits);
    this.#parked = undefined;
    let cgroup: CommandCgroup | undefined;
    try {
      const value = spawn();
      cgroup = new CommandCgroup(dirsOf(hs, name), this.#pidNs, true, this.#log, { recycle: (c) => this.#recycle(c, name), oomKillsBefore: oomKills, swap: this.#swap });
      return { value, cgroup };
    } finally {
      this.#moveOn(hs);
      // The memory limit once the main thread is out (step 3 in the header).
      if (baseline !== undefined) void this.#moving.then(() => cgroup?.limitMemory(baseline + limits.maxMemoryBytes));
    }
  }

  #spawnExclusive<T>(limits: CgroupLimits, spawn: () => T): { value: T; cgroup: CommandCgroup } {
    const hs = [...this.#hierarchies];
    const name = this.#newDirs(hs);
    const { baseline } = this.#prepare(hs, name, limits);
    for (const h of hs) writeFileSync(path.join(h.dir, name, 'tasks'), String(process.pid));
    let cgroup: CommandCgroup | undefined;
    try {
      const value = spawn();
      cgroup = new CommandCgroup(dirsOf(hs, name), this.#pidNs, false, this.#log, { recycle: (c) => this.#recycle(c, name), swap: this.#swap });
      return { value, cgroup };
    } finally {
      for (const h of hs) writeFileSync(path.join(this.#parked ? path.join(h.dir, this.#parked) : h.home, 'tasks'), String(process.pid));
      if (baseline !== undefined) void cgroup?.limitMemory(baseline + limits.maxMemoryBytes);
    }
  }

  /** Sets pids.max in `name`'s pids cgroup; returns the memory already charged to its memory cgroup, if there is one. */
  #prepare(hs: Hierarchy[], name: string, limits: CgroupLimits): { baseline?: number; oomKills: number } {
    let baseline: number | undefined;
    let oomKills = 0;
    for (const h of hs) {
      const dir = path.join(h.dir, name);
      // The main thread is counted too until it has moved on: leave room for it.
      if (h.controller === 'pids') writeFileSync(path.join(dir, 'pids.max'), String(Math.max(2, limits.maxProcesses)));
      else {
        baseline = Number(readFileSync(path.join(dir, 'memory.usage_in_bytes'), 'utf8').trim()) || 0;
        // A reused cgroup counts earlier commands' OOM kills too.
        oomKills = parseOomKills(readFileSync(path.join(dir, 'memory.oom_control'), 'utf8'));
      }
    }
    return { baseline, oomKills };
  }

  /**
   * Moves the main thread into the next parked cgroups (a free one, its limits lifted first, or new
   * ones), on pool threads so the event loop never waits for the kernel.
   */
  #moveOn(hs: Hierarchy[]): void {
    const reused = this.#free.pop();
    const next = reused ?? `c${++this.#seq}`;
    const moveOne = (h: Hierarchy) =>
      (reused ? liftLimits(h, path.join(h.dir, next), this.#swap) : Promise.resolve())
        .then(
          () =>
            new Promise<void>((resolve, reject) => {
              // One mkdir and one write on the pool (callback API: no FileHandle objects to open and collect).
              const dir = path.join(h.dir, next);
              const enter = () => fsWriteFile(path.join(dir, 'tasks'), String(process.pid), (e) => (e ? reject(e) : resolve()));
              if (reused) enter();
              else fsMkdir(dir, (err) => (err ? reject(err) : enter()));
            }),
        )
        .catch(async (err: Error) => {
        // The main thread must not stay in the command's cgroup: back home, and this controller is no longer used.
        this.#log.warn({ controller: h.controller, err: err.message }, 'could not park in the next command cgroup; commands get no cgroup of this controller from now on');
        await writeFile(path.join(h.home, 'tasks'), String(process.pid)).catch(() => undefined);
        tryRmdir(path.join(h.dir, next));
        this.#drop(h);
      });
    this.#moving = Promise.all(hs.map(moveOne)).then(() => {
      this.#parked = this.#hierarchies.length > 0 ? next : undefined;
    });
  }

  /** Takes an emptied command cgroup back for a later command; false when the pool is full (the caller removes it). */
  #recycle(cgroup: CommandCgroup, name: string): boolean {
    const sameHierarchies = this.#hierarchies.length === Object.keys(cgroup.dirs).length && this.#hierarchies.every((h) => cgroup.dirs[h.controller] !== undefined);
    if (!sameHierarchies || this.#free.length >= FREE_CGROUPS || this.#free.includes(name)) return false;
    this.#free.push(name);
    return true;
  }

  #newDirs(hs: Hierarchy[]): string {
    const name = `c${++this.#seq}`;
    for (const h of hs) mkdirSync(path.join(h.dir, name));
    return name;
  }

  #drop(h: Hierarchy): void {
    this.#hierarchies = this.#hierarchies.filter((x) => x !== h);
  }

  /** Moves a helper process of the server (not a command) back to the server's own cgroups. */
  moveHome(pid: number): void {
    for (const h of this.#hierarchies) {
      try {
        writeFileSync(path.join(h.home, 'cgroup.procs'), String(pid));
      } catch {
        // it ended meanwhile
      }
    }
  }

  /** Remembers a command cgroup that could not be removed yet (other processes of the server are still in it). */
  keep(cgroup: CommandCgroup): void {
    this.#leftover.add(cgroup);
  }

  /** Removes the command cgroups that have emptied since. */
  async sweep(): Promise<void> {
    for (const cg of [...this.#leftover]) if (await cg.remove()) this.#leftover.delete(cg);
  }

  /** Moves the main thread home and removes every cgroup of this server (at shutdown). */
  async removeAll(): Promise<void> {
    await this.#moving;
    this.#parked = undefined;
    this.#free = [];
    for (const h of this.#hierarchies) {
      try {
        writeFileSync(path.join(h.home, 'tasks'), String(process.pid));
      } catch {
        // the hierarchy went away
      }
      for (const name of safeReaddir(h.dir)) if (name.startsWith('c')) tryRmdir(path.join(h.dir, name));
      tryRmdir(h.dir);
    }
  }
}

/** One command's cgroups (one per hierarchy, the same name in each). */
export class CommandCgroup {
  /** Set when the command was already over its memory budget when the limit could be set, and was killed. */
  memoryExceeded = false;

  constructor(
    readonly dirs: Partial<Record<Controller, string>>,
    /** The server's PID namespace: processes in it are the server's own, never the sandbox's. */
    readonly serverPidNs: string,
    /** Other processes of the server may share this cgroup (see the header). */
    readonly shared: boolean,
    readonly log: Logger,
    readonly opts: {
      /** Offers the emptied cgroups for reuse instead of removal; true when taken. */
      recycle?: (c: CommandCgroup) => boolean;
      /** OOM kills counted before this command (a reused memory cgroup). */
      oomKillsBefore?: number;
      /** The machine has swap: memory+swap is limited too. */
      swap?: boolean;
    } = {},
  ) {}

  /** The directory of the command's pids cgroup (or, without one, its memory cgroup). */
  get dir(): string {
    return (this.dirs.pids ?? this.dirs.memory)!;
  }

  /** Process ids in the cgroup now. */
  pids(): number[] {
    return readProcs(this.dir);
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

  /** Sets the memory limit (and the memory+swap limit, so swap does not extend it); kills the command if it is over already. */
  async limitMemory(bytes: number): Promise<void> {
    const dir = this.dirs.memory;
    if (!dir) return;
    try {
      await writeFile(path.join(dir, 'memory.limit_in_bytes'), String(bytes));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // ended and removed already
      // EBUSY: the command used more than its budget in its first milliseconds.
      this.memoryExceeded = true;
      this.signalAll('SIGKILL');
      this.log.warn({ dir, err: (err as Error).message }, 'a command was over its memory limit before the limit was set; killed');
      return;
    }
    if (this.opts.swap ?? true) await writeFile(path.join(dir, 'memory.memsw.limit_in_bytes'), String(bytes)).catch(() => undefined);
  }

  /** How many of the command's processes the kernel killed for going over the memory limit. */
  async oomKills(): Promise<number> {
    if (!this.dirs.memory) return 0;
    const total = parseOomKills(await readFile(path.join(this.dirs.memory, 'memory.oom_control')).catch(() => ''));
    return Math.max(0, total - (this.opts.oomKillsBefore ?? 0)) + (this.memoryExceeded ? 1 : 0);
  }

  /** Removes the cgroups (on a pool thread); true when they were empty and are gone. */
  async remove(): Promise<boolean> {
    if (this.pids().length > 0) return false;
    return this.#rmdirs();
  }

  /** rmdir of every directory (on pool threads); true when all are gone. */
  async #rmdirs(): Promise<boolean> {
    const gone = await Promise.all(Object.values(this.dirs).map((d) => rmdir(d).then(() => true, (err: NodeJS.ErrnoException) => err.code === 'ENOENT')));
    return gone.every(Boolean);
  }

  /**
   * Kills what is left of the command in the cgroup, waits for it to go (bounded), and removes the
   * cgroups; false when other processes of the server still hold them (the caller retries later).
   */
  async close(): Promise<boolean> {
    const dirs = Object.values(this.dirs);
    for (let attempt = 0; attempt < 100; attempt++) {
      if (this.pids().length === 0) {
        // Empty, and nothing can enter it now but the server's main thread when it parks there
        // again: keep it for another command, or remove it (on a pool thread: rmdir of a cgroup
        // can take the kernel a while).
        if (this.opts.recycle?.(this)) return true;
        if (await this.#rmdirs()) return true;
      }
      // Only other processes of the server left (see the header): the caller retries later. A
      // process whose namespace cannot be read any more is exiting: wait for it.
      const left = this.pids().filter((p) => p !== process.pid);
      if (left.length > 0 && left.every((p) => pidNamespace(String(p)) === this.serverPidNs)) return false;
      // The sandbox's processes still being torn down, or what the command left behind.
      this.signalAll('SIGKILL');
      await new Promise((r) => setTimeout(r, Math.min(5 * 2 ** attempt, 50)));
    }
    this.log.warn({ dirs }, 'a command cgroup did not empty');
    return false;
  }
}

/** Writes a cgroup file on a pool thread with the callback API (no FileHandle objects: cheaper per command). */
function writeFile(file: string, data: string): Promise<void> {
  return new Promise((resolve, reject) => fsWriteFile(file, data, (err) => (err ? reject(err) : resolve())));
}

function readFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => fsReadFile(file, 'utf8', (err, text) => (err ? reject(err) : resolve(text))));
}

/** Whether the machine has swap: only then does memory+swap need a limit of its own. */
function hasSwap(): boolean {
  try {
    return !/^SwapTotal:\s+0 kB$/m.test(readFileSync('/proc/meminfo', 'utf8'));
  } catch {
    return true;
  }
}

/** Lifts a reused cgroup's limits before the main thread parks in it (memory+swap first: it may never be below the memory limit). */
async function liftLimits(h: Hierarchy, dir: string, swap: boolean): Promise<void> {
  if (h.controller === 'pids') await writeFile(path.join(dir, 'pids.max'), 'max');
  else {
    if (swap) await writeFile(path.join(dir, 'memory.memsw.limit_in_bytes'), '-1').catch(() => undefined);
    await writeFile(path.join(dir, 'memory.limit_in_bytes'), '-1');
  }
}

function parseOomKills(oomControl: string): number {
  return Number(/^oom_kill (\d+)$/m.exec(oomControl)?.[1] ?? 0);
}

function dirsOf(hs: Hierarchy[], name: string): Partial<Record<Controller, string>> {
  return Object.fromEntries(hs.map((h) => [h.controller, path.join(h.dir, name)]));
}

function pidNamespace(pid: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** The server's cgroup directory for `controller` from /proc/self/cgroup and /proc/self/mountinfo (cgroup v1). */
function ownCgroup(procRoot: string, controller: Controller): string | undefined {
  const line = readFileSync(path.join(procRoot, 'self/cgroup'), 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes(controller));
  if (!line) return undefined;
  const rel = line.split(':').slice(2).join(':');
  for (const entry of readFileSync(path.join(procRoot, 'self/mountinfo'), 'utf8').split('\n')) {
    const [left, right] = entry.split(' - ');
    if (!left || !right) continue;
    const [fstype, , superOpts] = right.split(' ');
    if (fstype !== 'cgroup' || !superOpts?.split(',').includes(controller)) continue;
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

/**
 * Removes `agentbox-<pid>` cgroups left behind by servers that no longer run. A server killed with
 * SIGKILL could not end its commands: what still runs in its cgroups (a command outside the
 * sandbox, or what it started) is killed first, as the server would have at shutdown.
 */
function removeStale(home: string, log: Logger): void {
  for (const name of safeReaddir(home)) {
    const m = /^agentbox-(\d+)$/.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    const dir = path.join(home, name);
    const cgroups = safeReaddir(dir).filter((c) => /^c\d+$/.test(c)).map((c) => path.join(dir, c));
    let killed = 0;
    for (let attempt = 0; attempt < 20; attempt++) {
      let left = 0;
      for (const cg of cgroups) {
        for (const pid of readProcs(cg)) {
          left++;
          try {
            process.kill(pid, 'SIGKILL');
            if (attempt === 0) killed++;
          } catch {
            // gone
          }
        }
        tryRmdir(cg);
      }
      if (left === 0) break;
      sleepSync(25);
    }
    if (killed > 0) log.info({ cgroup: dir, killed }, 'killed the commands a dead agentbox server left running');
    tryRmdir(dir);
  }
}

function readProcs(cgroup: string): number[] {
  try {
    return readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Blocks the thread for `ms` (start-up only: the hierarchy is scanned once, before any command runs). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
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
