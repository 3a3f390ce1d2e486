// Finds the repository a git tool works on and checks that it may be used:
//
// 1. `repo_path` (default: the first workspace root) goes through the path policy (symlinks
//    resolved), so a link pointing outside the workspace is refused before git runs.
// 2. One `git rev-parse` finds the work tree, the git dir and the common dir. The real top level
//    must lie inside the workspace (for changes: a writable root); this also catches core.worktree
//    pointing elsewhere and a directory that is only inside a repository outside the workspace.
//    Its answer is remembered per directory (locateCache below) and reused while a few stat calls
//    show that nothing it depends on changed, so repeated tool calls start no probe process.
// 3. confine.ts checks the layout (the `.git` that led there, a worktree's back-link) and, in
//    workspace-write mode, that sandboxed commands cannot write the git dir or anything git reads
//    through it. In the other modes the git dir must lie in the workspace too, unless it is the
//    linked-worktree directory of a repository whose back-link names this very work tree.
// 4. Filter drivers from the repository's own config are switched off (settings.ts). The config
//    is listed only when its files mention filters, signing or includes: most never do.
// 5. Every later command gets GIT_DIR and GIT_WORK_TREE, so git never searches again: a `.git`
//    a command swaps in after the check is not read.
// Every git command runs in the confined view (run.ts), which shows the roots and, besides them,
// the repository's git dir and common dir (writable in workspace-write mode: git tools are the
// controlled way to change a repository). Before git has located the repository, what the `.git`
// files of the roots holding the directory point to is shown read-only, so a root that is a
// linked worktree of a repository elsewhere is found (only `.git` files sandboxed commands cannot
// rewrite). A repository git could not see (above the roots, a `.git` file naming a git dir
// outside them, or nested where commands can rewrite it) is refused with that reason.
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { containingRoot, gitFileTarget, gitPointerTargets, isInside, resolveForRead, type ConfinedView, type Policy, type SafePath } from '../sandbox/index.js';
import { fail, ok, type Result } from '../util/result.js';
import { checkIncludes, checkLayout, checkProtected, nestedRefusal, sandboxCanWrite, type Layout, type Located } from './confine.js';
import { runGit, type GitCommand, type RunOptions, type RunOutput } from './run.js';
import { gitEnv, includedFiles, parseScopedConfig, repoConfigOverrides, repoSigningProgram, safeConfig, type GitSettings } from './settings.js';

/** What a git operation needs from its caller: the policy in force, the git settings, the call's signal. */
export interface GitContext {
  policy: Policy;
  settings: GitSettings;
  /** Where git runs: the confined view (ConfinedView.of(runtime)); in danger-full-access it runs as is. */
  view: ConfinedView;
  signal?: AbortSignal;
}

export type Access = 'read' | 'write';

/** A repository that passed the checks, with a runner bound to its work tree. */
export interface Repo {
  /** The work tree's top level (real path). */
  readonly top: SafePath;
  readonly gitDir: string;
  readonly commonDir: string;
  readonly layout: Layout;
  readonly access: Access;
  readonly ctx: GitContext;
  /** A signing program set by the repository's own config, if any (see commit). */
  readonly repoSigningProgram?: string;
  /** Runs git in the work tree with the safe settings. */
  run(args: readonly string[], opts?: RunOptions): Promise<Result<RunOutput>>;
}

const READ_ONLY_TOOLS = 'git_status, git_diff, git_log, git_show, git_branch_list and git_worktree list';

