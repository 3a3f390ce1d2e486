// `worktree: true`: a delegate thread gets its own git worktree on a new branch, so parallel
// delegates never write to the same files. The git core creates it at
// <repo>/.agentbox/worktrees/agentbox-<name> on branch agentbox/<name>, starting from HEAD
// (uncommitted changes in the main checkout are not in it), and keeps .agentbox/ out of the
// repository's status. At the end of each call the thread's changes are committed on that
// branch, so the host can review and merge it like any branch.
import path from 'node:path';
import { addWorktree, openRepo, type GitContext } from '../git/index.js';
import { fail, ok, type Result } from '../util/result.js';

export interface Worktree {
  /** The main repository's top-level directory. */
  repo: string;
  /** The worktree's top-level directory. */
  path: string;
  branch: string;
}

/**
 * Creates the worktree and branch for thread `threadId`, starting at the HEAD of the repository
 * containing `cwd`. `git` carries the calling session's policy: the repository must lie in its
 * writable roots.
 */
export async function createWorktree(git: GitContext, cwd: string, threadId: string): Promise<Result<Worktree>> {
  const repo = await openRepo(git, cwd, 'write');
  if (!repo.ok) {
    if (repo.error.code === 'not_a_repository') {
      return fail('not_a_repo', `worktree: true needs a git repository, and ${cwd} is not inside one.`, 'Call delegate without worktree, or with a cwd inside a repository.');
    }
    return fail(repo.error.code, `worktree: true cannot be used here: ${repo.error.message}`, repo.error.hint ?? 'Call delegate without worktree.');
  }
  const name = threadId.replace(/-/g, '').slice(-12);
  const added = await addWorktree(repo.value, { branch: `agentbox/${name}` });
  if (!added.ok) return fail(added.error.code, `Cannot create the worktree: ${added.error.message}`, added.error.hint);
  return ok({ repo: repo.value.top, path: added.value.path, branch: added.value.branch });
}

/** The directory inside the worktree that corresponds to `cwd` in the main checkout. */
export function mapIntoWorktree(wt: Worktree, cwd: string): string {
  return path.join(wt.path, path.relative(wt.repo, cwd));
}

/** The directory in the main checkout that corresponds to `dir` inside the worktree. */
export function mapOutOfWorktree(wt: Worktree, dir: string): string {
  return path.join(wt.repo, path.relative(wt.path, dir));
}

/** Commits everything in the worktree; resolves the new commit, or undefined when there was nothing to commit. */
export async function commitWorktree(git: GitContext, wt: Worktree, message: string): Promise<Result<string | undefined>> {
  const opened = await openRepo(git, wt.path, 'write');
  if (!opened.ok) return opened;
  const repo = opened.value;
  const added = await repo.run(['add', '-A', '--', '.']);
  if (!added.ok) return fail('commit_failed', `git add failed in the worktree ${wt.path}: ${added.error.message}`);
  const staged = await repo.run(['diff', '--cached', '--quiet'], { okExit: [1] });
  if (!staged.ok) return staged;
  if (staged.value.exitCode === 0) return ok(undefined);
  // The user's identity when git has one (or git.author from the config), else agentbox's own.
  const known = await repo.run(['config', 'user.email'], { okExit: [1] });
  const identity: Record<string, string> =
    known.ok && known.value.exitCode === 0 && known.value.stdout.trim() !== ''
      ? {}
      : { GIT_AUTHOR_NAME: 'agentbox', GIT_AUTHOR_EMAIL: 'agentbox@localhost', GIT_COMMITTER_NAME: 'agentbox', GIT_COMMITTER_EMAIL: 'agentbox@localhost' };
  const done = await repo.run(['commit', '-q', '--no-verify', `--message=${message}`], { env: identity });
  if (!done.ok) return fail('commit_failed', `git commit failed in the worktree ${wt.path} (${done.error.message}); the changes are left uncommitted there.`);
  const head = await repo.run(['rev-parse', 'HEAD']);
  return ok(head.ok ? head.value.stdout.trim() : undefined);
}
