// openRepo and the per-command safety settings, on real repositories: which repositories may be
// used (containment, symlinks, .git files, linked worktrees), and that a repository's own config
// cannot make git run a program (filters, fsmonitor, hooks) or act on another directory.
import { existsSync, mkdirSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addPaths, commit, diffText, getStatus, openRepo, resolvePathspecs } from '../../src/git/index.js';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';
import { git, gitContext, must } from './support.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function track<T extends { cleanup(): void }>(t: T): T {
  cleanups.push(() => t.cleanup());
  return t;
}

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
    if (!r.ok) expect(r.error.message).toContain('git directory');
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
    const open = track(gitContext([repo.dir], { git: { allowNetwork: true } }));
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
    const ctx = track(gitContext([ws.dir]));
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
