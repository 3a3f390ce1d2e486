// Finding and signalling a command's processes. A command runs in its own process group, but a
// sandboxed command lives in bwrap's new session and PID namespace, and any command may start a
// process that calls setsid; so besides the group, agentbox walks the process tree through
// /proc/<pid>/task/<tid>/children (and, where there is one, the command's pids cgroup).
import { readdirSync, readFileSync } from 'node:fs';

/** Every descendant of `pid` (children first, breadth-first), as seen in /proc now. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  const seen = new Set<number>([pid]);
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const child of childrenOf(current)) {
      if (seen.has(child)) continue;
      seen.add(child);
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Direct children of `pid`. */
export function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    try {
      for (const s of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (s) out.push(Number(s));
    } catch {
      // the task ended meanwhile
    }
  }
  return out;
}

/** True while `pid` exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Sends `signal` to each pid, ignoring the ones already gone. */
export function signalEach(pids: Iterable<number>, signal: NodeJS.Signals): void {
  for (const pid of pids) {
    if (pid <= 1 || pid === process.pid) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

/** Sends `signal` to the process group `pgid`. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid <= 1) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone
  }
}

/** Waits until none of `pids` is running, polling /proc, for at most `ms`; true when all are gone. */
export async function waitGone(pids: readonly number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  let delay = 5;
  for (;;) {
    if (!pids.some(isRunning)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}

/** Processes whose environment holds `entry` (`NAME=value`), among those this user may inspect. */
export function processesWithEnv(entry: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(entry)) out.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}
