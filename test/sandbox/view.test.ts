// The confined view rg and git run in: the argv as a pure function of the policy (tables), then
// the real thing: bwrap started through ConfinedView, showing the roots and nothing else.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { buildPolicy, buildViewArgs, ConfinedView, findGitConfig, probeSandbox, type HostPaths, type Policy, type SystemEntry, type ViewSpec } from '../../src/sandbox/index.js';
import { which } from '../../src/util/which.js';
import { tempDir, type TempDir } from '../support/workspace.js';

/** A policy built without touching the disk (paths that do not exist stay as given). */
function policy(over: Partial<Parameters<typeof buildPolicy>[0]> = {}): Policy {
  return buildPolicy({ mode: 'workspace-write', roots: ['/work/repo'], tmpDir: '/var/tmp/agentbox-x', ...over });
}

/** A merged-/usr machine: /bin, /lib, /lib64, /sbin are links into /usr. */
const MERGED: SystemEntry[] = [
  { path: '/usr', kind: 'dir' },
  { path: '/lib', kind: 'symlink', target: 'usr/lib' },
  { path: '/lib64', kind: 'symlink', target: 'usr/lib64' },
  { path: '/bin', kind: 'symlink', target: 'usr/bin' },
  { path: '/sbin', kind: 'symlink', target: 'usr/sbin' },
  { path: '/etc/ld.so.cache', kind: 'file' },
];

/** The mount options of an argv, in order, up to `--`: ['--ro-bind a a', '--symlink t p', '--tmpfs p', ...]. */
function mounts(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--bind' || a === '--ro-bind' || a === '--symlink') out.push(`${a} ${args[++i]} ${args[++i]}`);
    else if (a === '--tmpfs' || a === '--remount-ro' || a === '--dev' || a === '--proc') out.push(`${a} ${args[++i]}`);
    else if (a === '--') break;
  }
  return out;
}

const build = (spec: Partial<ViewSpec> & { policy: Policy }) =>
  buildViewArgs({ purpose: 'search', system: MERGED, hidden: [], cwd: spec.policy.roots[0]!, ...spec });

