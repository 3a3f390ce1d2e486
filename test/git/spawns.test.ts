// How many git processes each operation starts, counted through a wrapper around the real git.
// Every git tool call pays for each process it spawns (fork, exec, config and index reads), and
// the machines agentbox runs on are often small: these bounds keep the counts from creeping up.
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addPaths,
  addWorktree,
  checkout,
  commit,
  createBranch,
  diffText,
  getLog,
  getStatus,
  listBranches,
  listWorktrees,
  openRepo,
  removeWorktree,
  resetPaths,
  showText,
  type Access,
  type GitContext,
  type Repo,
} from '../../src/git/index.js';
import { which } from '../../src/util/which.js';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';
import { cleanupAfterEach, git, gitContext, must } from './support.js';

const track = cleanupAfterEach();

/** A git that logs one line per start to `log`, then runs the real git. */
function countingGit(): { bin: string; log: string; count(): number; reset(): void } {
  const dir = track(tempDir('agentbox-gitcount-'));
  const log = dir.path('log');
  const bin = dir.path('git');
  writeFileSync(log, '');
  writeFileSync(bin, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${which('git')}' "$@"\n`);
  chmodSync(bin, 0o755);
  const lines = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { bin, log, count: () => lines().length, reset: () => writeFileSync(log, '') };
}

/** Opens the repository and runs `op`, returning how many git processes both started. */
async function spawns(ctx: GitContext, counter: ReturnType<typeof countingGit>, access: Access, op: (repo: Repo) => Promise<unknown>): Promise<number> {
  counter.reset();
  const repo = must(await openRepo(ctx, undefined, access));
  await op(repo);
  return counter.count();
}

describe('git processes per tool call', () => {
  it('stays within a small budget for each tool', async () => {
    const repo = track(tempRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n' }));
    const counter = countingGit();
    // git runs in its confined view: the wrapper's directory is a writable root there, for its log.
    const ctx = track(gitContext([repo.dir], { git: { bin: counter.bin }, writableRoots: [path.dirname(counter.bin)] }));
    const counts: Record<string, number> = {};
    counts.status = await spawns(ctx, counter, 'read', (r) => getStatus(r).then(must));
    repo.write('a.txt', 'a2\n');
    counts.diff = await spawns(ctx, counter, 'read', (r) => diffText(r, {}).then(must));
    counts.log = await spawns(ctx, counter, 'read', (r) => getLog(r, { maxCount: 5 }).then(must));
    counts.show = await spawns(ctx, counter, 'read', (r) => showText(r, 'HEAD').then(must));
    counts.branch_list = await spawns(ctx, counter, 'read', (r) => listBranches(r).then(must));
    counts.add = await spawns(ctx, counter, 'write', (r) => addPaths(r, ['a.txt']).then(must));
    repo.write('b.txt', 'b2\n');
    git(repo.dir, 'add', 'b.txt');
    counts.reset = await spawns(ctx, counter, 'write', (r) => resetPaths(r, ['b.txt']).then(must));
    counts.commit = await spawns(ctx, counter, 'write', (r) => commit(r, 'change a').then(must));
    counts.branch_create = await spawns(ctx, counter, 'write', (r) => createBranch(r, 'feature').then(must));
    git(repo.dir, 'checkout', '-q', '--', 'b.txt');
    counts.checkout = await spawns(ctx, counter, 'write', (r) => checkout(r, 'feature').then(must));
    counts.worktree_list = await spawns(ctx, counter, 'read', (r) => listWorktrees(r).then(must));
    counts.worktree_add = await spawns(ctx, counter, 'write', (r) => addWorktree(r, { branch: 'wt' }).then(must));
    counts.worktree_remove = await spawns(ctx, counter, 'write', (r) => removeWorktree(r, '.agentbox/worktrees/wt').then(must));
    // Before rule 1 and the rework: status 3, diff 4, log 3, show 3, branch_list 3, add 4, reset 5,
    // commit 6 (two full work tree scans), branch_create 4, checkout 5, worktree list 3, add 6, remove 4.
    // Only the first call asks `git rev-parse` where the repository is; later ones reuse its
    // answer (repo.ts, the location cache), so no tool call pays for a probe process.
    expect(counts).toEqual({
      status: 2, // rev-parse (first call only), status
      diff: 2, // diff, ls-files (the untracked note)
      log: 1,
      show: 1,
      branch_list: 1,
      add: 2, // add, diff --cached
      reset: 3, // diff --cached, reset, diff --cached
      commit: 3, // diff --cached, commit, diff-tree
      branch_create: 2, // rev-parse start, branch
      checkout: 3, // rev-parse branch, switch, status
      worktree_list: 1,
      worktree_add: 3, // rev-parse branch, rev-parse HEAD, worktree add
      worktree_remove: 3, // worktree list, status in the worktree, worktree remove
    });
  });

  it('asks git again when what its answer depends on changed', async () => {
    const repo = track(tempRepo({ 'a.txt': 'a\n', 'sub/b.txt': 'b\n' }));
    const counter = countingGit();
    const ctx = track(gitContext([repo.dir], { mode: 'danger-full-access', git: { bin: counter.bin } }));
    const probes = () => readFileSync(counter.log, 'utf8').split('\n').filter((l) => l.includes('rev-parse --show-toplevel')).length;
    const top = async (dir?: string) => {
      const r = await openRepo(ctx, dir, 'read');
      return r.ok ? r.value.top : r.error.code;
    };
    expect(await top('sub')).toBe(repo.dir);
    expect(await top('sub')).toBe(repo.dir);
    expect(probes()).toBe(1);
    // A repository made in the subdirectory: git now stops there.
    git(repo.path('sub'), 'init', '-q');
    expect(await top('sub')).toBe(repo.path('sub'));
    expect(probes()).toBe(2);
    // core.worktree set in the config: git's answer changes (and the layout check refuses it).
    expect(await top()).toBe(repo.dir);
    expect(await top()).toBe(repo.dir);
    expect(probes()).toBe(3);
    git(repo.dir, 'config', 'core.worktree', repo.path('sub'));
    expect(await top()).toBe('unusual_repository');
    git(repo.dir, 'config', '--unset', 'core.worktree');
    expect(await top()).toBe(repo.dir);
    expect(probes()).toBe(5);
    // The .git removed: no repository any more.
    rmSync(repo.path('.git'), { recursive: true, force: true });
    expect(await top()).toBe('not_a_repository');
  });
});
