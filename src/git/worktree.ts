// Worktrees: a second checkout of the repository on its own branch, so a delegate (or the host)
// can work in isolation. New worktrees go under <repo>/.agentbox/worktrees/ by default, which the
// sandbox keeps read-only for the parent session and which is added to .git/info/exclude so it
// never shows up as untracked. Any path, the default one included, must resolve (links followed)
// into a writable root before anything is created; agentbox then creates the default path's
// directories itself, one at a time, never through a link.
import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { lstat, mkdir, open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { containingRoot, isInside, protectedPart, resolveForRead, WORKTREES_DIR } from '../sandbox/index.js';
import { FileLocks } from '../fs/lock.js';
import { fail, ok, type Result } from '../util/result.js';
import { resolveCommit } from './branch.js';
import { checkRevision, openWorktree, type Repo } from './repo.js';
import { getStatus } from './status.js';

export interface WorktreeInfo {
  path: string;
  /** Checked-out branch; null when detached. */
  branch: string | null;
  head: string;
  /** True for the repository's main work tree. */
  main: boolean;
  locked?: boolean;
  prunable?: boolean;
}

/** Parses `git worktree list --porcelain`, with -z (fields end in NUL) or without (in newlines). Pure. */
export function parseWorktrees(out: string): WorktreeInfo[] {
  const list: WorktreeInfo[] = [];
  const nul = out.includes('\0');
  for (const block of out.split(nul ? /\0\0+/ : /\n\n+/)) {
    const lines = block.split(nul ? '\0' : '\n').filter(Boolean);
    const first = lines[0];
    if (!first?.startsWith('worktree ')) continue;
    const wt: WorktreeInfo = { path: first.slice('worktree '.length), branch: null, head: '', main: list.length === 0 };
    for (const line of lines.slice(1)) {
      if (line.startsWith('HEAD ')) wt.head = line.slice(5);
      else if (line.startsWith('branch ')) wt.branch = line.slice(7).replace(/^refs\/heads\//, '');
      else if (line === 'locked' || line.startsWith('locked ')) wt.locked = true;
      else if (line === 'prunable' || line.startsWith('prunable ')) wt.prunable = true;
    }
    list.push(wt);
  }
  return list;
}

export async function listWorktrees(repo: Repo): Promise<Result<WorktreeInfo[]>> {
  let out = await repo.run(['worktree', 'list', '--porcelain', '-z']);
  // -z needs git 2.36; older ones list without it (a path with a newline would then be misread).
  if (!out.ok && /unknown switch|usage: git worktree/.test(out.error.message)) out = await repo.run(['worktree', 'list', '--porcelain']);
  return out.ok ? ok(parseWorktrees(out.value.stdout)) : out;
}

/** The path of the linked worktree that has `branch` checked out. */
export async function worktreePathOf(repo: Repo, branch: string): Promise<string | undefined> {
  const list = await listWorktrees(repo);
  return list.ok ? list.value.find((w) => w.branch === branch && !w.main)?.path : undefined;
}

export function formatWorktrees(list: WorktreeInfo[]): string {
  return list
    .map((w) => `${w.path}  ${w.branch ?? `(detached ${w.head.slice(0, 12)})`}${w.main ? '  (main worktree)' : ''}${w.locked ? '  (locked)' : ''}${w.prunable ? '  (prunable)' : ''}`)
    .join('\n');
}

export interface AddWorktreeOptions {
  /** Where to create it (relative to the repository root, or absolute); default .agentbox/worktrees/<branch>. */
  path?: string;
  /** Branch to check out; created from `startPoint` when it does not exist. Default: agentbox/<random>. */
  branch?: string;
  /** Commit a new branch starts from; default HEAD. */
  startPoint?: string;
}

export interface AddedWorktree {
  /** Real absolute path of the new worktree. */
  path: string;
  branch: string;
  head: string;
  /** True when the branch was created for this worktree. */
  createdBranch: boolean;
}

/**
 * git does not guard its worktree bookkeeping (.git/worktrees/) against itself: two `git worktree
 * add` at once in one repository can fail ("failed to read …/commondir"; seen with git 2.39 in a
 * few rounds in a hundred). Adds and removes in this server take turns per repository.
 */
const worktreeTurns = new FileLocks();

/** Creates a worktree on a branch (a new one unless `branch` names an existing one). */
export async function addWorktree(repo: Repo, opts: AddWorktreeOptions = {}): Promise<Result<AddedWorktree>> {
  if (repo.access !== 'write') return fail('read_only', 'Adding a worktree changes the repository; open it for writing.');
  const branch = opts.branch ?? `agentbox/${randomBytes(4).toString('hex')}`;
  const named = checkRevision(branch, 'branch name');
  if (!named.ok) return named;
  if (opts.startPoint !== undefined) {
    const sp = checkRevision(opts.startPoint, 'start point');
    if (!sp.ok) return sp;
  }
  // The path is checked before anything is created; the default one goes through the same check.
  const inAgentbox = opts.path === undefined;
  const target = await checkedWorktreePath(repo, inAgentbox ? freePath(path.join(repo.top, WORKTREES_DIR, slug(branch))) : opts.path!);
  if (!target.ok) return target;
  const dest = target.value;
  if (existsSync(dest)) return fail('path_exists', `${dest} already exists.`, 'Choose a new path for the worktree.');

  const exists = await resolveCommit(repo, `refs/heads/${branch}`);
  const start = exists ?? (await resolveCommit(repo, opts.startPoint ?? 'HEAD'));
  if (!start) {
    return opts.startPoint === undefined
      ? fail('no_commits', 'The repository has no commits yet; a worktree needs one to check out.', 'Commit first (git_add, git_commit).')
      : fail('unknown_ref', `Unknown revision '${opts.startPoint}'.`, 'Check the name with git_branch_list or git_log.');
  }
  if (inAgentbox) {
    const made = await mkdirNoFollow(repo.top, WORKTREES_DIR.split(path.sep));
    if (!made.ok) return made;
    const excluded = await excludeAgentboxDir(repo);
    if (!excluded.ok) return excluded;
  }

  const args = exists
    ? ['worktree', 'add', '--end-of-options', dest, branch]
    : ['worktree', 'add', '--no-track', '-b', branch, '--end-of-options', dest, start];
  const out = await worktreeTurns.run([repo.commonDir], () => repo.run(args));
  if (!out.ok) return out;
  return ok({ path: await realpath(dest), branch, head: start, createdBranch: !exists });
}

export interface RemoveWorktreeOptions {
  /** Remove even with uncommitted or untracked files in it (they are lost). */
  force?: boolean;
  /** Also delete the worktree's branch (even if unmerged). */
  deleteBranch?: boolean;
}

export interface RemovedWorktree {
  path: string;
  branch: string | null;
  branchDeleted: boolean;
}

/** Removes a linked worktree, found by its path (relative to the repository root, or absolute). */
export async function removeWorktree(repo: Repo, where: string, opts: RemoveWorktreeOptions = {}): Promise<Result<RemovedWorktree>> {
  if (repo.access !== 'write') return fail('read_only', 'Removing a worktree changes the repository; open it for writing.');
  const resolved = await resolveForRead(repo.ctx.policy, where, { base: repo.top });
  if (!resolved.ok) return resolved;
  const list = await listWorktrees(repo);
  if (!list.ok) return list;
  const real = resolved.value as string;
  const found = await findWorktree(list.value, real);
  if (!found) {
    const known = list.value.filter((w) => !w.main).map((w) => w.path);
    return fail('not_a_worktree', `${where} is not a worktree of this repository.`, known.length > 0 ? `Its worktrees: ${known.join(', ')}.` : 'It has no linked worktrees.');
  }
  if (found.main) return fail('main_worktree', `${where} is the repository's main work tree; it cannot be removed.`);
  const allowed = writableRoots(repo);
  if (!containingRoot(allowed, real)) {
    return fail('outside_workspace', `The worktree ${real} is outside the writable roots.`, `Allowed: ${allowed.join(', ')}.`);
  }
  if (!opts.force && existsSync(real)) {
    // git's own check runs `git status` inside the worktree, which asks a git in each of its
    // submodules; this one never does. Then --force, as the check is done.
    const wt = await openWorktree(repo, real, 'read');
    if (!wt.ok) return wt;
    const status = await getStatus(wt.value);
    if (!status.ok) return status;
    if (!status.value.clean) {
      return fail('dirty_worktree', `The worktree ${where} has uncommitted or untracked files.`, 'Commit them there first, or remove with force: true (they are lost).');
    }
  }
  // One --force never removes a locked worktree.
  const out = await worktreeTurns.run([repo.commonDir], () => repo.run(['worktree', 'remove', '--force', '--end-of-options', real]));
  if (!out.ok) return out;
  let branchDeleted = false;
  if (opts.deleteBranch && found.branch) {
    const del = await repo.run(['branch', '-D', '--end-of-options', found.branch]);
    if (!del.ok) return del;
    branchDeleted = true;
  }
  return ok({ path: real, branch: found.branch, branchDeleted });
}

async function findWorktree(list: WorktreeInfo[], real: string): Promise<WorktreeInfo | undefined> {
  for (const w of list) {
    const p = await realpath(w.path).catch(() => w.path);
    if (p === real) return w;
  }
  return undefined;
}

/** Where worktrees may be: the writable roots (in danger-full-access, the workspace roots). */
function writableRoots(repo: Repo): readonly string[] {
  const { policy } = repo.ctx;
  if (policy.mode === 'danger-full-access') return policy.roots;
  return policy.writableRoots.filter((r) => r !== policy.tmpDir);
}

/** A caller-given worktree path: in a writable root, not in .git, and in .agentbox only under worktrees/. */
async function checkedWorktreePath(repo: Repo, requested: string): Promise<Result<string>> {
  const resolved = await resolveForRead(repo.ctx.policy, requested, { base: repo.top });
  if (!resolved.ok) return resolved;
  const real = resolved.value as string;
  const allowed = writableRoots(repo);
  const root = containingRoot(allowed, real);
  if (!root) return fail('outside_workspace', `Cannot create a worktree at ${requested}: it is outside the writable roots.`, `Allowed: ${allowed.join(', ')}.`);
  const part = protectedPart(root, real);
  if (part && !isInside(path.join(repo.top, WORKTREES_DIR), real)) {
    return fail('protected_path', `Cannot create a worktree at ${requested}: ${part} is protected.`, `Omit path to use ${WORKTREES_DIR}/<branch>.`);
  }
  return ok(real);
}

/** A directory name for a branch: "agentbox/fix-1" -> "agentbox-fix-1". */
function slug(branch: string): string {
  return branch.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '') || 'worktree';
}

function freePath(p: string): string {
  let candidate = p;
  for (let n = 2; existsSync(candidate); n++) candidate = `${p}-${n}`;
  return candidate;
}

/** Creates `parts` below the real directory `base`, one at a time; refuses any that is a link or not a directory. */
async function mkdirNoFollow(base: string, parts: string[]): Promise<Result<void>> {
  let dir = base;
  for (const part of parts) {
    dir = path.join(dir, part);
    await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    const info = await lstat(dir);
    if (!info.isDirectory()) {
      return fail('protected_path', `Cannot create a worktree under ${dir}: it is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}.`, 'Pass path to put the worktree elsewhere.');
    }
  }
  return ok(undefined);
}

/** Adds /.agentbox/ to the repository's info/exclude once, so worktrees never show as untracked. */
async function excludeAgentboxDir(repo: Repo): Promise<Result<void>> {
  const made = await mkdirNoFollow(repo.commonDir, ['info']);
  if (!made.ok) return made;
  const file = path.join(repo.commonDir, 'info', 'exclude');
  let handle;
  try {
    // O_NOFOLLOW: a link at info/exclude is refused (ELOOP), never written through.
    handle = await open(file, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ELOOP') return fail('protected_path', `${file} is a symbolic link; agentbox does not write through it.`);
    throw err;
  }
  try {
    const current = (await handle.readFile('utf8')) as string;
    if (current.split('\n').some((l) => ['/.agentbox/', '.agentbox/', '.agentbox', '/.agentbox'].includes(l.trim()))) return ok(undefined);
    await handle.appendFile(`${current === '' || current.endsWith('\n') ? '' : '\n'}/.agentbox/\n`);
    return ok(undefined);
  } finally {
    await handle.close();
  }
}
