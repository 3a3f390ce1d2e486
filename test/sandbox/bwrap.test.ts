import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildBwrapArgs, buildPolicy, existingRoots, findHostPaths, findProtectedPaths, keyringSeccompFilter, toSandboxPath, type HostPaths, type Policy, type ProtectedMount } from '../../src/sandbox/index.js';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';

/** A policy built without touching the disk (paths that do not exist stay as given). */
function policy(over: Partial<Parameters<typeof buildPolicy>[0]> = {}): Policy {
  return buildPolicy({ mode: 'workspace-write', roots: ['/work/repo'], tmpDir: '/var/tmp/agentbox-x', ...over });
}

/** The option triples/pairs of an argv, for order checks: ['--bind a a', '--ro-bind b b', ...]. */
function mounts(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--bind' || a === '--ro-bind') out.push(`${a} ${args[++i]} ${args[++i]}`);
    else if (a === '--tmpfs' || a === '--remount-ro' || a === '--dev' || a === '--proc') out.push(`${a} ${args[++i]}`);
    else if (a === '--perms' || a === '--size') i++;
    else if (a === '--') break;
  }
  return out;
}

const build = (p: Policy, protectedMounts: ProtectedMount[] = [], extra: { cwd?: string; newSession?: boolean; host?: HostPaths; shmBytes?: number } = {}) =>
  buildBwrapArgs({ policy: p, protectedMounts, cwd: extra.cwd ?? p.roots[0]!, newSession: extra.newSession ?? true, host: extra.host, shmBytes: extra.shmBytes });

