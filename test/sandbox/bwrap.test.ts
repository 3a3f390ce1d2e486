import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildBwrapArgs, buildPolicy, existingRoots, findProtectedPaths, toSandboxPath, type Policy, type ProtectedMount } from '../../src/sandbox/index.js';
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
    else if (a === '--') break;
  }
  return out;
}

const build = (p: Policy, protectedMounts: ProtectedMount[] = [], extra: { cwd?: string; newSession?: boolean } = {}) =>
  buildBwrapArgs({ policy: p, protectedMounts, cwd: extra.cwd ?? p.roots[0]!, newSession: extra.newSession ?? true });

describe('buildBwrapArgs', () => {
  it('mounts / read-only, then fresh /dev and /proc, then the private temp dir as /tmp and the roots writable', () => {
    const args = build(policy());
    expect(mounts(args)).toEqual([
      '--ro-bind / /',
      '--dev /dev',
      '--proc /proc',
      '--bind /var/tmp/agentbox-x /tmp',
      '--bind /work/repo /work/repo',
    ]);
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
    expect(m[m.indexOf('--tmpfs /work/repo/.agentbox') + 1]).toBe('--remount-ro /work/repo/.agentbox');
  });

  it('in read-only mode binds nothing writable, ignores protected paths and remounts /tmp read-only last', () => {
    const args = build(policy({ mode: 'read-only' }), [{ path: '/work/repo/.git', kind: 'ro-bind' }]);
    const m = mounts(args);
    expect(m.filter((x) => x.startsWith('--bind') && !x.endsWith(' /tmp'))).toEqual([]);
    expect(m).not.toContain('--ro-bind /work/repo/.git /work/repo/.git');
    expect(m.at(-1)).toBe('--remount-ro /tmp');
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

describe('findProtectedPaths', () => {
  let dirs: TempDir[] = [];
  afterEach(() => {
    for (const d of dirs) d.cleanup();
    dirs = [];
  });
  const track = (d: TempDir) => (dirs.push(d), d);

  it('protects an existing .git directory and masks a missing .agentbox', () => {
    const repo = track(tempRepo());
    const tmp = track(tempDir());
    const found = findProtectedPaths(buildPolicy({ mode: 'workspace-write', roots: [repo.dir], tmpDir: tmp.dir }));
    expect(found).toEqual([
      { path: path.join(repo.dir, '.git'), kind: 'ro-bind' },
      { path: path.join(repo.dir, '.agentbox'), kind: 'mask' },
    ]);
  });

  it('protects a .git pointer file, the gitdir it names and that gitdir\'s common dir (a worktree)', () => {
    const main = track(tempRepo());
    const wt = track(tempDir());
    const tmp = track(tempDir());
    const gitdir = path.join(main.dir, '.git', 'worktrees', 'wt');
    mkdirSync(gitdir, { recursive: true });
    writeFileSync(path.join(gitdir, 'commondir'), '../..\n');
    writeFileSync(path.join(wt.dir, '.git'), `gitdir: ${gitdir}\n`);
    const found = findProtectedPaths(buildPolicy({ mode: 'workspace-write', roots: [wt.dir], tmpDir: tmp.dir }));
    expect(found).toContainEqual({ path: path.join(wt.dir, '.git'), kind: 'ro-bind' });
    expect(found).toContainEqual({ path: gitdir, kind: 'ro-bind' });
    expect(found).toContainEqual({ path: path.join(main.dir, '.git'), kind: 'ro-bind' });
  });

  it('masks an empty .git directory (left behind as a mount point) and skips the private temp dir', () => {
    const ws = track(tempDir());
    const tmp = track(tempDir());
    mkdirSync(ws.path('.git'));
    const found = findProtectedPaths(buildPolicy({ mode: 'workspace-write', roots: [ws.dir], tmpDir: tmp.dir }));
    expect(found).toContainEqual({ path: ws.path('.git'), kind: 'mask' });
    expect(found.some((f) => f.path.startsWith(tmp.dir))).toBe(false);
  });

  it('finds nothing outside workspace-write', () => {
    const repo = track(tempRepo());
    expect(findProtectedPaths(buildPolicy({ mode: 'read-only', roots: [repo.dir], tmpDir: repo.dir }))).toEqual([]);
  });
});

describe('existingRoots', () => {
  it('leaves out roots that do not exist, so bwrap does not fail every command on them', () => {
    const ws = tempDir();
    try {
      const p = existingRoots(buildPolicy({ mode: 'workspace-write', roots: [ws.dir], extraWritableRoots: [ws.path('not-yet')], tmpDir: ws.dir }));
      expect(p.writableRoots).toEqual([ws.dir]);
    } finally {
      ws.cleanup();
    }
  });
});