/** Opens the repository at or above `repoPath` (default: the first workspace root). */
export async function openRepo(ctx: GitContext, repoPath: string | undefined, access: Access): Promise<Result<Repo>> {
  const { policy, settings } = ctx;
  if (!settings.bin) return fail('git_missing', 'git is not installed (not found on PATH at start-up).', 'Install git; `agentbox doctor` checks it.');
  if (access === 'write' && policy.mode === 'read-only') {
    return fail('read_only', 'Cannot change the repository: the sandbox is in read-only mode.', `Only ${READ_ONLY_TOOLS} work in this session.`);
  }
  const requested = repoPath ?? policy.roots[0];
  if (requested === undefined) return fail('no_workspace', 'No workspace root is set.', 'Pass repo_path.');
  const dir = await resolveForRead(policy, requested);
  if (!dir.ok) return dir;
  const info = await stat(dir.value).catch(() => undefined);
  if (!info) return fail('not_found', `${requested} does not exist.`);
  if (!info.isDirectory()) return fail('not_a_directory', `${requested} is not a directory.`, 'repo_path names the repository directory.');

  const cacheKey = locationKey(settings, dir.value);
  const cached = await cachedLocation(cacheKey);
  if (cached) {
    const opened = await openLocated(ctx, cached, access, requested);
    if (opened.ok || ctx.signal?.aborted) return opened;
    // A remembered answer the checks refuse may be stale in a way the fingerprints missed: forget
    // it and ask git once (a refusal costs one probe process; the next call may be refused again).
    if (locateCache.get(cacheKey)?.located === cached) locateCache.delete(cacheKey);
    refusedHits++;
  }
  const pointed = await rootPointerTargets(policy, dir.value);
  const found = await runGit(baseCommand(ctx, dir.value, [], {}, { dirs: pointed, writable: false }), ['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir']);
  if (!found.ok) {
    // What git could not see in its view (a repository above the roots, a git dir outside them) is
    // refused for that reason, not as "not a repository".
    const unseen = found.error.code === 'cancelled' || found.error.code === 'timeout' ? undefined : await unseenRepository(policy, dir.value, requested, access);
    if (unseen) return unseen;
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
  const located = {
    top: await realpath(topRaw),
    gitDir: await realpath(gitDirRaw),
    commonDir: await realpath(path.resolve(dir.value, commonRaw)),
  };
  await rememberLocation(cacheKey, dir.value, located);
  return openLocated(ctx, located, access, requested);
}

// ---- the location cache ------------------------------------------------------------------------
// `git rev-parse` is a process per tool call (fork and exec of git, ~5–30 ms on a small machine)
// that almost always answers the same. Its answer depends on: the `.git` entries git meets walking
// up from the directory (none below the top level, the top level's own), whether one of those
// directories is itself a bare repository, a `.git` file's content, core.worktree / core.bare in
// the repository's config files, and who owns what (safe.directory, read from the global and
// system config). The cache keeps, per git binary, real directory and the variables naming the
// global and system config (LOCATE_ENV), the answer with a fingerprint of exactly those:
// - for each directory from the requested one up to (not including) the top level, that it has
//   neither a `.git` nor a `HEAD` (every git dir has a HEAD: one lstat, where telling a bare
//   repository from a stray file named HEAD would take several; a directory holding a file named
//   HEAD is simply never cached). These must all be absent when the answer is remembered, after
//   git answered: one that appeared since is not mistaken for part of what git saw;
// - the top level's `.git` (device, inode and owner; for a file also size, mtime and ctime);
// - the config, config.worktree and commondir files of the git dir and common dir (absent, or
//   device, inode, owner, size, mtime, ctime);
// - what the paths named in a `.git` file and a commondir file lead to, links followed (a
//   retargeted symlink on the way changes git's answer though neither file changed).
// A `.git` directory's own mtime is not part of it: git status renames index.lock in it.
// Only the plain layouts are cached (the top level holds the requested directory and a `.git`
// that is the git dir or a file); anything else asks git every time. The checks of openLocated
// (containment, layout, protection, config) still run on every call, and when they refuse a
// remembered answer it is dropped and git is asked once more: a stale answer the fingerprints
// missed costs one probe, never a string of refusals.
// Not covered: the contents of the global and system config files (a safe.directory or
// safe.bareRepository changed there during the session), a mount appearing in between (git stops
// at a file system boundary), and a top-level `.git` or config changed in the instant between
// git's answer and the fingerprints (the layout check refuses most such answers, see above).

interface CachedLocation {
  located: Located;
  /** Paths and their fingerprint when the answer was cached (stat, in order). */
  probes: Array<[path: string, fingerprint: string, follow: boolean]>;
}

/** Entries kept; the least recently used goes first. */
const LOCATE_CACHE_MAX = 64;
const locateCache = new Map<string, CachedLocation>();
/** Remembered answers the checks refused (tests assert the fingerprints, not this, caught a change). */
let refusedHits = 0;

async function fingerprint(file: string, follow: boolean, withTimes: boolean): Promise<string> {
  const info = await (follow ? stat(file) : lstat(file)).catch((e: NodeJS.ErrnoException) => e.code ?? 'error');
  if (typeof info === 'string') return info === 'ENOENT' ? 'absent' : `error:${info}`;
  const kind = info.isDirectory() ? 'd' : info.isFile() ? 'f' : info.isSymbolicLink() ? 'l' : 'o';
  // The owner too: git refuses a repository owned by someone else (safe.directory).
  const base = `${kind}:${info.dev}:${info.ino}:${info.uid}`;
  return withTimes && kind !== 'd' ? `${base}:${info.size}:${info.mtimeMs}:${info.ctimeMs}` : base;
}

/**
 * The paths whose state the answer of `git rev-parse` in `dir` depends on, or undefined if it is
 * not cached: `between`, what git would have stopped at below the top level (each directory's
 * `.git`, and its `HEAD`: git also stops at a directory that is itself a bare repository, and a
 * git dir always has HEAD); `others`, with whether links are followed.
 */
function probePaths(dir: string, { top, gitDir, commonDir }: Located): { between: string[]; others: Array<[string, boolean]> } | undefined {
  if (!isInside(top, dir)) return undefined;
  const between: string[] = [];
  for (let d = dir; d !== top; d = path.dirname(d)) {
    if (d === path.dirname(d)) return undefined;
    between.push(path.join(d, '.git'), path.join(d, 'HEAD'));
  }
  const others: Array<[string, boolean]> = [[path.join(top, '.git'), false]];
  for (const f of new Set([path.join(gitDir, 'config'), path.join(gitDir, 'config.worktree'), path.join(gitDir, 'commondir'), path.join(commonDir, 'config'), path.join(commonDir, 'config.worktree')])) {
    others.push([f, true]);
  }
  return { between, others };
}

/** The path a `.git` file (`gitdir: …`) or commondir file names, resolved against `base`; undefined if none. */
async function pointer(file: string, base: string): Promise<string | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const named = path.basename(file) === 'commondir' ? text.trim() : /^gitdir:\s*(.+?)\s*$/m.exec(text)?.[1];
  return named ? path.resolve(base, named) : undefined;
}