describe('buildBwrapArgs', () => {
  it('mounts / read-only, then fresh /dev and /proc, the private temp dir as /tmp, a size-limited /dev/shm and the roots writable; /dev read-only last', () => {
    const args = build(policy(), [], { shmBytes: 64 * 1024 * 1024 });
    expect(mounts(args)).toEqual([
      '--ro-bind / /',
      '--dev /dev',
      '--proc /proc',
      '--bind /var/tmp/agentbox-x /tmp',
      '--tmpfs /dev/shm',
      '--bind /work/repo /work/repo',
      '--remount-ro /dev',
    ]);
    expect(args.join(' ')).toContain('--perms 1777 --size 67108864 --tmpfs /dev/shm');
  });

  it('covers the hidden paths (agentbox\'s home) with an empty read-only tmpfs, or /dev/null for a file, unless the private /tmp hides them already', () => {
    const host: HostPaths = {
      hidden: [{ path: '/home/me/.agentbox', kind: 'dir' }, { path: '/etc/agentbox.toml', kind: 'file' }, { path: '/tmp/agentbox-home', kind: 'dir' }],
      runtimeDirs: [],
      engineSockets: [],
    };
    for (const mode of ['workspace-write', 'read-only'] as const) {
      const m = mounts(build(policy({ mode }), [], { host }));
      expect(m).toContain('--tmpfs /home/me/.agentbox');
      expect(m).toContain('--remount-ro /home/me/.agentbox');
      expect(m).toContain('--ro-bind /dev/null /etc/agentbox.toml');
      expect(m.join('\n')).not.toContain('/tmp/agentbox-home');
    }
  });

  it('hides a home that lies inside a root, after the root is bound', () => {
    const m = mounts(build(policy({ roots: ['/home/me'] }), [], { host: { hidden: [{ path: '/home/me/.agentbox', kind: 'dir' }], runtimeDirs: [], engineSockets: [] } }));
    expect(m.indexOf('--bind /home/me /home/me')).toBeLessThan(m.indexOf('--tmpfs /home/me/.agentbox'));
  });

  it('covers the runtime directories when the network is off, and container engine sockets always', () => {
    const host: HostPaths = { hidden: [], runtimeDirs: ['/run', '/run/user/1000', '/var/run'], engineSockets: ['/run/docker.sock', '/srv/docker.sock'] };
    const off = mounts(build(policy({ network: false }), [], { host }));
    expect(off).toContain('--tmpfs /run');
    expect(off).toContain('--tmpfs /var/run');
    expect(off).toContain('--remount-ro /run');
    expect(off).not.toContain('--tmpfs /run/user/1000'); // inside /run, covered already
    expect(off).not.toContain('--ro-bind /dev/null /run/docker.sock'); // inside the covered /run
    expect(off).toContain('--ro-bind /dev/null /srv/docker.sock');
    const on = mounts(build(policy({ network: true }), [], { host }));
    expect(on.join('\n')).not.toContain('--tmpfs /run');
    expect(on).toContain('--ro-bind /dev/null /run/docker.sock');
    expect(on).toContain('--ro-bind /dev/null /srv/docker.sock');
  });

  it('binds a worktree under .agentbox writable after the read-only .agentbox, and its .git read-only after that', () => {
    const wt = '/work/repo/.agentbox/worktrees/feat';
    const m = mounts(build(policy(), [
      { path: `${wt}/.git`, kind: 'ro-bind' },
      { path: wt, kind: 'bind' },
      { path: '/work/repo/.agentbox', kind: 'ro-bind' },
    ]));
    const at = (x: string) => m.indexOf(x);
    expect(at('--ro-bind /work/repo/.agentbox /work/repo/.agentbox')).toBeGreaterThan(at('--bind /work/repo /work/repo'));
    expect(at(`--bind ${wt} ${wt}`)).toBeGreaterThan(at('--ro-bind /work/repo/.agentbox /work/repo/.agentbox'));
    expect(at(`--ro-bind ${wt}/.git ${wt}/.git`)).toBeGreaterThan(at(`--bind ${wt} ${wt}`));
  });

  it('unshares user, pid, ipc, uts and the network, drops every capability, and dies with its parent', () => {
    const args = build(policy());
    for (const flag of ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--new-session', '--die-with-parent']) {
      expect(args).toContain(flag);
    }
    expect(args.join(' ')).toContain('--cap-drop ALL');
    expect(args.at(-1)).toBe('--');
  });

  it('keeps the network only when the policy enables it', () => {
    expect(build(policy({ network: true }))).not.toContain('--unshare-net');
    expect(build(policy({ network: false }))).toContain('--unshare-net');
  });

  it('leaves out --new-session for a PTY, so the command keeps its controlling terminal', () => {
    expect(build(policy(), [], { newSession: false })).not.toContain('--new-session');
  });

  it('binds extra writable roots, parents before children', () => {
    const args = build(policy({ roots: ['/work/repo/sub'], extraWritableRoots: ['/work/repo', '/opt/cache'] }));
    const m = mounts(args);
    expect(m.indexOf('--bind /work/repo /work/repo')).toBeLessThan(m.indexOf('--bind /work/repo/sub /work/repo/sub'));
    expect(m).toContain('--bind /opt/cache /opt/cache');
  });

  it('re-mounts protected paths read-only after every writable bind, and masks missing ones with a read-only tmpfs', () => {
    const args = build(policy({ extraWritableRoots: ['/work/repo/.git/../other'] }), [
      { path: '/work/repo/.git', kind: 'ro-bind' },
      { path: '/work/repo/.agentbox', kind: 'mask' },
    ]);
    const m = mounts(args);
    const lastBind = Math.max(...m.map((x, i) => (x.startsWith('--bind') ? i : -1)));
    expect(m.indexOf('--ro-bind /work/repo/.git /work/repo/.git')).toBeGreaterThan(lastBind);
    expect(m.indexOf('--tmpfs /work/repo/.agentbox')).toBeGreaterThan(lastBind);
    expect(m.indexOf('--remount-ro /work/repo/.agentbox')).toBeGreaterThan(m.indexOf('--tmpfs /work/repo/.agentbox'));
  });

  it('never binds a protected path that a planted .git link or gitdir: file points out of the writable roots or onto a mask', () => {
    const host: HostPaths = {
      hidden: [{ path: '/home/me/.agentbox', kind: 'dir' }, { path: '/work/repo/.ssh', kind: 'dir' }],
      runtimeDirs: ['/run'],
      engineSockets: ['/home/me/.docker/run/docker.sock'],
    };
    const m = mounts(
      build(policy(), [
        { path: '/home/me/.agentbox', kind: 'ro-bind' },
        { path: '/home/me/.ssh', kind: 'ro-bind' },
        { path: '/work/repo/.ssh', kind: 'ro-bind' },
        { path: '/tmp', kind: 'ro-bind' },
        { path: '/proc', kind: 'ro-bind' },
        { path: '/run', kind: 'ro-bind' },
        { path: '/home/me/.docker/run', kind: 'ro-bind' },
        { path: '/work/repo/sub/.git', kind: 'ro-bind' },
      ], { host }),
    );
    for (const p of ['/home/me/.agentbox', '/home/me/.ssh', '/work/repo/.ssh', '/tmp', '/proc', '/run', '/home/me/.docker/run']) {
      expect(m).not.toContain(`--ro-bind ${p} ${p}`);
    }
    expect(m).toContain('--tmpfs /home/me/.agentbox');
    expect(m).toContain('--tmpfs /work/repo/.ssh');
    expect(m).toContain('--ro-bind /work/repo/sub/.git /work/repo/sub/.git');
  });

  it('in read-only mode binds nothing writable but the private /tmp, ignores protected paths and keeps /dev/shm read-only', () => {
    const args = build(policy({ mode: 'read-only' }), [{ path: '/work/repo/.git', kind: 'ro-bind' }]);
    const m = mounts(args);
    expect(m.filter((x) => x.startsWith('--bind'))).toEqual(['--bind /var/tmp/agentbox-x /tmp']);
    expect(m).not.toContain('--ro-bind /work/repo/.git /work/repo/.git');
    expect(m).not.toContain('--remount-ro /tmp');
    expect(m).toContain('--remount-ro /dev/shm');
  });

  it('keeps workspace and read roots under /tmp visible over the private /tmp', () => {
    const p = policy({ mode: 'workspace-write', roots: ['/tmp/ws'], readRoots: ['/tmp/docs'] });
    const m = mounts(build(p));
    expect(m.indexOf('--bind /var/tmp/agentbox-x /tmp')).toBeLessThan(m.indexOf('--bind /tmp/ws /tmp/ws'));
    expect(m).toContain('--ro-bind /tmp/docs /tmp/docs');
    const ro = mounts(build(policy({ mode: 'read-only', roots: ['/tmp/ws'] })));
    expect(ro).toContain('--ro-bind /tmp/ws /tmp/ws');
  });

  it('maps a working directory in the private temp dir to /tmp', () => {
    const p = policy();
    expect(toSandboxPath(p, '/var/tmp/agentbox-x/build')).toBe('/tmp/build');
    expect(toSandboxPath(p, '/work/repo')).toBe('/work/repo');
    const args = build(p, [], { cwd: '/var/tmp/agentbox-x' });
    expect(args[args.indexOf('--chdir') + 1]).toBe('/tmp');
  });

  it('refuses danger-full-access, which runs without bwrap', () => {
    expect(() => build(policy({ mode: 'danger-full-access' }))).toThrow(/without bwrap/);
  });
});

