// The server's private temp directory (mounted as /tmp in the sandbox), named so that a later
// server can tell a dead server's directory from anything else in the system temp dir:
// `agentbox-<pid>-<start time>-XXXXXX`. The start time (from /proc/<pid>/stat, in clock ticks since
// boot) tells a dead server's pid apart from a new process that got the same pid.
import { mkdtempSync, readFileSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const NAME = /^agentbox-(\d+)-(\d+)-[A-Za-z0-9]{6}$/;

/** Creates this server's private temp dir in `parent` (default: the system temp dir). */
export function createPrivateTmp(parent = os.tmpdir()): string {
  return mkdtempSync(path.join(parent, `agentbox-${process.pid}-${startTime(process.pid) ?? 0}-`));
}

/**
 * Removes the private temp dirs of agentbox servers that no longer run (killed before they could
 * clean up): only directories with our name pattern, owned by this user, whose process is gone.
 * Runs in the background; failures are ignored.
 */
export async function removeStalePrivateTmps(parent = os.tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    const m = NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || startTime(pid) === Number(m[2])) continue; // still running
    const dir = path.join(parent, name);
    const info = await lstat(dir).catch(() => undefined);
    if (!info?.isDirectory() || info.uid !== (process.getuid?.() ?? info.uid)) continue;
    await rm(dir, { recursive: true, force: true }).then(() => removed.push(dir), () => undefined);
  }
  return removed;
}

/** A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat); undefined when it does not exist. */
export function startTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}