describe('buildViewArgs', () => {
  it('shows the system directories as on the host (links as links), fresh /dev and /proc, and the roots and private temp dir read-only for a search; the root, /dev last read-only', () => {
    const m = mounts(build({ policy: policy({ readRoots: ['/opt/docs'] }) }));
    expect(m).toEqual([
      '--ro-bind /usr /usr',
      '--symlink usr/lib /lib',
      '--symlink usr/lib64 /lib64',
      '--symlink usr/bin /bin',
      '--symlink usr/sbin /sbin',
      '--dev /dev',
      '--proc /proc',
      '--ro-bind /etc/ld.so.cache /etc/ld.so.cache',
      '--ro-bind /work/repo /work/repo',
      '--ro-bind /opt/docs /opt/docs',
      '--ro-bind /var/tmp/agentbox-x /var/tmp/agentbox-x',
      '--remount-ro /dev',
      '--remount-ro /',
    ]);
    // Nothing of the host's / itself (no --ro-bind / /), no /etc but the loader's cache, no /home, no /tmp.
    const dests = m.map((x) => x.split(' ').at(-1)!);
    expect(dests.filter((d) => d === '/' || d.startsWith('/home') || d.startsWith('/tmp') || (d.startsWith('/etc') && d !== '/etc/ld.so.cache'))).toEqual(['/']);
    expect(m).not.toContain('--ro-bind / /');
  });

  it('binds a real /bin, /lib directory (no merged /usr) read-only like /usr', () => {
    const system: SystemEntry[] = [{ path: '/usr', kind: 'dir' }, { path: '/bin', kind: 'dir' }, { path: '/lib', kind: 'dir' }];
    const m = mounts(build({ policy: policy(), system }));
    expect(m).toContain('--ro-bind /bin /bin');
    expect(m).toContain('--ro-bind /lib /lib');
    expect(m.join('\n')).not.toContain('--symlink');
  });

  it('for git, binds the writable roots (with the private temp dir and extra writable roots) writable and the read roots read-only', () => {
    const m = mounts(build({ purpose: 'git', policy: policy({ readRoots: ['/opt/docs'], extraWritableRoots: ['/srv/cache'] }) }));
    expect(m).toContain('--bind /work/repo /work/repo');
    expect(m).toContain('--bind /srv/cache /srv/cache');
    expect(m).toContain('--bind /var/tmp/agentbox-x /var/tmp/agentbox-x');
    expect(m).toContain('--ro-bind /opt/docs /opt/docs');
  });

  it('for git in read-only mode, binds everything read-only', () => {
    const m = mounts(build({ purpose: 'git', policy: policy({ mode: 'read-only' }) }));
    expect(m).toContain('--ro-bind /work/repo /work/repo');
    expect(m.filter((x) => x.startsWith('--bind '))).toEqual([]);
  });

  it('mounts a root inside another only when it needs write access its parent lacks', () => {
    const search = mounts(build({ policy: policy({ roots: ['/work', '/work/repo'], readRoots: ['/work/repo/docs'] }) }));
    expect(search.filter((x) => x.includes('/work'))).toEqual(['--ro-bind /work /work']);
    const nestedWritable = mounts(build({ purpose: 'git', policy: policy({ roots: ['/work/repo'], readRoots: ['/work'] }) }));
    expect(nestedWritable.filter((x) => x.includes('/work'))).toEqual(['--ro-bind /work /work', '--bind /work/repo /work/repo']);
    // A read root inside a writable root stays writable: sandboxed commands can write it anyway.
    const nestedRead = mounts(build({ purpose: 'git', policy: policy({ roots: ['/work/repo'], readRoots: ['/work/repo/docs'] }) }));
    expect(nestedRead.filter((x) => x.includes('/work'))).toEqual(['--bind /work/repo /work/repo']);
  });

  it('covers the hidden and deny_read paths that the view would show: a directory with a read-only tmpfs, a file with /dev/null', () => {
    const hidden: HostPaths['hidden'] = [
      { path: '/home/me/.ssh', kind: 'dir' },
      { path: '/home/me/.netrc', kind: 'file' },
      { path: '/home/me/.agentbox', kind: 'dir' },
      { path: '/elsewhere/.aws', kind: 'dir' },
    ];
    const m = mounts(build({ policy: policy({ roots: ['/home/me'] }), hidden }));
    expect(m.indexOf('--ro-bind /home/me /home/me')).toBeLessThan(m.indexOf('--tmpfs /home/me/.ssh'));
    expect(m).toContain('--tmpfs /home/me/.agentbox');
    expect(m).toContain('--ro-bind /dev/null /home/me/.netrc');
    expect(m).toContain('--remount-ro /home/me/.ssh');
    expect(m.indexOf('--remount-ro /home/me/.ssh')).toBeLessThan(m.indexOf('--remount-ro /'));
    // Not visible in the view at all: nothing to cover.
    expect(m.join('\n')).not.toContain('/elsewhere');
  });

  it('shows extra read-only paths (git config, a program\'s directory) unless a mount shows them already or they lie in a hidden path', () => {
    const hidden: HostPaths['hidden'] = [{ path: '/home/me/.config/secret', kind: 'dir' }];
    const m = mounts(
      build({
        purpose: 'git',
        policy: policy(),
        hidden,
        readOnly: ['/home/me/.gitconfig', '/home/me/.config/git', '/work/repo/tools', '/home/me/.config/secret/git', '/opt/rg/bin'],
      }),
    );
    expect(m).toContain('--ro-bind /home/me/.gitconfig /home/me/.gitconfig');
    expect(m).toContain('--ro-bind /home/me/.config/git /home/me/.config/git');
    expect(m).toContain('--ro-bind /opt/rg/bin /opt/rg/bin');
    expect(m.join('\n')).not.toContain('/work/repo/tools');
    expect(m.join('\n')).not.toContain('secret');
  });

  it('shows extra writable paths for git only (a git dir outside the roots, a scratch dir)', () => {
    const writable = ['/srv/main.git', '/var/tmp/agentbox-git-1', '/work/repo/.git'];
    expect(mounts(build({ purpose: 'git', policy: policy(), writable }))).toEqual(expect.arrayContaining(['--bind /srv/main.git /srv/main.git', '--bind /var/tmp/agentbox-git-1 /var/tmp/agentbox-git-1']));
    expect(mounts(build({ purpose: 'git', policy: policy(), writable })).join('\n')).not.toContain('/work/repo/.git');
    expect(mounts(build({ purpose: 'search', policy: policy(), writable })).join('\n')).not.toContain('/srv/main.git');
  });

  it('unshares every namespace (the network too), starts a new session, drops every capability, dies with its parent and starts in cwd', () => {
    const args = build({ policy: policy({ network: true }), cwd: '/work/repo/src' });
    const tail = args.slice(args.indexOf('--unshare-user'));
    expect(tail).toEqual(['--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--new-session', '--die-with-parent', '--cap-drop', 'ALL', '--chdir', '/work/repo/src', '--']);
  });

  it('refuses danger-full-access, which runs without a view', () => {
    expect(() => build({ policy: policy({ mode: 'danger-full-access' }) })).toThrow(/danger-full-access/);
  });
});

describe('findGitConfig', () => {
  const made: TempDir[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) d.cleanup();
  });

  it('finds ~/.gitconfig and ~/.config/git, or GIT_CONFIG_GLOBAL instead, and skips the system file with GIT_CONFIG_NOSYSTEM', async () => {
    const home = tempDir('agentbox-home-', '/var/tmp');
    made.push(home);
    home.write('.gitconfig', '[user]\n');
    home.write('.config/git/ignore', '*.log\n');
    home.write('other.gitconfig', '');
    const found = await findGitConfig({ HOME: home.dir, GIT_CONFIG_NOSYSTEM: '1' });
    expect(found.filter((p) => p.startsWith(home.dir))).toEqual([home.path('.gitconfig'), home.path('.config/git')]);
    const global = await findGitConfig({ HOME: home.dir, GIT_CONFIG_GLOBAL: home.path('other.gitconfig'), GIT_CONFIG_NOSYSTEM: 'true' });
    expect(global.filter((p) => p.startsWith(home.dir))).toEqual([home.path('other.gitconfig')]);
    expect(global).not.toContain('/etc/gitconfig');
  });
});