async function rememberLocation(key: string, dir: string, located: Located): Promise<void> {
  const probed = probePaths(dir, located);
  if (!probed) return;
  const { between, others: paths } = probed;
  const dotGit = await lstat(path.join(located.top, '.git')).catch(() => undefined);
  if (!dotGit || !(dotGit.isFile() || (dotGit.isDirectory() && located.gitDir === path.join(located.top, '.git')))) return;
  // Where the `.git` file and a commondir file point, followed: retargeting a link on the way
  // changes what the path leads to, though neither file changed.
  for (const [file, base] of [[path.join(located.top, '.git'), located.top], [path.join(located.gitDir, 'commondir'), located.gitDir]] as const) {
    const named = await pointer(file, base);
    if (named) paths.push([named, true]);
  }
  // git's answer means nothing was in between when it looked; something there now (it appeared
  // since, or is a HEAD git did not take for a repository) is not remembered: git is asked again.
  const gaps = await Promise.all(between.map((p) => fingerprint(p, false, true)));
  if (gaps.some((f) => f !== 'absent')) return;
  const probes = [
    ...between.map((p) => [p, 'absent', false] as [string, string, boolean]),
    ...(await Promise.all(paths.map(async ([p, follow]) => [p, await fingerprint(p, follow, true), follow] as [string, string, boolean]))),
  ];
  locateCache.delete(key);
  locateCache.set(key, { located, probes });
  while (locateCache.size > LOCATE_CACHE_MAX) locateCache.delete(locateCache.keys().next().value!);
}

/**
 * Variables that decide which config files git reads, and so its safe.directory (ownership) and
 * safe.bareRepository answers: part of the key, as the git binary and the directory are.
 */