describe('keyringSeccompFilter', () => {
  const decode = (buf: Buffer) =>
    Array.from({ length: buf.length / 8 }, (_, i) => ({ code: buf.readUInt16LE(i * 8), jt: buf[i * 8 + 2]!, jf: buf[i * 8 + 3]!, k: buf.readUInt32LE(i * 8 + 4) }));

  it('checks the architecture, then returns EPERM for add_key, request_key and keyctl and allows the rest', () => {
    const prog = decode(keyringSeccompFilter());
    expect(prog[0]).toEqual({ code: 0x20, jt: 0, jf: 0, k: 4 }); // load seccomp_data.arch
    expect(prog[1]).toMatchObject({ code: 0x15, k: 0xc000003e, jt: 0 }); // x86-64?
    expect(prog.at(-1)).toEqual({ code: 0x06, jt: 0, jf: 0, k: 0x00050001 }); // the deny target: ERRNO(EPERM)
    // On x86-64: every jump on 248, 249 or 250 lands on the deny instruction.
    const deny = prog.length - 1;
    const x64 = prog.slice(2, 8);
    expect(x64.filter((i) => i.code === 0x15).map((i) => i.k)).toEqual([248, 249, 250]);
    for (const [i, insn] of prog.entries()) if (insn.code === 0x15 && [248, 249, 250].includes(insn.k) && i < 8) expect(i + 1 + insn.jt).toBe(deny);
    expect(prog.filter((i) => i.code === 0x06 && i.k === 0x7fff0000).length).toBeGreaterThan(0);
  });

  it('is loaded by bwrap from the descriptor given', () => {
    const args = buildBwrapArgs({ policy: policy(), protectedMounts: [], seccompFd: 3, cwd: '/work/repo', newSession: true });
    expect(args.join(' ')).toContain('--seccomp 3');
  });
});

