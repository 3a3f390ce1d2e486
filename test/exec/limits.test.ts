import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PidsCgroups, rlimitPrefix, shellArgs } from '../../src/exec/index.js';
import { createLogger } from '../../src/log.js';

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

describe('PidsCgroups', () => {
  it('puts a spawned child, and only the child, into a command cgroup with pids.max set', () => {
    const groups = PidsCgroups.detect(createLogger('silent'));
    if (!groups) {
      // Without a writable cgroup v1 pids hierarchy the limit falls back to RLIMIT_NPROC; nothing to check here.
      expect(process.getuid?.() === 0 ? readFileSync('/proc/self/cgroup', 'utf8') : 'non-root').not.toMatch(/^\d+:pids:/m);
      return;
    }
    const cg = groups.create(33)!;
    expect(readFileSync(`${cg.dir}/pids.max`, 'utf8').trim()).toBe('33');
    const out = cg.spawnInside(() => execFileSync('cat', ['/proc/self/cgroup'], { encoding: 'utf8' }));
    expect(out).toMatch(new RegExp(`pids:.*/agentbox-${process.pid}/c\\d+$`, 'm'));
    // The server's own thread is back where it was.
    expect(readFileSync(`/proc/self/task/${process.pid}/cgroup`, 'utf8')).not.toMatch(/agentbox-/);
    expect(cg.remove()).toBe(true);
    groups.removeAll();
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
