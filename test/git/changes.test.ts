// The delegate's helpers, called directly: the work tree's changes since a base (untracked files
// included, ignored ones not, the real index untouched) and worktrees added and removed.
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addPaths, addWorktree, changedFiles, commit, openRepo, removeWorktree, workingTreeChanges } from '../../src/git/index.js';
import { tempRepo } from '../support/workspace.js';
import { cleanupAfterEach, git, gitContext, must } from './support.js';

const track = cleanupAfterEach();

describe('workingTreeChanges', () => {
  it('reports added, modified, deleted and renamed files, untracked ones included', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n');
    const repo = track(tempRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n', 'long.txt': `${lines}\n`, '.gitignore': '*.log\n' }));
    repo.write('a.txt', 'a\nmore\n');
    rmSync(repo.path('b.txt'));
    renameSync(repo.path('long.txt'), repo.path('moved.txt'));
    repo.write('new/file.txt', 'new\n');
    repo.write('debug.log', 'ignored\n');
    repo.write('staged.txt', 'staged\n');
    git(repo.dir, 'add', 'staged.txt');
    const indexBefore = readFileSync(repo.path('.git/index'));

    const ctx = track(gitContext([repo.dir]));
    const opened = must(await openRepo(ctx, undefined, 'read'));
    const changes = must(await workingTreeChanges(opened, { diff: true }));
    expect(changes.files).toEqual(
      expect.arrayContaining([
        { path: 'a.txt', kind: 'modified' },
        { path: 'b.txt', kind: 'deleted' },
        { path: 'moved.txt', kind: 'renamed', from: 'long.txt' },
        { path: 'new/file.txt', kind: 'added' },
        { path: 'staged.txt', kind: 'added' },
      ]),
    );
    expect(changes.files).toHaveLength(5);
    expect(changes.diff).toContain('+++ b/new/file.txt');
    expect(changes.diff).toContain('+more');
    expect(changes.diff).toContain('rename from long.txt');
    expect(changes.diff).not.toContain('debug.log');
    expect(changes.truncated).toBe(false);
    // The real index is as it was: the untracked files were not staged.
    expect(readFileSync(repo.path('.git/index')).equals(indexBefore)).toBe(true);
    expect(git(repo.dir, 'status', '--porcelain')).toContain('?? new/');
  });

  it('compares with a given base commit', async () => {
    const repo = track(tempRepo({ 'a.txt': 'a\n' }));
    const first = git(repo.dir, 'rev-parse', 'HEAD').trim();
    repo.write('b.txt', 'b\n');
    git(repo.dir, 'add', 'b.txt');
    git(repo.dir, 'commit', '-q', '-m', 'b');
    repo.write('c.txt', 'c\n');
    const ctx = track(gitContext([repo.dir]));
    const opened = must(await openRepo(ctx, undefined, 'read'));
    expect(must(await changedFiles(opened, first)).map((f) => f.path).sort()).toEqual(['b.txt', 'c.txt']);
    expect(must(await changedFiles(opened)).map((f) => f.path)).toEqual(['c.txt']);
  });

  it('works before the first commit', async () => {
    const repo = track(tempRepo());
    rmSync(repo.path('.git'), { recursive: true });
    git(repo.dir, 'init', '-q');
    repo.write('x.txt', 'x\n');
    const ctx = track(gitContext([repo.dir]));
    const changes = must(await workingTreeChanges(must(await openRepo(ctx, undefined, 'read')), { diff: true }));
    expect(changes.files).toEqual(expect.arrayContaining([{ path: 'x.txt', kind: 'added' }]));
    expect(changes.diff).toContain('+x');
  });

  it('cuts a large diff at maxBytes and lists what was left out', async () => {
    const repo = track(tempRepo());
    for (let i = 0; i < 20; i++) repo.write(`f${i}.txt`, `${'x'.repeat(200)}\n`.repeat(20));
    const ctx = track(gitContext([repo.dir]));
    const changes = must(await workingTreeChanges(must(await openRepo(ctx, undefined, 'read')), { diff: true, maxBytes: 5000 }));
    expect(changes.truncated).toBe(true);
    expect(changes.diff!.length).toBeLessThan(8000);
    expect(changes.diff).toContain('[Output cut at 5000 bytes. The diff covers 20 files');
    expect(changes.files).toHaveLength(20);
  });
});

