// Finds the repository a git tool works on and checks that it may be used:
//
// 1. `repo_path` (default: the first workspace root) goes through the path policy (symlinks
//    resolved), so a link pointing outside the workspace is refused before git runs.
// 2. git finds the work tree from there; its real top level must lie inside the workspace (for
//    changes: a writable root). This also catches core.worktree pointing elsewhere and a
//    directory that is only inside a repository outside the workspace.
// 3. The git directory must lie inside the workspace too, unless it is the linked-worktree
//    directory of a repository whose back-link names this very work tree (a delegate's worktree
//    under .agentbox/worktrees/ has its git dir in the main repository). A `.git` file that
//    points at some other repository is refused.
// 4. Filter drivers from the repository's own config are switched off (settings.ts).
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { containingRoot, isInside, resolveForRead, type Policy, type SafePath } from '../sandbox/index.js';
import { fail, ok, type Result } from '../util/result.js';
import { runGit, type GitCommand, type RunOptions, type RunOutput } from './run.js';
import { gitEnv, parseScopedConfig, repoConfigOverrides, repoSigningProgram, safeConfig, type GitSettings } from './settings.js';

/** What a git operation needs from its caller: the policy in force, the git settings, the call's signal. */
export interface GitContext {
  policy: Policy;
  settings: GitSettings;
  signal?: AbortSignal;
}

export type Access = 'read' | 'write';

/** A repository that passed the checks, with a runner bound to its work tree. */
export interface Repo {
  /** The work tree's top level (real path). */
  readonly top: SafePath;
  readonly gitDir: string;
  readonly commonDir: string;
  readonly access: Access;
  readonly ctx: GitContext;
  /** A signing program set by the repository's own config, if any (see commit). */
  readonly repoSigningProgram?: string;
  /** Runs git in the work tree with the safe settings. */
  run(args: readonly string[], opts?: RunOptions): Promise<Result<RunOutput>>;
}

/** Opens the repository at or above `repoPath` (default: the first workspace root). */
export async function openRepo(ctx: GitContext, repoPath: string | undefined, access: Access): Promise<Result<Repo>> {
  const { policy, settings } = ctx;
  if (!settings.bin) return fail('git_missing', 'git is not installed (not found on PATH at start-up).', 'Install git; `agentbox doctor` checks it.');
  if (access === 'write' && policy.mode === 'read-only') {
    return fail('read_only', 'Cannot change the repository: the sandbox is in read-only mode.', 'Only git_status, git_diff, git_log, git_show and git_branch_list work in this session.');
  }
  const requested = repoPath ?? policy.roots[0];
  if (requested === undefined) return fail('no_workspace', 'No workspace root is set.', 'Pass repo_path.');
  const dir = await resolveForRead(policy, requested);
  if (!dir.ok) return dir;
  const info = await stat(dir.value).catch(() => undefined);
  if (!info) return fail('not_found', `${requested} does not exist.`);
  if (!info.isDirectory()) return fail('not_a_directory', `${requested} is not a directory.`, 'repo_path names the repository directory.');

  const base = baseCommand(ctx, dir.value, []);
  // Both probes at once: the config listing (it only reads config files, nothing runs) does not
  // depend on where rev-parse finds the repository, and each git start costs milliseconds. Its
  // result is used only once the repository passed the checks below.
  const [found, listed] = await Promise.all([
    runGit(base, ['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir']),
    runGit(base, ['config', '--show-scope', '-z', '--get-regexp', '^(filter|gpg)\\.'], { okExit: [1] }),
  ]);
  if (!found.ok) {
    if (found.error.code === 'not_a_repository') {
      return fail('not_a_repository', `${requested} is not in a git repository.`, 'Pass repo_path pointing at a repository inside the workspace.');
    }
    if (/must be run in a work tree/.test(found.error.message)) {
      return fail('not_a_repository', `${requested} is not in a work tree (a bare repository or a .git directory).`, 'Pass repo_path pointing at a checked-out repository.');
    }
    return found;
  }
  const [topRaw, gitDirRaw, commonRaw] = found.value.stdout.split('\n');
  if (!topRaw || !gitDirRaw || !commonRaw) return fail('not_a_repository', `${requested} is not in a work tree.`);
  const top = await realpath(topRaw);
  const gitDir = await realpath(gitDirRaw);
  const commonDir = await realpath(path.resolve(dir.value, commonRaw));

  const allowed = allowedRoots(policy, access);
  if (allowed && !containingRoot(allowed, top)) {
    return fail(
      'outside_workspace',
      `The repository at ${top}${requested !== top ? ` (found from ${requested})` : ''} lies outside the ${access === 'write' ? 'writable roots' : 'workspace'}.`,
      `git tools work on repositories inside ${allowed.join(', ')}.`,
    );
  }
  if (allowed && !containingRoot(allowed, gitDir) && !(await isLinkedWorktree(top, gitDir, commonDir))) {
    return fail(
      'outside_workspace',
      `The repository's git directory ${gitDir} lies outside the workspace and is not a worktree of it.`,
      'Its .git file points elsewhere; git tools refuse to work on it.',
    );
  }

  if (!listed.ok) return listed;
  const entries = parseScopedConfig(listed.value.stdout);
  const overrides = repoConfigOverrides(entries);
  if (!overrides.ok) {
    return fail('unsafe_config', `The repository's config sets ${overrides.key}, which agentbox cannot switch off safely.`, 'Remove that filter from .git/config.');
  }
  const topSafe = top as SafePath;
  const signing = repoSigningProgram(entries);
  const cmd = baseCommand(ctx, top, overrides.overrides);
  return ok({
    top: topSafe,
    gitDir,
    commonDir,
    access,
    ctx,
    ...(signing ? { repoSigningProgram: signing } : {}),
    run: (args, opts) => runGit(cmd, args, opts),
  });
}

