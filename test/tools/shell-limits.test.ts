// Resource limits seen from outside: a command printing 200 MB leaves the server's memory flat,
// and a fork bomb hits the process limit and ends at its timeout without harming the server.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { eventually, parseExec, processesWithEnv } from '../support/exec.js';
import { tempDir, type TempDir } from '../support/workspace.js';

const MAX_PROCESSES = 64;

let conn: Connected;
let ws: TempDir;

beforeAll(async () => {
  ws = tempDir();
  conn = await connectStdio({ args: ['--root', ws.dir], env: { AGENTBOX_SANDBOX_MAX_PROCESSES: String(MAX_PROCESSES) } });
});

afterAll(async () => {
  await conn?.close();
  ws?.cleanup();
});

/** VmHWM (peak RSS) and VmRSS of the server process, in MiB. */
function serverMemory(): { peak: number; rss: number } {
  const status = readFileSync(`/proc/${conn.pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { peak: kb('VmHWM'), rss: kb('VmRSS') };
}

/** Runs `cmd` to the end, polling with write_stdin while it runs; returns the last result text. */
async function runToEnd(args: Record<string, unknown>): Promise<string> {
  let r = await conn.call('exec_command', { yield_time_ms: 30_000, ...args });
  for (let i = 0; i < 20; i++) {
    const p = parseExec(r.text);
    if (p.sessionId === undefined) return r.text;
    r = await conn.call('write_stdin', { session_id: p.sessionId, yield_time_ms: 30_000 });
  }
  return r.text;
}

describe('resource limits', () => {
  it('keeps the server\'s memory bounded while a command prints 200 MB', async () => {
    await conn.call('exec_command', { cmd: 'seq 1 1000' }); // warm up
    const before = serverMemory();
    const text = await runToEnd({ cmd: 'head -c 200000000 /dev/zero | tr "\\0" a; echo; echo THE-END' });
    const after = serverMemory();
    const p = parseExec(text);
    expect(p.exitCode, text.slice(0, 300)).toBe(0);
    expect(text).toMatch(/^Output \(200000009 bytes, 1999\d{5} omitted from the middle; to see all of it, run the command again with its output redirected to a file, then grep or read_file it\):$/m);
    expect(p.output.startsWith('aaaa')).toBe(true);
    expect(p.output.endsWith('THE-END\n')).toBe(true);
    // The capture buffer is 1 MiB. Node's 64 KB read chunks are garbage until V8 collects them,
    // which adds a few tens of MB; keeping the output would add 200 MB or more.
    expect(after.peak - before.peak, JSON.stringify({ before, after })).toBeLessThan(100);
  });

  it('stops a fork bomb at the process limit and its timeout, and the server carries on', async () => {
    // 1. The limit must be in force before the bomb is lit: a pids cgroup (needed for root, where
    //    RLIMIT_NPROC is not enforced) or, for other users, RLIMIT_NPROC.
    const check = parseExec(
      (await conn.call('exec_command', {
        cmd: 'cg=$(grep -E "^[0-9]+:pids:" /proc/self/cgroup | cut -d: -f3); ' +
          'if [ -n "$cg" ] && [ -f "/sys/fs/cgroup/pids$cg/pids.max" ]; then echo "cgroup $(cat /sys/fs/cgroup/pids$cg/pids.max)"; ' +
          'elif [ "$(id -u)" != 0 ]; then echo "rlimit $(ulimit -u)"; else echo none; fi',
      })).text,
    );
    expect(check.output.trim()).toMatch(new RegExp(`^(cgroup|rlimit) ${MAX_PROCESSES}$`));

    // 2. The bomb, marked so that its processes can be found, with a short timeout.
    const mark = `BOMB_MARK=${process.pid}-${Date.now()}`;
    const text = await runToEnd({ cmd: `export ${mark}; bomb() { bomb | bomb & }; bomb; sleep 100`, timeout_ms: 3000 });
    const p = parseExec(text);
    expect(p.exitCode, text.slice(0, 500)).toBe(124);
    expect(p.output).toMatch(/fork: (retry: )?Resource temporarily unavailable/);

    // 3. Nothing of it is left, and the server still works.
    expect(await eventually(() => processesWithEnv(mark).length === 0, 10_000)).toBe(true);
    const alive = parseExec((await conn.call('exec_command', { cmd: 'echo still-here' })).text);
    expect(alive.output).toBe('still-here\n');
  });
});
