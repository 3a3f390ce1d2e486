// openRepo and the per-command safety settings, on real repositories: which repositories may be
// used (containment, symlinks, .git files, linked worktrees), and that a repository's own config
// cannot make git run a program (filters, fsmonitor, hooks) or act on another directory.
import { existsSync, mkdirSync, renameSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addPaths, commit, diffText, getStatus, openRepo, resolvePathspecs, sandboxCanWrite } from '../../src/git/index.js';
import { buildPolicy } from '../../src/sandbox/index.js';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';
import { cleanupAfterEach, git, gitContext, must } from './support.js';

const track = cleanupAfterEach();

describe('openRepo', () => {
  it('opens the workspace root repository by default', async () => {
    const repo = track(tempRepo());
    const ctx = track(gitContext([repo.dir]));
    const opened = must(await openRepo(ctx, undefined, 'read'));
    expect(opened.top).toBe(repo.dir);
    expect(opened.gitDir).toBe(path.join(repo.dir, '.git'));
  });

  it('finds the repository from a subdirectory', async () => {
    const repo = track(tempRepo({ 'src/a.ts': 'x\n' }));
    const ctx = track(gitContext([repo.dir]));
    expect(must(await openRepo(ctx, 'src', 'read')).top).toBe(repo.dir);
  });

  it('refuses a repo_path outside the workspace', async () => {
    const ws = track(tempDir());
    // Not under /tmp: a path given as /tmp/... means the private temp dir (sandbox/paths.ts).
    const outside = track(tempRepo(undefined, '/var/tmp'));
    const ctx = track(gitContext([ws.dir]));
    const r = await openRepo(ctx, outside.dir, 'read');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('outside_workspace');
  });

  it('refuses a symlink in the workspace that points at an outside repository', async () => {
    const ws = track(tempDir());
    const outside = track(tempRepo());
    symlinkSync(outside.dir, ws.path('link'));
    const ctx = track(gitContext([ws.dir]));
    for (const access of ['read', 'write'] as const) {
      const r = await openRepo(ctx, 'link', access);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.message).toContain('outside');
    }
  });

  it('refuses a workspace that is only a subdirectory of an outside repository', async () => {
    const outer = track(tempRepo({ 'inner/file.txt': 'x\n' }));
    const ctx = track(gitContext([outer.path('inner')]));
    const r = await openRepo(ctx, undefined, 'read');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('outside_workspace');
      expect(r.error.message).toContain(outer.dir);
    }
  });

  it('refuses core.worktree pointing outside the workspace', async () => {
    const repo = track(tempRepo());
    const elsewhere = track(tempDir());
    git(repo.dir, 'config', 'core.worktree', elsewhere.dir);
    const ctx = track(gitContext([repo.dir]));
    const r = await openRepo(ctx, undefined, 'write');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('outside_workspace');
  });

  it('refuses a .git file that points at an outside repository', async () => {
    const ws = track(tempDir());
    const outside = track(tempRepo());
    ws.write('sub/.git', `gitdir: ${outside.path('.git')}\n`);
    const ctx = track(gitContext([ws.dir]));
    const r = await openRepo(ctx, 'sub', 'write');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('unprotected_repository');
    // In read-only mode (nested repositories may be read there) it is refused all the same: git
    // runs in a view of the workspace, where the outside git dir does not exist.
    const ro = track(gitContext([ws.dir], { mode: 'read-only' }));
    const read = await openRepo(ro, 'sub', 'read');
    expect(read.ok).toBe(false);
    if (!read.ok) {
      expect(read.error.code).toBe('outside_workspace');
      expect(read.error.message).toContain(`points at ${outside.path('.git')}`);
    }
    // Where it is shown (a read root), the layout check refuses it.
    const shown = track(gitContext([ws.dir], { mode: 'read-only', readRoots: [outside.dir] }));
    const seen = await openRepo(shown, 'sub', 'read');
    expect(seen.ok).toBe(false);
    if (!seen.ok) expect(seen.error.message).toContain(`the .git of another work tree`);
  });

  it('accepts worktrees and submodules whose git dirs lie in the root\'s .git, and refuses a borrowed git dir', async () => {
    const root = track(tempRepo());
    git(root.dir, 'worktree', 'add', '-q', '-b', 'side', root.path('wt'));
    git(root.dir, 'worktree', 'add', '-q', '-b', 'other', root.path('.agentbox/worktrees/other'));
    const ctx = track(gitContext([root.dir]));
    for (const dir of ['wt', '.agentbox/worktrees/other']) {
      const opened = must(await openRepo(ctx, dir, 'write'));
      expect(opened.layout).toBe('worktree');
      expect(opened.commonDir).toBe(root.path('.git'));
    }
    // A command rewrites wt/.git to borrow the other worktree's git dir: its back-link says no.
    root.write('wt/.git', `gitdir: ${root.path('.git/worktrees/other')}\n`);
    const borrowed = await openRepo(ctx, 'wt', 'read');
    expect(borrowed.ok).toBe(false);
    if (!borrowed.ok) expect(borrowed.error.message).toContain(`belongs to the worktree at ${root.path('.agentbox/worktrees/other')}`);
    // ... or the main repository's own .git: a directory that is not the work tree's top.
    root.write('wt/.git', `gitdir: ${root.path('.git')}\n`);
    const main = await openRepo(ctx, 'wt', 'read');
    expect(main.ok).toBe(false);
    if (!main.ok) expect(main.error.message).toContain('the .git of another work tree');
  });

  it('refuses a root whose .git is a link, or holds a link into the work tree', async () => {
    const linked = track(tempRepo());
    renameSync(linked.path('.git'), linked.path('real-git'));
    symlinkSync(linked.path('real-git'), linked.path('.git'));
    const ctx = track(gitContext([linked.dir]));
    const r = await openRepo(ctx, undefined, 'read');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/real-git lies where sandboxed commands can write|is a symbolic link/);

    const objects = track(tempRepo());
    renameSync(objects.path('.git/objects'), objects.path('objects-store'));
    symlinkSync(objects.path('objects-store'), objects.path('.git/objects'));
    const ctx2 = track(gitContext([objects.dir]));
    const o = await openRepo(ctx2, undefined, 'read');
    expect(o.ok).toBe(false);
    if (!o.ok) expect(o.error.message).toContain(`${objects.path('.git/objects')} leads to ${objects.path('objects-store')}`);
    // Read-only mode: nothing can be rewritten during the session, so it may be read.
    const ro = track(gitContext([objects.dir], { mode: 'read-only' }));
    expect((await openRepo(ro, undefined, 'read')).ok).toBe(true);
  });

  it('refuses a repository whose objects/info/alternates borrows from the work tree', async () => {
    const root = track(tempRepo());
    mkdirSync(root.path('borrowed'));
    root.write('.git/objects/info/alternates', `${root.path('borrowed')}\n`);
    const r = await openRepo(track(gitContext([root.dir])), undefined, 'read');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('objects/info/alternates');
  });

  it('accepts a linked worktree whose main repository is outside the workspace', async () => {
    const main = track(tempRepo());
    git(main.dir, 'worktree', 'add', '-q', '-b', 'side', main.path('.agentbox/worktrees/side'));
    const wt = main.path('.agentbox/worktrees/side');
    const ctx = track(gitContext([wt]));
    const opened = must(await openRepo(ctx, undefined, 'write'));
    expect(opened.top).toBe(wt);
    expect(opened.commonDir).toBe(main.path('.git'));
  });

  it('says when the directory is not a repository', async () => {
    const ws = track(tempDir());
    const ctx = track(gitContext([ws.dir]));
    const r = await openRepo(ctx, undefined, 'read');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('not_a_repository');
      expect(r.error.message).toContain('is not in a git repository');
    }
  });

  it('refuses to open for writing in read-only mode', async () => {
    const repo = track(tempRepo());
    const ctx = track(gitContext([repo.dir], { mode: 'read-only' }));
    expect((await openRepo(ctx, undefined, 'read')).ok).toBe(true);
    const r = await openRepo(ctx, undefined, 'write');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('read_only');
  });
});

