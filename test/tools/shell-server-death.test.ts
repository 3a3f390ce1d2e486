// A server killed with SIGKILL cannot run its cleanup. Sandboxed commands end with it anyway (bwrap
// --die-with-parent ends their PID namespace); these tests cover what runs outside the sandbox and
// what a dead server leaves behind: commands end with the server (parent-death signal and
// watchdog), and the next server removes a dead one's cgroups (killing what is still in them) and
// its private temp dir.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { eventually, marker, parseExec, processesMatching } from '../support/exec.js';
import { which } from '../../src/util/which.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let conns: Connected[] = [];
let dirs: TempDir[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) await c.close().catch(() => undefined);
  for (const d of dirs.splice(0)) d.cleanup();
});

async function serve(args: string[]): Promise<Connected> {
  const conn = await connectStdio({ args });
  conns.push(conn);
  return conn;
}

const ppidOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};

/** Whether this process may create cgroups (root or a delegated cgroup v1 pids hierarchy). */
const pidsCgroupWritable = (() => {
  const line = /^\d+:pids:(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'));
  if (!line) return false;
  try {
    rmdirSync(mkdtempSync(path.join('/sys/fs/cgroup/pids', line[1]!, 'agentbox-probe-')));
    return true;
  } catch {
    return false;
  }
})();

describe('a server killed with SIGKILL', () => {
  it('takes its unsandboxed commands with it, with everything in their process group', async () => {
    const ws = tempDir();
    dirs.push(ws);
    const m = marker();
    const conn = await serve(['--root', ws.dir, '--sandbox', 'danger-full-access']);
    const r = parseExec((await conn.call('exec_command', { cmd: `sleep ${m} & sleep ${m}`, yield_time_ms: 500 })).text);
    expect(r.sessionId).toBeGreaterThan(0);
    // bash (whose command line names them too) and the two sleeps.
    expect(await eventually(() => processesMatching(`sleep ${m}`).length === 3)).toBe(true);
    process.kill(conn.pid!, 'SIGKILL');
    expect(await eventually(() => processesMatching(`sleep ${m}`).length === 0)).toBe(true);
  });

  it.runIf(pidsCgroupWritable)('leaves cgroups that the next server empties (killing what still runs there) and removes', async () => {
    const ws = tempDir();
    dirs.push(ws);
    const m = marker();
    const first = await serve(['--root', ws.dir, '--sandbox', 'danger-full-access']);
    // setsid: out of the command's process group, so only its cgroup still holds it.
    const r = parseExec((await first.call('exec_command', { cmd: `setsid sleep ${m} & sleep ${m}`, yield_time_ms: 500 })).text);
    expect(r.sessionId).toBeGreaterThan(0);
    expect(await eventually(() => processesMatching(`sleep ${m}`).length === 3)).toBe(true);
    // The server and its watchdog die together: nothing of the first server can clean up.
    const watchdog = processesMatching('declare -A groups').filter((p) => ppidOf(p) === first.pid);
    expect(watchdog).toHaveLength(1);
    process.kill(watchdog[0]!, 'SIGKILL');
    process.kill(first.pid!, 'SIGKILL');
    // bash dies of its parent-death signal where setpriv is installed; the two sleeps stay.
    expect(await eventually(() => processesMatching(`sleep ${m}`).length === (which('setpriv') ? 2 : 3))).toBe(true);
    const stale = path.join('/sys/fs/cgroup/pids', /^\d+:pids:(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))![1]!, `agentbox-${first.pid}`);
    expect(existsSync(stale)).toBe(true);

    const second = await serve(['--root', ws.dir]);
    expect(parseExec((await second.call('exec_command', { cmd: 'true' })).text).exitCode).toBe(0);
    expect(await eventually(() => processesMatching(`sleep ${m}`).length === 0)).toBe(true);
    expect(existsSync(stale)).toBe(false);
  });

  it('leaves a private temp dir that the next server removes', async () => {
    const ws = tempDir();
    dirs.push(ws);
    const first = await serve(['--root', ws.dir]);
    await first.call('exec_command', { cmd: 'echo scratch > /tmp/left-behind' });
    const own = readdirSync(os.tmpdir()).filter((n) => n.startsWith(`agentbox-${first.pid}-`));
    expect(own).toHaveLength(1);
    const left = path.join(os.tmpdir(), own[0]!);
    expect(readFileSync(path.join(left, 'left-behind'), 'utf8')).toBe('scratch\n');
    process.kill(first.pid!, 'SIGKILL');
    await eventually(() => !existsSync(`/proc/${first.pid}`));
    expect(existsSync(left)).toBe(true);
    await serve(['--root', ws.dir]);
    expect(await eventually(() => !existsSync(left))).toBe(true);
  });
});
