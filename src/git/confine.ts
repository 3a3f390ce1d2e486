// Which repositories the git tools may open. They run git outside the sandbox, and git obeys
// what it finds in the git directory: config (filters, diff programs, an upload-pack command),
// commondir, alternates, a .git file or link leading elsewhere. So:
//
// 1. Layout (every mode): the `.git` at the top of the work tree is a plain directory that is the
//    git dir, or a plain file naming it; a linked worktree's git dir must name this very work tree
//    back. Links are not followed here: a `.git` link is refused.
// 2. Protection (workspace-write): sandboxed commands can write every writable root except each
//    root's own `.git` and `.agentbox` (docs/sandbox.md). The git dir, the common dir and what
//    git reads through them (objects, refs, config, alternates, included config files) must all
//    lie out of their reach: in a root's own .git, or outside every writable root. A repository
//    nested in a root (a folder of repositories, or one a command just made with `git init`) is
//    refused, as its config could change between the check and the command.
//
// In read-only mode nothing changes during the session and danger-full-access has no sandbox to
// protect, so there only the layout and the workspace containment (repo.ts) apply.
import { lstat, readFile, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { containingRoot, gitFileTarget, isInside, PROTECTED_NAMES, type Policy } from '../sandbox/index.js';
import { fail, ok, type Result } from '../util/result.js';

/** Where git found the repository: real paths. */
export interface Located {
  top: string;
  gitDir: string;
  commonDir: string;
}

/** How the work tree leads to its git dir: `.git` directory, `.git` file, or linked worktree. */
export type Layout = 'directory' | 'gitfile' | 'worktree';

/** True when a sandboxed command may write the real path `real` (workspace-write only). Pure. */
export function sandboxCanWrite(policy: Policy, real: string): boolean {
  if (policy.mode !== 'workspace-write') return false;
  if (!containingRoot(policy.writableRoots, real)) return false;
  return !inProtectedName(policy, real);
}

/** True when `real` lies in a writable root's own `.git` or `.agentbox`, which commands cannot write. Pure. */
function inProtectedName(policy: Policy, real: string): boolean {
  return policy.writableRoots.some((root) => root !== policy.tmpDir && PROTECTED_NAMES.some((name) => isInside(path.join(root, name), real)));
}

/** Checks that the work tree's own `.git` is what led git to its git dir (step 1). */
export async function checkLayout({ top, gitDir, commonDir }: Located): Promise<Result<Layout>> {
  const dotGit = path.join(top, '.git');
  const info = await lstat(dotGit).catch(() => undefined);
  const refuse = (why: string, hint?: string) => fail('unusual_repository', `git tools refuse the repository at ${top}: ${why}`, hint);
  if (!info) return refuse(`it has no .git of its own (git found its git directory at ${gitDir}).`, 'Open a repository whose .git sits at the top of its work tree.');
  if (info.isSymbolicLink()) return refuse(`${dotGit} is a symbolic link, which git tools do not follow.`, 'Open the repository it points to instead.');
  if (info.isDirectory()) {
    if (gitDir !== dotGit) return refuse(`git used ${gitDir}, not ${dotGit}.`);
    if (commonDir !== gitDir) return refuse(`${dotGit} takes its objects, refs and config from ${commonDir} (a commondir file).`);
    return ok('directory');
  }
  if (!info.isFile()) return refuse(`${dotGit} is neither a directory nor a file.`);
  const target = await gitFileTarget(dotGit);
  if (target !== gitDir) return refuse(`${dotGit} does not name the git directory git used (${gitDir}).`);
  if (gitDir === commonDir) {
    // A separate git dir: a submodule's (.git/modules/<name>) or `clone --separate-git-dir`.
    if (path.basename(gitDir) === '.git') return refuse(`${dotGit} points at ${gitDir}, the .git of another work tree.`);
    return ok('gitfile');
  }
  if (path.dirname(gitDir) !== path.join(commonDir, 'worktrees')) return refuse(`its git directory ${gitDir} is not a worktree of ${commonDir}.`);
  // The worktree's back-link, written by git: the .git file of the work tree it belongs to.
  const back = path.join(gitDir, 'gitdir');
  const backInfo = await lstat(back).catch(() => undefined);
  const backText = backInfo?.isFile() ? (await readFile(back, 'utf8').catch(() => '')).trim() : '';
  const backPath = backText ? path.resolve(gitDir, backText) : '';
  const backTop = backPath && path.basename(backPath) === '.git' ? await realpath(path.dirname(backPath)).catch(() => undefined) : undefined;
  if (backTop !== top) {
    return refuse(`its git directory ${gitDir} belongs to the worktree at ${backPath ? path.dirname(backPath) : '(unknown)'}, not to ${top}.`);
  }
  return ok('worktree');
}

/** Entries of a git dir that git reads or writes through, and that could be links elsewhere. */
const GIT_DIR_ENTRIES = ['HEAD', 'index', 'logs', 'config.worktree'];
const COMMON_DIR_ENTRIES = ['config', 'objects', 'refs', 'logs', 'packed-refs', 'info', 'hooks', 'HEAD', 'shallow', 'modules', 'objects/info', 'objects/pack'];

/** Checks that sandboxed commands cannot write what git reads for this repository (step 2). */
export async function checkProtected(policy: Policy, { top, gitDir, commonDir }: Located): Promise<Result<void>> {
  if (policy.mode !== 'workspace-write') return ok(undefined);
  const isRoot = policy.writableRoots.includes(top);
  for (const dir of [gitDir, commonDir]) {
    if (sandboxCanWrite(policy, dir)) return isRoot ? unprotected(top, `its git directory ${dir} lies where sandboxed commands can write`) : nested(top);
  }
  // A git dir out of every writable root is safe only if the .git file leading there is too.
  const dotGit = path.join(top, '.git');
  if (!inProtectedName(policy, gitDir) && sandboxCanWrite(policy, dotGit)) return nested(top);

  const entries = [...new Set([...GIT_DIR_ENTRIES.map((e) => path.join(gitDir, e)), ...COMMON_DIR_ENTRIES.map((e) => path.join(commonDir, e))])];
  for (const entry of entries) {
    if (!(await lstat(entry).catch(() => undefined))) continue;
    const real = await realMissingOk(entry);
    if (sandboxCanWrite(policy, real)) return unprotected(top, `${entry} leads to ${real}, where sandboxed commands can write`);
  }
  for (const alternate of await alternates(commonDir)) {
    const real = await realMissingOk(alternate);
    if (sandboxCanWrite(policy, real)) return unprotected(top, `it borrows objects from ${real} (objects/info/alternates), where sandboxed commands can write`);
  }
  return ok(undefined);
}

/** Checks that no config file git reads for this repository is one sandboxed commands can write. */
export async function checkIncludes(
  policy: Policy,
  top: string,
  home: string | undefined,
  includes: ReadonlyArray<{ file: string; from: string }>,
): Promise<Result<void>> {
  if (policy.mode !== 'workspace-write') return ok(undefined);
  for (const inc of includes) {
    const from = path.resolve(top, inc.from);
    const file = inc.file.startsWith('~/') && home ? path.join(home, inc.file.slice(2)) : path.resolve(path.dirname(from), inc.file);
    const real = await realMissingOk(file);
    if (sandboxCanWrite(policy, real)) {
      return fail(
        'unprotected_repository',
        `git tools refuse the repository at ${top}: its git config includes ${real} (from ${from}), which sandboxed commands can rewrite.`,
        'Ask the user to move that file into .git or out of the workspace, or to remove the include.',
      );
    }
  }
  return ok(undefined);
}

/**
 * The refusal for a repository at `top` whose `.git` sandboxed commands can rewrite (nested in a
 * writable root), known before git located it; undefined when that is not so. Pure.
 */
export function nestedRefusal(policy: Policy, top: string): Result<never> | undefined {
  if (policy.mode !== 'workspace-write' || policy.writableRoots.includes(top)) return undefined;
  return sandboxCanWrite(policy, path.join(top, '.git')) ? nested(top) : undefined;
}

function nested(top: string): Result<never> {
  return fail(
    'unprotected_repository',
    'git tools work only on a repository whose .git the sandbox protects (a workspace root\'s own repository or its worktrees). ' +
      `${top} is nested inside the workspace, where sandboxed commands can rewrite its .git/config.`,
    `To use git tools there, start agentbox with --root ${top}.`,
  );
}

function unprotected(top: string, why: string): Result<never> {
  return fail(
    'unprotected_repository',
    `git tools work only on a repository whose .git the sandbox protects; in ${top}, ${why}.`,
    'Ask the user to make it a plain directory inside .git again (outside agentbox), or to start agentbox with --sandbox read-only to only read the repository.',
  );
}

/** The directories listed in objects/info/alternates (relative ones resolved against objects/). */
async function alternates(commonDir: string): Promise<string[]> {
  const objects = path.join(commonDir, 'objects');
  const text = await readFile(path.join(objects, 'info', 'alternates'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => path.resolve(objects, l.replace(/^"(.*)"$/, '$1')));
}

/** realpath, also for a path (or a link's target) that does not exist yet, which a command could create. */
async function realMissingOk(p: string, hops = 0): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    // resolved below
  }
  const info = await lstat(p).catch(() => undefined);
  if (info?.isSymbolicLink() && hops < 40) {
    const target = await readlink(p).catch(() => undefined);
    if (target !== undefined) return realMissingOk(path.resolve(path.dirname(p), target), hops + 1);
  }
  const parent = path.dirname(p);
  if (parent === p) return p;
  return path.join(await realMissingOk(parent, hops), path.basename(p));
}