const LOCATE_ENV = ['HOME', 'XDG_CONFIG_HOME', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_SYSTEM', 'GIT_CONFIG_NOSYSTEM'] as const;

function locationKey(settings: GitSettings, dir: string): string {
  return [settings.bin, dir, ...LOCATE_ENV.map((name) => settings.env[name] ?? '\u0001')].join('\0');
}

/** The cache's internals, for tests only. */
export const locationCacheForTests = {
  key: locationKey,
  remember: rememberLocation,
  has: (key: string) => locateCache.has(key),
  refusedHits: () => refusedHits,
};

async function cachedLocation(key: string): Promise<Located | undefined> {
  const entry = locateCache.get(key);
  if (!entry) return undefined;
  const now = await Promise.all(entry.probes.map(([p, , follow]) => fingerprint(p, follow, true)));
  const same = now.every((f, i) => f === entry.probes[i]![1]);
  // Unless another call replaced the entry meanwhile: a stale one is dropped, and a hit moves to
  // the end of the Map (insertion order), so the least recently used entry is evicted first.
  if (locateCache.get(key) === entry) {
    locateCache.delete(key);
    if (same) locateCache.set(key, entry);
  }
  return same ? entry.located : undefined;
}

/** Opens the linked worktree at `top` (a real path) of `repo` without asking git to search. */
export async function openWorktree(repo: Repo, top: string, access: Access): Promise<Result<Repo>> {
  const gitDir = await gitFileTarget(path.join(top, '.git'));
  if (!gitDir) return fail('not_a_worktree', `${top} is not a worktree (its .git file names no git directory).`);
  return openLocated(repo.ctx, { top, gitDir, commonDir: repo.commonDir }, access, top);
}

/** Steps 3 to 5 for a repository whose location is known. */
async function openLocated(ctx: GitContext, located: Located, access: Access, requested: string): Promise<Result<Repo>> {
  const { policy } = ctx;
  const { top, gitDir, commonDir } = located;
  const allowed = allowedRoots(policy, access);
  if (!containingRoot(allowed, top)) {
    return fail(
      'outside_workspace',
      `The repository at ${top}${requested !== top ? ` (found from ${requested})` : ''} lies outside the ${access === 'write' ? 'writable roots' : 'workspace'}.`,
      `git tools work on repositories inside ${allowed.join(', ')}.`,
    );
  }
  // In workspace-write mode, a repository out of the sandbox's protection is refused as such first.
  const guarded = await checkProtected(policy, located);
  if (!guarded.ok) return guarded;
  const layout = await checkLayout(located);
  if (!layout.ok) return layout;
  if (policy.mode !== 'workspace-write' && !containingRoot(allowed, gitDir) && layout.value !== 'worktree') {
    return fail(
      'outside_workspace',
      `The repository's git directory ${gitDir} lies outside the workspace and is not a worktree of it.`,
      'Its .git file points elsewhere; git tools refuse to work on it.',
    );
  }

  // Repositories the sandbox protects may save a refreshed index as git status does; others not.
  const env = { GIT_DIR: gitDir, GIT_WORK_TREE: top, ...(policy.mode === 'read-only' ? {} : { optionalLocks: true }) };
  const dirs = repoDirs(policy, located);
  const config = await repoConfig(ctx, located, env, dirs);
  if (!config.ok) return config;
  const cmd = baseCommand(ctx, top, config.value.overrides, env, dirs);
  return ok({
    top: top as SafePath,
    gitDir,
    commonDir,
    layout: layout.value,
    access,
    ctx,
    ...(config.value.signing ? { repoSigningProgram: config.value.signing } : {}),
    run: (args, opts) => runGit(cmd, args, opts),
  });
}

interface RepoConfig {
  overrides: string[];
  signing?: string;
}

/**
 * A section header git would read as filter.*, gpg.*, include.* or includeIf.* (`[filter "x"]`,
 * `[filter.x]`, also after another section on the same line); keys exist only inside sections.
 */
const CONFIG_SECTIONS = /\[(filter|gpg|include|includeif)[\s".\]]/i;

/**
 * The `-c` overrides for the repository's own filter drivers, its signing program, and a check
 * that it includes no file sandboxed commands can write. git lists the config only when the
 * repository's config files mention a filter, gpg or an include at all.
 */
async function repoConfig(ctx: GitContext, { top, gitDir, commonDir }: Located, env: PinnedEnv, dirs: ShownDirs): Promise<Result<RepoConfig>> {
  const files = [path.join(commonDir, 'config'), path.join(gitDir, 'config.worktree')];
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : undefined))));
  if (texts.every((t) => t !== undefined && !CONFIG_SECTIONS.test(t))) return ok({ overrides: [] });

  const listed = await runGit(baseCommand(ctx, top, [], env, dirs), ['config', '--show-scope', '--show-origin', '-z', '--get-regexp', '^(filter|gpg|include|includeif)\\.'], { okExit: [1] });
  if (!listed.ok) return listed;
  const entries = parseScopedConfig(listed.value.stdout);
  const included = await checkIncludes(ctx.policy, top, ctx.settings.env.HOME, includedFiles(entries));
  if (!included.ok) return included;
  const overrides = repoConfigOverrides(entries);
  if (!overrides.ok) {
    return fail('unsafe_config', `The repository's config sets ${overrides.key}, which agentbox cannot switch off safely.`, 'Remove that filter from .git/config.');
  }
  const signing = repoSigningProgram(entries);
  return ok({ overrides: overrides.overrides, ...(signing ? { signing } : {}) });
}