const bwrap = which('bwrap');
const rg = which('rg');
const canSandbox = bwrap !== undefined && (await probeSandbox(bwrap)).ok;

describe.skipIf(!canSandbox || !rg)('ConfinedView (real bwrap)', () => {
  const made: TempDir[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) d.cleanup();
  });
  const dir = (parent = '/var/tmp') => {
    const d = tempDir('agentbox-view-', parent);
    made.push(d);
    return d;
  };
  const view = new ConfinedView({ bwrap, probe: () => probeSandbox(bwrap), env: { HOME: '/nonexistent' } });
  const run = async (p: Policy, bin: string, args: string[], cwd: string): Promise<string> => {
    const launch = await view.launch(p, { purpose: 'search', bin, args, cwd });
    if (!launch.ok) throw new Error(launch.error.message);
    try {
      // No stdin, as grep and glob run rg (with a pipe there, rg would search stdin).
      return execFileSync(launch.value.file, launch.value.args, { cwd: launch.value.cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      return String((err as { stdout?: string }).stdout ?? '');
    }
  };

  it('lets rg find the roots\' content but nothing behind a symlink that leads out of them', async () => {
    const ws = dir();
    const outside = dir();
    const tmp = dir();
    ws.write('inside.txt', 'needle inside\n');
    outside.write('secret.txt', 'needle outside\n');
    symlinkSync(outside.dir, ws.path('link'));
    mkdirSync(ws.path('d'));
    const p = buildPolicy({ mode: 'workspace-write', roots: [ws.dir], tmpDir: tmp.dir });
    const out = await run(p, rg!, ['--follow', '--no-messages', 'needle'], ws.dir);
    expect(out).toContain('needle inside');
    expect(out).not.toContain('needle outside');
    // The program sees only what the view shows: the outside directory does not exist there.
    const ls = await run(p, '/bin/sh', ['-c', `ls ${outside.dir} 2>&1; ls /; cat ${ws.path('link/secret.txt')} /etc/passwd 2>&1`], ws.dir);
    expect(ls).toContain('No such file');
    expect(ls).not.toContain('needle outside');
    expect(ls).not.toContain('root:x:0:0');
    expect(ls.split('\n')).not.toContain('home');
    expect(ls.split('\n')).not.toContain('root');
  });

  it('covers deny_read paths inside a root, and nothing in the view can be written for a search', async () => {
    const ws = dir();
    const tmp = dir();
    ws.write('.ssh/id_ed25519', 'PRIVATE KEY\n');
    ws.write('.netrc', 'machine x password hunter2\n');
    ws.write('code.txt', 'needle\n');
    const p = buildPolicy({ mode: 'workspace-write', roots: [ws.dir], tmpDir: tmp.dir, denyRead: [ws.path('.ssh'), ws.path('.netrc')] });
    const out = await run(p, '/bin/sh', ['-c', `cat .ssh/id_ed25519 .netrc code.txt 2>&1; touch x 2>&1`], ws.dir);
    expect(out).toContain('needle');
    expect(out).not.toContain('PRIVATE KEY');
    expect(out).not.toContain('hunter2');
    expect(out).toMatch(/Read-only file system/);
  });

  it('runs a program as is in danger-full-access', async () => {
    const ws = dir();
    const p = buildPolicy({ mode: 'danger-full-access', roots: [ws.dir], tmpDir: ws.dir });
    const launch = await view.launch(p, { purpose: 'search', bin: rg!, args: ['--version'], cwd: ws.dir });
    expect(launch).toEqual({ ok: true, value: { file: rg, args: ['--version'], cwd: ws.dir } });
  });

  it('fails, saying why and how to fix it, when bwrap cannot run', async () => {
    const broken = new ConfinedView({ bwrap: undefined, probe: () => probeSandbox(undefined), env: {} });
    const ws = dir();
    const p = buildPolicy({ mode: 'workspace-write', roots: [ws.dir], tmpDir: ws.dir });
    expect(await broken.usable(p)).toBe(false);
    const launch = await broken.launch(p, { purpose: 'git', bin: '/usr/bin/git', args: ['status'], cwd: ws.dir });
    expect(launch.ok).toBe(false);
    if (!launch.ok) {
      expect(launch.error.code).toBe('sandbox_unavailable');
      expect(launch.error.message).toContain('Cannot run git: the sandbox that confines it to the workspace is unavailable. bubblewrap (bwrap) is not installed.');
      expect(launch.error.hint).toContain('apt-get install -y bubblewrap');
    }
  });
});