describe('a repository nested in a root (workspace-write)', () => {
  it('B4: is refused, so a config a command rewrites between the check and the command never runs', async () => {
    const ws = track(tempDir());
    const outside = track(tempDir());
    mkdirSync(ws.path('nested'));
    git(ws.path('nested'), 'init', '-q');
    ws.write('nested/a.txt', 'a\n');
    const ctx = track(gitContext([ws.dir]));
    const opened = await openRepo(ctx, 'nested', 'read');
    if (opened.ok) {
      // What a sandboxed command can do right after the check: add a filter, then git runs.
      git(ws.path('nested'), 'config', 'filter.evil.clean', `touch ${outside.path('ran')}; cat`);
      ws.write('nested/.gitattributes', '* filter=evil\n');
      await addPaths(opened.value, ['.']);
    }
    expect(existsSync(outside.path('ran'))).toBe(false);
    expect(opened.ok).toBe(false);
    if (!opened.ok) expect(opened.error.message).toContain(`${ws.path('nested')} is nested inside the workspace`);
    // The same repository may be read in read-only mode, where no command can change it.
    expect((await openRepo(track(gitContext([ws.dir], { mode: 'read-only' })), 'nested', 'read')).ok).toBe(true);
  });

  it('B4: refuses a root repository whose config includes a file in the work tree', async () => {
    const root = track(tempRepo());
    root.write('shared.gitconfig', '');
    git(root.dir, 'config', 'include.path', '../shared.gitconfig');
    const r = await openRepo(track(gitContext([root.dir])), undefined, 'read');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain(`includes ${root.path('shared.gitconfig')}`);
    // An include that does not exist yet is refused as well: a command could create it.
    git(root.dir, 'config', 'include.path', '../later.gitconfig');
    const later = await openRepo(track(gitContext([root.dir])), undefined, 'read');
    expect(later.ok).toBe(false);
  });
});

