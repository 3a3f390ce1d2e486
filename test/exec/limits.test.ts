import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandCgroups, rlimitPrefix, shellArgs } from '../../src/exec/index.js';
import { createLogger } from '../../src/log.js';
import { eventually } from '../support/exec.js';

const limits = { maxProcesses: 77, maxMemoryMb: 512, maxCpuSeconds: 42 };

describe('rlimitPrefix', () => {
  it('sets data size, CPU time and (in the sandbox) the process count, silently and on one line', () => {
    expect(rlimitPrefix(limits, { nproc: true })).toBe('{ ulimit -d 524288; ulimit -t 42; ulimit -u 77; } 2>/dev/null; ');
    expect(rlimitPrefix(limits, { nproc: false })).toBe('{ ulimit -d 524288; ulimit -t 42; } 2>/dev/null; ');
  });

  it('is in force for the command that follows it', () => {
    const out = execFileSync('bash', ['-c', `${rlimitPrefix(limits, { nproc: true })}ulimit -d; ulimit -t; ulimit -u; echo line $LINENO`], { encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(['524288', '42', '77', 'line 1']);
  });
});

describe('CommandCgroups', () => {
  const cgroupOf = (text: string, controller: string) => new RegExp(`^\\d+:${controller}:(.*)$`, 'm').exec(text)?.[1];
  const mine = (controller = 'pids') => cgroupOf(readFileSync(`/proc/self/task/${process.pid}/cgroup`, 'utf8'), controller);
  const limits = { maxProcesses: 33, maxMemoryBytes: 64 * 1024 * 1024 };

  it('starts each child in cgroups of its own with pids.max and a memory limit, and the server never in a command\'s', async () => {
    const groups = CommandCgroups.detect(createLogger('silent'));
    if (!groups) {
      // Only where no cgroup v1 hierarchy is writable (then limits fall back to the rlimits).
      // On this project's CI (root, cgroup v1) it must be found.
      expect(process.getuid?.() === 0 ? readFileSync('/proc/self/cgroup', 'utf8') : 'non-root').not.toMatch(/^\d+:pids:/m);
      return;
    }
    try {
      // The main thread waits, parked, in the next command's cgroups.
      const parked = mine();
      expect(parked).toMatch(new RegExp(`/agentbox-${process.pid}/c\\d+$`));

      // A sandboxed spawn is born in the parked cgroups, with the limits set.
      const a = await groups.spawnInto({ limits, sandboxed: true }, () => execFileSync('cat', ['/proc/self/cgroup'], { encoding: 'utf8' }));
      expect(cgroupOf(a.value, 'pids')).toBe(parked);
      expect(readFileSync(`${a.cgroup.dir}/pids.max`, 'utf8').trim()).toBe('33');
      if (groups.has('memory')) {
        expect(cgroupOf(a.value, 'memory')).toMatch(new RegExp(`/agentbox-${process.pid}/${path.basename(parked!)}$`));
        // The limit is set once the main thread has moved out: the command's budget on top of the server's own charges.
        expect(await eventually(() => Number(readFileSync(`${a.cgroup.dirs.memory}/memory.limit_in_bytes`, 'utf8')) < 2 ** 40)).toBe(true);
        expect(Number(readFileSync(`${a.cgroup.dirs.memory}/memory.limit_in_bytes`, 'utf8'))).toBeGreaterThanOrEqual(limits.maxMemoryBytes);
        expect(mine('memory')).not.toBe(cgroupOf(a.value, 'memory'));
      }
      // The server's own processes are never the command's (only the sandbox's PID namespace is).
      expect(a.cgroup.commandPids()).toEqual([]);

      // An unsandboxed spawn gets exclusive cgroups; the next spawn never shares a cgroup with the last.
      const b = await groups.spawnInto({ limits: { ...limits, maxProcesses: 7 }, sandboxed: false }, () => execFileSync('cat', ['/proc/self/cgroup'], { encoding: 'utf8' }));
      expect(cgroupOf(b.value, 'pids')).not.toBe(parked);
      expect(readFileSync(`${b.cgroup.dir}/pids.max`, 'utf8').trim()).toBe('7');
      expect(mine()).not.toBe(parked);
      expect(mine()).not.toBe(cgroupOf(b.value, 'pids'));
      if (groups.has('memory')) expect(await eventually(() => Number(readFileSync(`${b.cgroup.dirs.memory}/memory.limit_in_bytes`, 'utf8')) === limits.maxMemoryBytes)).toBe(true);
      expect(await a.cgroup.close()).toBe(true);
      expect(await b.cgroup.close()).toBe(true);

      // Emptied cgroups are reused: the server parks in one again only after its limits are lifted.
      const c = await groups.spawnInto({ limits, sandboxed: true }, () => execFileSync('cat', ['/proc/self/cgroup'], { encoding: 'utf8' }));
      const reused = await eventually(() => [a.cgroup.dir, b.cgroup.dir].some((d) => mine() !== undefined && d.endsWith(mine()!)));
      expect(reused).toBe(true);
      const parkedDir = [a.cgroup, b.cgroup].find((g) => g.dir.endsWith(mine()!))!;
      expect(readFileSync(`${parkedDir.dir}/pids.max`, 'utf8').trim()).toBe('max');
      if (parkedDir.dirs.memory) expect(Number(readFileSync(`${parkedDir.dirs.memory}/memory.limit_in_bytes`, 'utf8'))).toBeGreaterThan(2 ** 40);
      expect(await c.cgroup.close()).toBe(true);
    } finally {
      await groups.removeAll();
    }
    expect(mine()).not.toMatch(/agentbox-/);
    expect(mine('memory')).not.toMatch(/agentbox-/);
  });
});

describe('shellArgs', () => {
  const opts = { limits, nproc: true, tty: false, login: false };
  it('runs the command after the limits with bash -c, or -lc for a login shell', () => {
    expect(shellArgs('echo hi', opts)).toEqual(['-c', `${rlimitPrefix(limits, { nproc: true })}echo hi`]);
    expect(shellArgs('echo hi', { ...opts, login: true })[0]).toBe('-lc');
  });
  it('runs a PTY command as a foreground job, closing the subshell on its own line', () => {
    const [, script] = shellArgs('echo hi # comment', { ...opts, tty: true });
    expect(script).toBe(`${rlimitPrefix(limits, { nproc: true })}set -m; (echo hi # comment\n)`);
    expect(execFileSync('bash', ['-c', script!.replace('set -m; ', '')], { encoding: 'utf8' })).toBe('hi\n');
  });
});