/** Roots the work tree must lie in. */
function allowedRoots(policy: Policy, access: Access): readonly string[] {
  // The private temp dir is writable by sandboxed commands; a repository there is not the workspace.
  if (access === 'write' && policy.mode === 'workspace-write') return policy.writableRoots.filter((r) => r !== policy.tmpDir);
  // danger-full-access has no sandbox, yet the git tools still stay in the workspace.
  return [...policy.roots, ...policy.readRoots];
}

interface PinnedEnv {
  GIT_DIR?: string;
  GIT_WORK_TREE?: string;
  optionalLocks?: boolean;
}

/** Directories the confined view shows besides the roots (the view skips those a root shows already). */
interface ShownDirs {
  dirs: readonly string[];
  writable: boolean;
}

/**
 * Why git, in its view, found no repository from `dir` where there is one it was not shown: a
 * `.git` above the roots, a nested `.git` sandboxed commands can rewrite, or a `.git` file in the
 * roots naming a git dir outside them. Only names are looked at, and only to refuse with the
 * reason instead of "not a repository" or git's own complaint.
 */
async function unseenRepository(policy: Policy, dir: string, requested: string, access: Access): Promise<Result<never> | undefined> {
  if (policy.mode === 'danger-full-access') return undefined;
  const shown = [...policy.roots, ...policy.readRoots, policy.tmpDir];
  for (let d = dir; ; d = path.dirname(d)) {
    const dotGit = path.join(d, '.git');
    const info = await lstat(dotGit).catch(() => undefined);
    if (info) {
      if (!containingRoot(shown, d)) {
        // As openLocated says it when git could see the repository.
        return fail(
          'outside_workspace',
          `The repository at ${d}${requested !== d ? ` (found from ${requested})` : ''} lies outside the ${access === 'write' ? 'writable roots' : 'workspace'}.`,
          `git tools work on repositories inside ${allowedRoots(policy, access).join(', ')}.`,
        );
      }
      const nested = nestedRefusal(policy, d);
      if (nested) return nested;
      const target = info.isFile() ? await gitFileTarget(dotGit) : undefined;
      if (target && !containingRoot(shown, target)) {
        return fail(
          'outside_workspace',
          `${dotGit} points at ${target}, the git directory of a repository outside the workspace.`,
          'git tools work on repositories whose git directory lies in the workspace (or on a root that is a linked worktree).',
        );
      }
      return undefined;
    }
    if (d === path.dirname(d)) return undefined;
  }
}

/** A located repository's git dir and common dir: writable where the git tools may change repositories. */
function repoDirs(policy: Policy, { gitDir, commonDir }: Located): ShownDirs {
  return { dirs: [...new Set([gitDir, commonDir])], writable: policy.mode === 'workspace-write' };
}

/**
 * Where the `.git` files of the roots holding `dir` point (a git dir and that one's common dir),
 * for git to find a root that is a linked worktree (a delegate's worktree is a read root above its
 * working root). Only a root's own `.git`, and only one sandboxed commands cannot change; nested
 * `.git` files are not followed out of the roots.
 */
async function rootPointerTargets(policy: Policy, dir: string): Promise<string[]> {
  if (policy.mode === 'danger-full-access') return [];
  const holding = [...policy.roots, ...policy.readRoots].filter((root) => isInside(root, dir) && !sandboxCanWrite(policy, path.join(root, '.git')));
  const targets = await Promise.all(
    holding.map(async (root) => {
      const dotGit = path.join(root, '.git');
      const info = await lstat(dotGit).catch(() => undefined);
      return info?.isFile() ? gitPointerTargets(dotGit) : [];
    }),
  );
  return [...new Set(targets.flat())];
}

function baseCommand(ctx: GitContext, cwd: string, extraConfig: readonly string[], pinned: PinnedEnv, shown: ShownDirs): GitCommand {
  const { settings, policy, view } = ctx;
  const { optionalLocks, ...paths } = pinned;
  const bin = settings.bin!;
  return {
    bin,
    cwd,
    env: { ...gitEnv(settings, { optionalLocks: optionalLocks ?? false }), ...paths },
    config: [...safeConfig(settings), ...extraConfig],
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    timeoutMs: settings.timeoutMs,
    launch: (args, dir, scratch) =>
      view.launch(policy, {
        purpose: 'git',
        bin,
        args,
        cwd: dir,
        readOnly: shown.writable ? [] : shown.dirs,
        writable: [...(shown.writable ? shown.dirs : []), ...scratch],
      }),
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