describe('sandboxCanWrite', () => {
  it('is true in writable roots, except in each root\'s own .git and .agentbox', () => {
    const policy = buildPolicy({ mode: 'workspace-write', roots: ['/w', '/w/inner'], readRoots: ['/r'], tmpDir: '/t' });
    const table: Array<[string, boolean]> = [
      ['/w/nested/.git', true],
      ['/w/.git/config', false],
      ['/w/.agentbox/worktrees/x/.git', false],
      ['/w/inner/.git', false],
      ['/w/sub/.agentbox', true],
      ['/t/repo/.git', true],
      ['/r/repo/.git', false],
      ['/elsewhere/.git', false],
    ];
    for (const [p, expected] of table) expect(sandboxCanWrite(policy, p), p).toBe(expected);
    expect(sandboxCanWrite(buildPolicy({ mode: 'read-only', roots: ['/w'], tmpDir: '/t' }), '/w/nested/.git')).toBe(false);
  });
});

describe('a repository config that runs programs', () => {
  let outside: TempDir;
  const setup = () => {
    const repo = track(tempRepo());
    outside = track(tempDir());
    return repo;
  };

  it('does not run filter drivers the repository defines', async () => {
    const repo = setup();
    const mark = outside.path('filter-ran');
    git(repo.dir, 'config', 'filter.Evil.clean', `touch ${mark}; cat`);
    git(repo.dir, 'config', 'filter.Evil.smudge', `touch ${mark}; cat`);
    git(repo.dir, 'config', 'filter.Evil.required', 'true');
    git(repo.dir, 'config', 'filter.proc.process', `touch ${mark}`);
    repo.write('.gitattributes', '*.txt filter=Evil\n*.md filter=proc\n');
    repo.write('a.txt', 'hello\n');
    repo.write('b.md', 'hello\n');
    const ctx = track(gitContext([repo.dir]));
    const opened = must(await openRepo(ctx, undefined, 'write'));
    must(await getStatus(opened));
    const staged = must(await addPaths(opened, ['.']));
    expect(staged.map((e) => e.path)).toEqual(expect.arrayContaining(['a.txt', 'b.md']));
    expect(existsSync(mark)).toBe(false);
    // The same config does run the filter when git is called plainly: the test can fail.
    repo.write('a.txt', 'changed\n');
    try {
      git(repo.dir, 'add', 'a.txt');
    } catch {
      // the process filter is no real filter process; running it was the point
    }
    expect(existsSync(mark)).toBe(true);
  });

  it('does not run an fsmonitor hook', async () => {
    const repo = setup();
    const mark = outside.path('fsmonitor-ran');
    const hook = repo.write('fsmon.sh', `#!/bin/sh\ntouch ${mark}\n`);
    chmodSync(hook, 0o755);
    git(repo.dir, 'config', 'core.fsmonitor', hook);
    const ctx = track(gitContext([repo.dir]));
    must(await getStatus(must(await openRepo(ctx, undefined, 'read'))));
    expect(existsSync(mark)).toBe(false);
    git(repo.dir, 'status');
    expect(existsSync(mark)).toBe(true);
  });

  it('does not run an external diff program or a textconv filter', async () => {
    const repo = setup();
    const mark = outside.path('diff-ran');
    const prog = repo.write('prog.sh', `#!/bin/sh\ntouch ${mark}\ncat "$1"\n`);
    chmodSync(prog, 0o755);
    git(repo.dir, 'config', 'diff.external', prog);
    git(repo.dir, 'config', 'diff.conv.textconv', prog);
    repo.write('.gitattributes', '*.txt diff=conv\n');
    repo.write('README.md', 'changed\n');
    repo.write('a.txt', 'a\n');
    git(repo.dir, '-c', 'diff.external=', 'add', 'a.txt', '.gitattributes');
    const ctx = track(gitContext([repo.dir]));
    const opened = must(await openRepo(ctx, undefined, 'read'));
    const unstaged = must(await diffText(opened, {}));
    expect(unstaged.text).toContain('+changed');
    const staged = must(await diffText(opened, { staged: true }));
    expect(staged.text).toContain('+a');
    expect(existsSync(mark)).toBe(false);
    git(repo.dir, 'diff');
    expect(existsSync(mark)).toBe(true);
  });

  it('reaches no remote, even a local path, unless the network is allowed', async () => {
    const repo = setup();
    const other = track(tempRepo());
    const ctx = track(gitContext([repo.dir]));
    const blocked = await must(await openRepo(ctx, undefined, 'read')).run(['ls-remote', `file://${other.dir}`]);
    expect(blocked.ok).toBe(false);
    if (!blocked.ok) expect(blocked.error.code).toBe('network_disabled');
    // The other repository must be in the view git runs in (a read root) for file:// to reach it.
    const open = track(gitContext([repo.dir], { readRoots: [other.dir], git: { allowNetwork: true } }));
    const allowed = await must(await openRepo(open, undefined, 'read')).run(['ls-remote', `file://${other.dir}`]);
    expect(must(allowed).stdout).toContain('refs/heads/main');
  });

  it('never signs by default, and with signing on refuses a signing program set by the repository', async () => {
    const repo = setup();
    const mark = outside.path('gpg-ran');
    const prog = repo.write('gpg.sh', `#!/bin/sh\ntouch ${mark}\nexit 1\n`);
    chmodSync(prog, 0o755);
    git(repo.dir, 'config', 'gpg.program', prog);
    git(repo.dir, 'config', 'commit.gpgSign', 'true');
    repo.write('a.txt', 'a\n');
    git(repo.dir, 'add', 'a.txt');
    const signing = track(gitContext([repo.dir], { git: { signCommits: true } }));
    const refused = await commit(must(await openRepo(signing, undefined, 'write')), 'signed?');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.code).toBe('unsafe_config');
    const ctx = track(gitContext([repo.dir]));
    must(await commit(must(await openRepo(ctx, undefined, 'write')), 'unsigned'));
    expect(existsSync(mark)).toBe(false);
    expect(git(repo.dir, 'log', '-1', '--format=%s')).toBe('unsigned\n');
  });

  it('ignores GIT_DIR and GIT_WORK_TREE in the server environment', async () => {
    const repo = setup();
    const other = track(tempRepo({ 'other.txt': 'x\n' }));
    const ctx = track(gitContext([repo.dir], { git: { env: { ...process.env, GIT_DIR: other.path('.git'), GIT_WORK_TREE: other.dir } } }));
    const opened = must(await openRepo(ctx, undefined, 'read'));
    expect(opened.top).toBe(repo.dir);
  });

  it('refuses a filter driver name it cannot override on a command line', async () => {
    const repo = setup();
    writeFileSync(repo.path('.git/config'), '[filter "a=b"]\n\tclean = cat\n', { flag: 'a' });
    const ctx = track(gitContext([repo.dir]));
    const r = await openRepo(ctx, undefined, 'read');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('unsafe_config');
  });
});