describe('findProtectedPaths', () => {
  let dirs: TempDir[] = [];
  afterEach(() => {
    for (const d of dirs) d.cleanup();
    dirs = [];
  });
  const track = (d: TempDir) => (dirs.push(d), d);

  it('protects an existing .git directory and masks a missing .agentbox', async () => {
    const repo = track(tempRepo());
    const tmp = track(tempDir());
    const found = await findProtectedPaths(buildPolicy({ mode: 'workspace-write', roots: [repo.dir], tmpDir: tmp.dir }));
    expect(found).toEqual([
      { path: path.join(repo.dir, '.git'), kind: 'ro-bind' },
      { path: path.join(repo.dir, '.agentbox'), kind: 'mask' },
    ]);
  });

  it('protects a .git pointer file, the gitdir it names and that gitdir\'s common dir (a worktree)', async () => {
    const main = track(tempRepo());
    const wt = track(tempDir());
    const tmp = track(tempDir());
    const gitdir = path.join(main.dir, '.git', 'worktrees', 'wt');
    mkdirSync(gitdir, { recursive: true });
    writeFileSync(path.join(gitdir, 'commondir'), '../..\n');
    writeFileSync(path.join(wt.dir, '.git'), `gitdir: ${gitdir}\n`);
    const found = await findProtectedPaths(buildPolicy({ mode: 'workspace-write', roots: [wt.dir], tmpDir: tmp.dir }));
    expect(found).toContainEqual({ path: path.join(wt.dir, '.git'), kind: 'ro-bind' });
    expect(found).toContainEqual({ path: gitdir, kind: 'ro-bind' });
    expect(found).toContainEqual({ path: path.join(main.dir, '.git'), kind: 'ro-bind' });
  });

  it('masks an empty .git directory (left behind as a mount point) and skips the private temp dir', async () => {
    const ws = track(tempDir());
    const tmp = track(tempDir());
    mkdirSync(ws.path('.git'));
    const found = await findProtectedPaths(buildPolicy({ mode: 'workspace-write', roots: [ws.dir], tmpDir: tmp.dir }));
    expect(found).toContainEqual({ path: ws.path('.git'), kind: 'mask' });
    expect(found.some((f) => f.path.startsWith(tmp.dir))).toBe(false);
  });

  it('protects nested .git entries found up to four levels down, not deeper, not in node_modules, never through symlinks', async () => {
    const ws = track(tempDir());
    const tmp = track(tempDir());
    const outside = track(tempDir());
    for (const d of ['a/.git', 'a/b/c/.git', 'a/b/c/d/.git', 'node_modules/x/.git', 'vendor/lib/.git/objects']) mkdirSync(ws.path(d), { recursive: true });
    mkdirSync(outside.path('repo/.git'), { recursive: true });
    symlinkSync(outside.path('repo'), ws.path('linked'));
    ws.write('e/.git', `gitdir: ${outside.path('store.git')}\n`);
    mkdirSync(outside.path('store.git'));
    const found = await findProtectedPaths(buildPolicy({ mode: 'workspace-write', roots: [ws.dir], tmpDir: tmp.dir }));
    const paths = found.filter((f) => f.kind === 'ro-bind').map((f) => f.path);
    expect(paths).toContain(ws.path('a/.git'));
    expect(paths).toContain(ws.path('a/b/c/.git'));
    expect(paths).toContain(ws.path('vendor/lib/.git'));
    expect(paths).toContain(ws.path('e/.git'));
    expect(paths).toContain(outside.path('store.git'));
    expect(paths).not.toContain(ws.path('a/b/c/d/.git')); // five levels down: beyond the documented bound
    expect(paths).not.toContain(ws.path('node_modules/x/.git'));
    expect(paths.some((p) => p.includes('linked') || p === outside.path('repo/.git'))).toBe(false);
    // Nested ones are never masked when missing: only the root's own names are.
    expect(found.filter((f) => f.kind === 'mask').map((f) => f.path).sort()).toEqual([ws.path('.agentbox'), ws.path('.git')].sort());
  });

  it('carves existing worktrees under .agentbox/worktrees out of the read-only .agentbox, keeping their .git read-only', async () => {
    const repo = track(tempRepo());
    const tmp = track(tempDir());
    execFileSync('git', ['worktree', 'add', '-q', '-b', 'feat', '.agentbox/worktrees/feat'], { cwd: repo.dir, stdio: 'pipe' });
    mkdirSync(repo.path('.agentbox/worktrees/not-a-worktree'));
    const wt = repo.path('.agentbox/worktrees/feat');
    const found = await findProtectedPaths(buildPolicy({ mode: 'workspace-write', roots: [repo.dir], tmpDir: tmp.dir }));
    expect(found).toContainEqual({ path: repo.path('.agentbox'), kind: 'ro-bind' });
    expect(found).toContainEqual({ path: wt, kind: 'bind' });
    expect(found).toContainEqual({ path: path.join(wt, '.git'), kind: 'ro-bind' });
    expect(found).toContainEqual({ path: repo.path('.git/worktrees/feat'), kind: 'ro-bind' });
    expect(found.some((f) => f.path.endsWith('not-a-worktree'))).toBe(false);
  });

  it('finds nothing outside workspace-write', async () => {
    const repo = track(tempRepo());
    expect(await findProtectedPaths(buildPolicy({ mode: 'read-only', roots: [repo.dir], tmpDir: repo.dir }))).toEqual([]);
  });
});

