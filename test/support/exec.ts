// Helpers for shell tests: read exec_command's fixed text form, and look for processes in /proc.
import { readdirSync, readFileSync } from 'node:fs';

export interface ExecText {
  exitCode?: number;
  sessionId?: number;
  header: string;
  output: string;
}

/** Parses `Process exited with code N` / `Process running with session ID N` ... `Output:` text. */
export function parseExec(text: string): ExecText {
  const exit = /^Process exited with code (\d+)$/m.exec(text);
  const running = /^Process running with session ID (\d+)$/m.exec(text);
  const at = text.search(/^Output( \(.*\))?:/m);
  const header = at < 0 ? text : text.slice(0, at);
  const output = at < 0 ? '' : text.slice(text.indexOf('\n', at) + 1);
  return {
    ...(exit ? { exitCode: Number(exit[1]) } : {}),
    ...(running ? { sessionId: Number(running[1]) } : {}),
    header,
    output: /^Output: \(none\)$/m.test(text) ? '' : output,
  };
}

/** Pids of live (non-zombie) processes whose command line contains `needle`. */
export function processesMatching(needle: string): number[] {
  return scanProc((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle));
}

/** Pids of live processes whose environment contains `entry` (e.g. `MARK=abc`). */
export function processesWithEnv(entry: string): number[] {
  return scanProc((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry));
}

function scanProc(match: (pid: number) => boolean): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (match(pid)) out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Polls `check` until it returns true or `ms` pass; returns the last answer (a bounded wait, not a timing assertion). */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A unique number for marking a test's processes (e.g. `sleep 3217.123`). */
export function marker(): string {
  return `${3000 + Math.floor(Math.random() * 6000)}.${process.pid % 1000}${Math.floor(Math.random() * 1000)}`;
}