/** Roots the repository must lie in; undefined when everything is allowed. */
function allowedRoots(policy: Policy, access: Access): readonly string[] | undefined {
  if (policy.mode === 'danger-full-access') return undefined;
  // The private temp dir is writable by sandboxed commands; a repository there is not the workspace.
  if (access === 'write') return policy.writableRoots.filter((r) => r !== policy.tmpDir);
  return [...policy.roots, ...policy.readRoots];
}

/** True when `gitDir` is `<commonDir>/worktrees/<id>` and its `gitdir` back-link names `top/.git`. */
async function isLinkedWorktree(top: string, gitDir: string, commonDir: string): Promise<boolean> {
  if (path.dirname(gitDir) !== path.join(commonDir, 'worktrees')) return false;
  try {
    const back = (await readFile(path.join(gitDir, 'gitdir'), 'utf8')).trim();
    return (await realpath(back)) === (await realpath(path.join(top, '.git')));
  } catch {
    return false;
  }
}

function baseCommand(ctx: GitContext, cwd: string, extraConfig: readonly string[]): GitCommand {
  const { settings } = ctx;
  return {
    bin: settings.bin!,
    cwd,
    env: gitEnv(settings),
    config: [...safeConfig(settings), ...extraConfig],
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    timeoutMs: settings.timeoutMs,
  };
}

/**
 * Resolves user-given paths to pathspecs relative to the repository's top level. Each path is
 * relative to the repository root (or absolute). Its parent directory goes through the path
 * policy, so no symlinked directory can lead outside; the last component is kept as named, so a
 * symlink inside the repository is staged as the link it is, not as its target.
 */
export async function resolvePathspecs(repo: Repo, paths: readonly string[]): Promise<Result<string[]>> {
  const out: string[] = [];
  for (const requested of paths) {
    const spec = await resolvePathspec(repo, requested);
    if (!spec.ok) return spec;
    out.push(spec.value);
  }
  return ok(out);
}

async function resolvePathspec(repo: Repo, requested: string): Promise<Result<string>> {
  const { policy } = repo.ctx;
  const opts = { base: repo.top };
  const name = path.basename(requested);
  let real: string;
  if (requested === '' || name === '.' || name === '..' || requested.endsWith('/')) {
    const whole = await resolveForRead(policy, requested, opts);
    if (!whole.ok) return whole;
    real = whole.value;
  } else {
    const parent = await resolveForRead(policy, path.dirname(requested), opts);
    if (!parent.ok) return parent;
    real = path.join(parent.value, name);
  }
  if (!isInside(repo.top, real)) {
    return fail('outside_repository', `${requested} is outside the repository at ${repo.top}.`, 'Paths are relative to the repository root.');
  }
  const rel = path.relative(repo.top, real);
  if (rel.split(path.sep)[0] === '.git') return fail('protected_path', `${requested} is inside .git.`, 'Name files of the work tree.');
  return ok(rel === '' ? '.' : rel);
}

/** Refuses a revision that git could read as an option, or that holds control characters. */
export function checkRevision(value: string, what = 'ref'): Result<string> {
  if (value.length === 0) return fail('invalid_ref', `The ${what} is empty.`);
  if (value.startsWith('-')) return fail('invalid_ref', `The ${what} '${value}' starts with "-".`, 'Give a branch, tag or commit name.');
  if (/[\0-\x1f\x7f]/.test(value)) return fail('invalid_ref', `The ${what} contains control characters.`);
  return ok(value);
}