describe('resolvePathspecs', () => {
  it('keeps paths relative to the repository root and refuses ones leading out', async () => {
    const ws = track(tempDir());
    const outside = track(tempDir());
    mkdirSync(ws.path('repo'));
    git(ws.path('repo'), 'init', '-q');
    ws.write('repo/src/a.ts', 'x\n');
    symlinkSync(outside.dir, ws.path('repo/out'));
    const ctx = track(gitContext([ws.dir, ws.path('repo')]));
    const repo = must(await openRepo(ctx, 'repo', 'read'));
    expect(must(await resolvePathspecs(repo, ['src/a.ts', '.', 'gone.txt']))).toEqual(['src/a.ts', '.', 'gone.txt']);
    expect(must(await resolvePathspecs(repo, [ws.path('repo/src')]))).toEqual(['src']);
    for (const bad of ['../x', 'out/secret', '/etc/passwd', '.git/config']) {
      const r = await resolvePathspecs(repo, [bad]);
      expect(r.ok, bad).toBe(false);
    }
    // A symlink itself is a file of the repository: it is named, not followed.
    expect(must(await resolvePathspecs(repo, ['out']))).toEqual(['out']);
  });
});

describe('user strings', () => {
  it('reach git as values, never as options', async () => {
    const repo = track(tempRepo());
    repo.write('--template.txt', 'x\n');
    repo.write('-c', 'x\n');
    const ctx = track(gitContext([repo.dir]));
    const opened = must(await openRepo(ctx, undefined, 'write'));
    expect(must(await addPaths(opened, ['--template.txt', '-c'])).map((e) => e.path)).toEqual(['--template.txt', '-c']);
    const message = '--upload-pack=evil -c core.hooksPath=/x';
    expect(must(await commit(opened, message)).subject).toBe(message);
    expect(git(repo.dir, 'log', '-1', '--format=%s')).toBe(`${message}\n`);
  });
});
