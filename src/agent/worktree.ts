// `worktree: true`: a delegate thread gets its own git worktree on a new branch, so parallel
// delegates never write to the same files. The worktree lives at
// <repo>/.agentbox/worktrees/<name> (a path the sandbox keeps read-only for everyone else) on
// branch agentbox/<name>, starting from HEAD; uncommitted changes in the main checkout are not in
// it. At the end of each call the thread's changes are committed on that branch, so the host can
// review and merge it like any branch.
//
// Until the shared git core lands (src/git/), the git commands are run here.
import { appendFile, mkdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { fail, ok, type Result } from '../util/result.js';
import { git } from './changes.js';

export interface Worktree {
  /** The main repository's top-level directory. */
  repo: string;
  /** The worktree's top-level directory. */
  path: string;
  branch: string;
}

/**
 * Creates the worktree and branch for thread `threadId`, starting at the HEAD of the repo
 * containing `cwd`. `mayWrite(top)` says whether the caller may change that repository.
 */
export async function createWorktree(bin: string | undefined, cwd: string, threadId: string, mayWrite: (top: string) => boolean): Promise<Result<Worktree>> {
  if (!bin) return fail('git_missing', 'worktree: true needs git, which was not found on PATH.', 'Install git, or call delegate without worktree.');
  const found = (await git(bin, cwd, ['rev-parse', '--show-toplevel']))?.trim();
  if (!found) return fail('not_a_repo', `worktree: true needs a git repository, and ${cwd} is not inside one.`, 'Call delegate without worktree, or with a cwd inside a repository.');
  const top = await realpath(found);
  if (!mayWrite(top)) {
    return fail('outside_workspace', `worktree: true would add a branch and a worktree to the repository at ${top}, which lies outside the writable roots.`, 'Call delegate without worktree.');
  }
  if ((await git(bin, top, ['rev-parse', '--verify', '-q', 'HEAD'])) === undefined) {
    return fail('no_commits', `The repository at ${top} has no commits yet, so there is nothing to branch from.`, 'Make a first commit, or call delegate without worktree.');
  }
  const name = threadId.replace(/-/g, '').slice(-12);
  const branch = `agentbox/${name}`;
  const dir = path.join(top, '.agentbox', 'worktrees', name);
  await mkdir(path.dirname(dir), { recursive: true });
  await excludeAgentboxDir(bin, top);
  const added = await git(bin, top, ['worktree', 'add', '--quiet', '-b', branch, dir, 'HEAD']);
  if (added === undefined) return fail('worktree_failed', `git worktree add ${dir} (branch ${branch}) failed in ${top}.`, 'Check that the branch does not exist and the repository is not locked.');
  return ok({ repo: top, path: dir, branch });
}

/** The directory inside the worktree that corresponds to `cwd` in the main checkout. */
export function mapIntoWorktree(wt: Worktree, cwd: string): string {
  return path.join(wt.path, path.relative(wt.repo, cwd));
}

/** Commits everything in the worktree (hooks off); resolves the new commit, or undefined when there was nothing to commit. */
export async function commitWorktree(bin: string, wt: Worktree, message: string): Promise<Result<string | undefined>> {
  if ((await git(bin, wt.path, ['add', '-A', '--', '.'])) === undefined) return fail('commit_failed', `git add failed in the worktree ${wt.path}.`);
  if ((await git(bin, wt.path, ['diff', '--cached', '--quiet'])) !== undefined) return ok(undefined);
  const identity = (await git(bin, wt.path, ['config', 'user.email'])) ? [] : ['-c', 'user.name=agentbox', '-c', 'user.email=agentbox@localhost'];
  const done = await git(bin, wt.path, [...identity, 'commit', '--quiet', '--no-verify', '--no-gpg-sign', '-m', message]);
  if (done === undefined) return fail('commit_failed', `git commit failed in the worktree ${wt.path}; the changes are left uncommitted there.`);
  return ok((await git(bin, wt.path, ['rev-parse', 'HEAD']))?.trim());
}

/** Keeps `.agentbox/` out of the main checkout's `git status` (info/exclude, never .gitignore). */
async function excludeAgentboxDir(bin: string, top: string): Promise<void> {
  const rel = (await git(bin, top, ['rev-parse', '--git-path', 'info/exclude']))?.trim();
  if (!rel) return;
  const file = path.resolve(top, rel);
  const text = await readFile(file, 'utf8').catch(() => '');
  if (/^\/?\.agentbox\/?$/m.test(text)) return;
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, `${text === '' || text.endsWith('\n') ? '' : '\n'}/.agentbox/\n`);
}
