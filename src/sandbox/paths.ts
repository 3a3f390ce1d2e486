// The only place that decides whether a path may be touched. Every file, patch and git tool
// resolves its paths here first and works only on the `SafePath` it gets back.
//
// 1. The requested path is resolved against a base (the first workspace root by default). A path
//    given as /tmp/... means the private temp dir, as it does inside the sandbox, unless it lies in
//    a root (a workspace that really lives under /tmp).
// 2. Symlinks are followed with realpath; for a path that does not exist yet, the nearest existing
//    parent is resolved and the rest appended, so a symlinked parent cannot smuggle a write out.
// 3. The real path must lie inside an allowed root (containment is checked on real paths only).
// 4. For writes, the same protected paths as the shell sandbox (protected.ts): nothing under a
//    `.git` or `.agentbox` of a writable root, at any depth, nor in what a `.git` file points to;
//    except inside the worktrees the git tools make under `.agentbox/worktrees/`. In read-only
//    mode only the private temp dir is writable.
// In every mode, reads and writes alike, nothing in a hidden path ($AGENTBOX_HOME, /proc, /sys) or
// in a `sandbox.deny_read` entry (credentials), compared as real paths.
import { realpathSync } from 'node:fs';
import { lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { fail, ok, type Result } from '../util/result.js';
import { containingRoot, isInside } from './inside.js';
import { PROTECTED_NAMES, type Policy } from './policy.js';
import { decidingMount, findProtectedPaths, worktreesOf } from './protected.js';

export { containingRoot, isInside } from './inside.js';

/** A real, absolute path that passed the policy check. */
export type SafePath = string & { readonly __brand: 'SafePath' };

/** What commands see as /tmp: the private temp dir. */
const TMP = '/tmp';

/** The protected path component (e.g. `.git`) that `candidate` lies in below `root`, if any. */
export function protectedPart(root: string, candidate: string): string | undefined {
  const rel = path.relative(root, candidate);
  if (rel === '') return undefined;
  return rel.split(path.sep).find((part) => PROTECTED_NAMES.includes(part));
}

export interface ResolveOptions {
  /** Directory relative paths are resolved against; defaults to the first workspace root. */
  base?: string;
}

/** Resolves a path the file tools may read: inside a workspace root or a configured read root. */
export async function resolveForRead(policy: Policy, requested: string, opts: ResolveOptions = {}): Promise<Result<SafePath>> {
  const resolved = await resolveReal(policy, requested, opts);
  if (!resolved.ok) return resolved;
  const real = resolved.value;
  const hidden = hiddenFailure(policy, requested, real);
  if (hidden) return hidden;
  if (policy.mode === 'danger-full-access') return ok(real as SafePath);
  if (!containingRoot([...policy.roots, ...policy.readRoots, policy.tmpDir], real)) {
    return outside(requested, real, [...policy.roots, ...policy.readRoots], 'read');
  }
  return ok(real as SafePath);
}

/** Resolves a path the write tools may change: inside a writable root and not a protected path. */
export async function resolveForWrite(policy: Policy, requested: string, opts: ResolveOptions = {}): Promise<Result<SafePath>> {
  const resolved = await resolveReal(policy, requested, opts);
  if (!resolved.ok) return resolved;
  return writableAt(policy, requested, resolved.value);
}

/** The write check of a resolved path: not hidden, and (sandboxed) inside a writable root and not protected. */
async function writableAt(policy: Policy, requested: string, real: string): Promise<Result<SafePath>> {
  const hidden = hiddenFailure(policy, requested, real);
  if (hidden) return hidden;
  if (policy.mode === 'danger-full-access') return ok(real as SafePath);
  if (policy.mode === 'read-only') {
    if (isInside(policy.tmpDir, real)) return ok(real as SafePath);
    return fail(
      'read_only',
      `Cannot write ${requested}: the sandbox is in read-only mode (only the private /tmp is writable).`,
      'Nothing in the workspace can be changed in this session; ask the user to start agentbox with --sandbox workspace-write.',
    );
  }
  const root = containingRoot(policy.writableRoots, real);
  if (!root) return outside(requested, real, policy.writableRoots.filter((r) => r !== policy.tmpDir), 'write');
  const part = await protectedFor(policy, root, real);
  if (part) return protectedFailure(requested, part);
  return ok(real as SafePath);
}

/**
 * resolveForWrite for a path that is removed or renamed rather than written: when its last
 * component is a symlink, the link itself is the answer, wherever it points (even nowhere), as
 * deleting it removes the link and not its target. Its directory gets the full write check (a
 * symlinked parent still cannot lead out, .git and .agentbox stay read-only) and its own name must
 * not be protected. Anything that is not a symlink gets exactly resolveForWrite.
 */
export async function resolveEntryForWrite(policy: Policy, requested: string, opts: ResolveOptions = {}): Promise<Result<SafePath>> {
  if (typeof requested !== 'string' || requested.length === 0 || requested.includes('\0') || policy.roots.length === 0 || policy.mode === 'read-only') {
    return resolveForWrite(policy, requested, opts);
  }
  const absolute = absolutePath(policy, requested, opts);
  const parent = path.dirname(absolute);
  const info = await lstat(absolute).catch(() => undefined);
  if (parent === absolute || !info?.isSymbolicLink()) return resolveForWrite(policy, requested, opts);
  const dir = await resolveForWrite(policy, parent, opts);
  if (!dir.ok) return dir;
  return writableAt(policy, requested, path.join(dir.value, path.basename(absolute)));
}

/**
 * The protected name that keeps `real` (inside writable `root`) read-only, if any: the component
 * rule (a `.git` or `.agentbox` anywhere below the root, except inside an existing worktree under
 * `.agentbox/worktrees/`), then the mounts the shell sandbox uses (what `.git` files point to).
 */
async function protectedFor(policy: Policy, root: string, real: string): Promise<string | undefined> {
  let part = protectedPart(root, real);
  if (part === '.agentbox' && root !== policy.tmpDir) {
    const wt = (await worktreesOf(root)).find((w) => isInside(w, real) && w !== real);
    if (wt) part = protectedPart(wt, real);
  }
  if (part) return part;
  const decider = decidingMount(await findProtectedPaths(policy), real);
  if (decider && decider.kind !== 'bind') return protectedPart(root, decider.path) ?? '.git';
  return undefined;
}

/** Absolute path of `requested` with every existing symlink resolved. */
async function resolveReal(policy: Policy, requested: string, opts: ResolveOptions): Promise<Result<string>> {
  if (typeof requested !== 'string' || requested.length === 0) {
    return fail('invalid_path', 'The path is empty.', 'Give a path relative to the workspace root or an absolute path inside it.');
  }
  if (requested.includes('\0')) return fail('invalid_path', 'The path contains a NUL byte.');
  if (policy.roots.length === 0) {
    return fail(
      'no_workspace',
      'agentbox has no workspace: it was started in / without --root, and the host sent no roots.',
      'Ask the user to start agentbox with --root /path/to/project (or to configure roots in the host).',
    );
  }
  const absolute = absolutePath(policy, requested, opts);
  try {
    // Paths lexically outside every root (perhaps an automounter or a hung network mount) are
    // resolved off the main thread; they are usually refused anyway.
    const local = containingRoot([...policy.roots, ...policy.readRoots, policy.tmpDir], absolute) !== undefined;
    return ok(await realpathMissingOk(absolute, local));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ELOOP') return fail('invalid_path', `Cannot resolve ${requested}: too many levels of symbolic links.`);
    if (e.code === 'EACCES') return fail('permission_denied', `Cannot resolve ${requested}: permission denied.`);
    if (e.code === 'ENOTDIR') return fail('not_found', `Cannot resolve ${requested}: a parent is not a directory.`);
    if (e.code === 'ENAMETOOLONG') return fail('invalid_path', `Cannot resolve ${requested.slice(0, 80)}…: the name is too long.`);
    throw err;
  }
}

/**
 * `/tmp/...` as commands see it: in the private temp dir, unless it lies in a root (or is the
 * private temp dir's own host path), so that `workdir: "/tmp/build"` and a file tool's `/tmp/x`
 * mean the same place as `cd /tmp/build` in a command.
 */
/** `requested` as an absolute host path, before symlinks: `~` expanded, relative to the base, /tmp/... in the private temp dir. */
function absolutePath(policy: Policy, requested: string, opts: ResolveOptions): string {
  const expanded = expandHome(requested);
  const resolvedPath = path.resolve(opts.base ?? policy.roots[0]!, expanded);
  // Only a path given as /tmp/... (not one that reaches /tmp through `..` from a root).
  return path.isAbsolute(expanded) ? privateTmp(policy, resolvedPath) : resolvedPath;
}

function privateTmp(policy: Policy, absolute: string): string {
  if (!isInside(TMP, absolute) || policy.mode === 'danger-full-access') return absolute;
  if ([...policy.roots, ...policy.readRoots, ...policy.writableRoots, policy.tmpDir].some((r) => isInside(r, absolute))) return absolute;
  return path.join(policy.tmpDir, path.relative(TMP, absolute));
}

/** Symlink hops followed before giving up, as the kernel does (ELOOP). */
const MAX_SYMLINK_HOPS = 40;

/**
 * realpath, also for a path that does not exist yet: the real parent plus the missing name. A
 * dangling symlink also reports ENOENT, so each missing component is checked with lstat and, when
 * it is a link, its target is followed: a write through a link to a missing file outside the
 * workspace must resolve to that outside place, not to the link's own name.
 */
async function realpathMissingOk(absolute: string, sync: boolean, hops = 0): Promise<string> {
  try {
    // Synchronous where `sync` (inside a root): realpath only walks directory entries (no file is
    // opened, so no FIFO can block it) and takes ~5 µs, where the thread-pool version costs 20 to
    // 50 µs a call.
    return sync ? realpathSync.native(absolute) : await realpath(absolute);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const parent = path.dirname(absolute);
  if (parent === absolute) return absolute;
  const realParent = await realpathMissingOk(parent, sync, hops);
  const candidate = path.join(realParent, path.basename(absolute));
  const info = await lstat(candidate).catch(() => undefined);
  if (!info?.isSymbolicLink()) return candidate;
  if (hops >= MAX_SYMLINK_HOPS) throw Object.assign(new Error('too many symbolic links'), { code: 'ELOOP' });
  const target = await readlink(candidate);
  return realpathMissingOk(path.resolve(realParent, target), sync, hops + 1);
}

/**
 * Paths the file tools never touch in any mode: they hold the server's own secrets, or the user's
 * credentials (`sandbox.deny_read`).
 */
function hiddenFailure(policy: Policy, requested: string, real: string): Result<never> | undefined {
  const hit = containingRoot(policy.hidden, real);
  if (!hit) return denyReadFailure(policy, requested, real);
  return fail(
    'hidden_path',
    `Access denied: ${requested} lies in ${hit}, which agentbox's file tools never read or write.`,
    hit === '/proc' || hit === '/sys'
      ? 'It exposes the server\'s own environment and memory; use exec_command (sandboxed, with its own /proc) to inspect the system.'
      : 'It holds agentbox\'s own configuration and state.',
  );
}

/** A path in a `sandbox.deny_read` entry: refused, naming the setting and how to change it. */
function denyReadFailure(policy: Policy, requested: string, real: string): Result<never> | undefined {
  const hit = containingRoot(policy.denyRead, real);
  if (!hit) return undefined;
  const entry = homeRelative(hit);
  return fail(
    'denied_path',
    `Access denied: ${requested}${entry === requested ? '' : ` lies in ${entry}, which`} is hidden by sandbox.deny_read.`,
    'It may hold credentials, so commands, searches and the file tools cannot see it. Only the user can change this: ' +
      `sandbox.deny_read in ${configFile(policy)} lists what is hidden (a list there replaces the default one; \`agentbox doctor\` shows it).`,
  );
}

/** `~/...` for a path in the server's home directory, as deny_read entries are usually written. */
function homeRelative(p: string): string {
  const home = process.env.HOME;
  return home && home !== '/' && isInside(home, p) ? path.join('~', path.relative(home, p)) : p;
}

function expandHome(p: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(process.env.HOME ?? '/', p.slice(1));
  return p;
}

function protectedFailure(requested: string, part: string): Result<never> {
  return fail(
    'protected_path',
    `Cannot write ${requested}: ${part} is protected and stays read-only.`,
    part === '.agentbox'
      ? 'agentbox keeps its own state there (worktrees under .agentbox/worktrees/ are writable).'
      : 'Use the git_* tools to change the repository.',
  );
}

function outside(requested: string, real: string, roots: readonly string[], access: 'read' | 'write'): Result<never> {
  const shown = real === path.resolve(requested) || requested === real ? requested : `${requested} (resolves to ${real})`;
  return fail(
    'outside_workspace',
    `Access denied: ${shown} is outside the ${access === 'write' ? 'writable' : 'readable'} roots.`,
    roots.length > 0 ? `Allowed: ${roots.join(', ')}. Use a path inside one of them.` : 'No roots are allowed.',
  );
}

/** Where the user sets agentbox's configuration: config.toml in its home (AGENTBOX_HOME), as shown to a person. */
function configFile(policy: Policy): string {
  const home = policy.hidden.find((h) => h !== '/proc' && h !== '/sys');
  return home ? homeRelative(path.join(home, 'config.toml')) : '~/.agentbox/config.toml';
}