describe('addWorktree / removeWorktree', () => {
  it('adds a new branch in a worktree under .agentbox/worktrees and removes it again', async () => {
    const repo = track(tempRepo({ 'a.txt': 'a\n' }));
    const ctx = track(gitContext([repo.dir]));
    const opened = must(await openRepo(ctx, undefined, 'write'));
    const wt = must(await addWorktree(opened, {}));
    expect(wt.branch).toMatch(/^agentbox\/[0-9a-f]{8}$/);
    expect(wt.createdBranch).toBe(true);
    expect(path.dirname(wt.path)).toBe(repo.path('.agentbox', 'worktrees'));
    expect(readFileSync(path.join(wt.path, 'a.txt'), 'utf8')).toBe('a\n');
    expect(git(repo.dir, 'rev-parse', 'HEAD').trim()).toBe(wt.head);
    // The worktrees folder does not show up as untracked in the main repository.
    expect(git(repo.dir, 'status', '--porcelain')).toBe('');

    // The worktree opens as a repository of its own (what a delegate run does).
    const inner = track(gitContext([wt.path]));
    const innerRepo = must(await openRepo(inner, undefined, 'write'));
    expect(innerRepo.top).toBe(wt.path);

    const removed = must(await removeWorktree(opened, wt.path, { deleteBranch: true }));
    expect(removed).toEqual({ path: wt.path, branch: wt.branch, branchDeleted: true });
    expect(existsSync(wt.path)).toBe(false);
    expect(git(repo.dir, 'branch', '--list', wt.branch)).toBe('');
  });

  it('reports the changes made in a worktree, committed and not, against its start commit', async () => {
    const repo = track(tempRepo({ 'a.txt': 'a\n' }));
    const ctx = track(gitContext([repo.dir]));
    const wt = must(await addWorktree(must(await openRepo(ctx, undefined, 'write')), {}));
    const inner = track(gitContext([wt.path]));
    const innerRepo = must(await openRepo(inner, undefined, 'write'));
    repo.write(path.relative(repo.dir, path.join(wt.path, 'committed.txt')), 'c\n');
    must(await addPaths(innerRepo, ['committed.txt']));
    must(await commit(innerRepo, 'work'));
    repo.write(path.relative(repo.dir, path.join(wt.path, 'a.txt')), 'a changed\n');
    repo.write(path.relative(repo.dir, path.join(wt.path, 'new.txt')), 'n\n');
    const changes = must(await workingTreeChanges(innerRepo, { base: wt.head, diff: true }));
    expect(changes.files).toEqual([
      { path: 'a.txt', kind: 'modified' },
      { path: 'committed.txt', kind: 'added' },
      { path: 'new.txt', kind: 'added' },
    ]);
    expect(changes.diff).toContain('+a changed');
    // The main work tree is untouched.
    expect(git(repo.dir, 'status', '--porcelain')).toBe('');
  });

  it('refuses to remove a worktree with uncommitted files unless forced', async () => {
    const repo = track(tempRepo());
    const ctx = track(gitContext([repo.dir]));
    const opened = must(await openRepo(ctx, undefined, 'write'));
    const wt = must(await addWorktree(opened, { branch: 'feature/x' }));
    expect(wt.path).toBe(repo.path('.agentbox', 'worktrees', 'feature-x'));
    repo.write(path.relative(repo.dir, path.join(wt.path, 'new.txt')), 'new\n');
    const refused = await removeWorktree(opened, wt.path);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.code).toBe('dirty_worktree');
    must(await removeWorktree(opened, wt.path, { force: true }));
    expect(existsSync(wt.path)).toBe(false);
  });

  it('refuses to remove the main work tree or a directory that is no worktree', async () => {
    const repo = track(tempRepo());
    const ctx = track(gitContext([repo.dir]));
    const opened = must(await openRepo(ctx, undefined, 'write'));
    const main = await removeWorktree(opened, '.');
    expect(main.ok).toBe(false);
    if (!main.ok) expect(main.error.code).toBe('main_worktree');
    repo.write('plain/x.txt', 'x\n');
    const plain = await removeWorktree(opened, 'plain');
    expect(plain.ok).toBe(false);
    if (!plain.ok) expect(plain.error.code).toBe('not_a_worktree');
  });

  it('refuses a worktree path outside the writable roots or inside .git', async () => {
    const repo = track(tempRepo());
    const ctx = track(gitContext([repo.dir]));
    const opened = must(await openRepo(ctx, undefined, 'write'));
    for (const p of ['/tmp/agentbox-elsewhere-wt', '.git/wt', '../sibling']) {
      const r = await addWorktree(opened, { path: p });
      expect(r.ok, p).toBe(false);
    }
    const ok = must(await addWorktree(opened, { path: 'wt-here', branch: 'here' }));
    expect(ok.path).toBe(repo.path('wt-here'));
  });
});