describe('findHostPaths', () => {
  it('lists the existing hidden paths but /proc and /sys, the real runtime directories, and container engine sockets', async () => {
    const home = tempDir('agentbox-home-');
    const fakeHome = tempDir('agentbox-userhome-');
    const xdg = tempDir('agentbox-xdg-');
    mkdirSync(fakeHome.path('.docker/run'), { recursive: true });
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(fakeHome.path('.docker/run/docker.sock'), r));
    try {
      const p = buildPolicy({ mode: 'workspace-write', roots: [home.dir], tmpDir: home.dir, home: home.dir });
      const found = await findHostPaths(p, { HOME: fakeHome.dir, XDG_RUNTIME_DIR: xdg.dir });
      expect(found.hidden).toEqual([{ path: home.dir, kind: 'dir' }]);
      expect(found.runtimeDirs).toContain(xdg.dir);
      if (existsSync('/run') && lstatSync('/run').isDirectory()) expect(found.runtimeDirs).toContain('/run');
      if (lstatSync('/var/run', { throwIfNoEntry: false })?.isSymbolicLink()) expect(found.runtimeDirs).not.toContain('/var/run');
      expect(found.engineSockets).toContain(fakeHome.path('.docker/run/docker.sock'));
    } finally {
      await new Promise((r) => server.close(r));
      for (const d of [home, fakeHome, xdg]) d.cleanup();
    }
  });
});

describe('deny_read in the command sandbox', () => {
  it('lists the existing deny_read entries with the hidden paths, as a directory or a file, and buildBwrapArgs covers them', async () => {
    const user = tempDir('agentbox-userhome-', '/var/tmp');
    try {
      mkdirSync(user.path('.ssh'));
      writeFileSync(user.path('.netrc'), 'machine x');
      const p = buildPolicy({ mode: 'workspace-write', roots: [user.dir], tmpDir: user.dir, denyRead: [user.path('.ssh'), user.path('.netrc'), user.path('.aws')] });
      const found = await findHostPaths(p, {});
      expect(found.hidden).toEqual([
        { path: user.path('.ssh'), kind: 'dir' },
        { path: user.path('.netrc'), kind: 'file' },
      ]);
      const m = mounts(build(p, [], { host: found }));
      expect(m).toContain(`--tmpfs ${user.path('.ssh')}`);
      expect(m).toContain(`--remount-ro ${user.path('.ssh')}`);
      expect(m).toContain(`--ro-bind /dev/null ${user.path('.netrc')}`);
      expect(m.join('\n')).not.toContain('.aws');
    } finally {
      user.cleanup();
    }
  });
});

describe('existingRoots', () => {
  it('leaves out roots that do not exist, so bwrap does not fail every command on them', async () => {
    const ws = tempDir();
    try {
      const p = await existingRoots(buildPolicy({ mode: 'workspace-write', roots: [ws.dir], extraWritableRoots: [ws.path('not-yet')], tmpDir: ws.dir }));
      expect(p.writableRoots).toEqual([ws.dir]);
    } finally {
      ws.cleanup();
    }
  });
});
