// Finds what the sandbox must keep read-only, hide or carve out, with the file system at hand.
// This is the I/O half of the sandbox; bwrap.ts turns the answer into mounts, and paths.ts checks
// the file tools' writes against the same answer, so the shell and the file tools follow one set
// of rules.
//
// Inside every writable root (workspace-write only):
// 1. `.git` (a directory, or a `gitdir:` pointer file plus the directory it points to and that
//    directory's common dir) and `.agentbox` are read-only. A missing one is masked (an empty
//    read-only tmpfs on it), so a command cannot create `.git/config` with hooks or an fsmonitor
//    that git would later run outside the sandbox. bwrap creates an empty directory on the host as
//    the mount point; git ignores an empty `.git` directory, and the exec layer removes it at
//    shutdown. An empty directory found here is masked the same way.
// 2. Nested repositories: every `.git` entry found by a bounded scan (at most SCAN_DEPTH levels
//    below the root, not into SKIPPED_DIRS, `.git` or symbolic links, at most SCAN_MAX_DIRS
//    directories read) is read-only too, with what a `.git` file points to. The scan is reused for
//    SCAN_TTL_MS (policy.ts); what it found is checked again for every command.
// 3. Worktrees made by the git tools, `<root>/.agentbox/worktrees/<name>` (a directory holding a
//    `.git`), are carved out of the read-only `.agentbox`: writable, with their own `.git` file
//    and nested repositories read-only again.
// The private temp dir gets rule 2 only: it is agentbox's own scratch space.
//
// In every sandboxed mode (hostPaths):
// 4. The policy's hidden paths other than /proc and /sys ($AGENTBOX_HOME: config with tokens) and
//    its `sandbox.deny_read` entries (credentials: ~/.ssh, ~/.aws, ...), those that exist.
// 5. Runtime directories full of named UNIX sockets (/run, /var/run, $XDG_RUNTIME_DIR), for
//    commands without network: connect() to a socket works on a read-only mount, and a socket is a
//    door to a daemon outside the sandbox (D-Bus, systemd, a database).
// 6. Container engine sockets (docker.sock, containerd.sock, podman.sock), always: access to one is
//    root on the host.
//
// A symlinked `.git` is protected at its target; the link itself stays replaceable (bwrap cannot
// mount over a symlink), which is documented in docs/sandbox.md.
import type { Dirent } from 'node:fs';
import { constants } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { HostPaths, ProtectedMount } from './bwrap.js';
import { isInside } from './inside.js';
import { PROTECTED_NAMES, type Policy } from './policy.js';

/** How deep below a root the scan looks for nested `.git` entries (`a/b/c/.git` is depth 4). */
export const SCAN_DEPTH = 4;
/** The most directories one scan of a root reads. */
export const SCAN_MAX_DIRS = 4000;
/** Directories the scan never enters: dependency trees and caches that hold no repositories of the user's. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set([
  'node_modules', 'bower_components', 'jspm_packages', '.venv', 'venv', '__pycache__', '.tox', '.nox', '.mypy_cache',
  '.pytest_cache', '.ruff_cache', '.gradle', '.m2', '.next', '.nuxt', '.cache', '.terraform', 'target', '.cargo',
]);
/** Where the git tools put new worktrees, relative to a root. */
export const WORKTREES_DIR = path.join('.agentbox', 'worktrees');

/** The protected mounts for every writable root of `policy` (none outside workspace-write). */
export async function findProtectedPaths(policy: Policy): Promise<ProtectedMount[]> {
  if (policy.mode !== 'workspace-write') return [];
  const out = new Map<string, ProtectedMount>();
  const add = (p: string, kind: ProtectedMount['kind']) => {
    if (!out.has(p)) out.set(p, { path: p, kind });
  };
  const perRoot = await Promise.all(
    policy.writableRoots.map(async (root): Promise<Array<[string, ProtectedMount['kind']]>> => {
      if (!policy.rootsExist && !(await isDirectory(root))) return [];
      const scratch = root === policy.tmpDir;
      const [own, worktrees, nested] = await Promise.all([
        scratch ? [] : Promise.all(PROTECTED_NAMES.map((name) => protectEntry(path.join(root, name), true))),
        scratch ? [] : worktreesOf(root),
        nestedGitEntries(policy, root),
      ]);
      const inWorktrees = await Promise.all(
        worktrees.map(async (wt) => {
          const parts = await Promise.all([protectEntry(path.join(wt, '.git'), false), ...(await nestedGitEntries(policy, wt)).map((p) => protectEntry(p, false))]);
          return [[wt, 'bind'] as [string, ProtectedMount['kind']], ...parts.flat()];
        }),
      );
      // The root's own .git is handled with the root's names (it is masked when missing).
      const others = await Promise.all(nested.filter((p) => scratch || path.dirname(p) !== root).map((p) => protectEntry(p, false)));
      return [...own.flat(), ...inWorktrees.flat(), ...others.flat()];
    }),
  );
  for (const [p, kind] of perRoot.flat()) add(p, kind);
  return [...out.values()];
}

/**
 * The mount that decides about `real` among `mounts`: the deepest one containing it (as with
 * mounts, a deeper one wins). Writes are allowed when there is none or it is a `bind` carve-out.
 */
export function decidingMount(mounts: readonly ProtectedMount[], real: string): ProtectedMount | undefined {
  let best: ProtectedMount | undefined;
  for (const m of mounts) if (isInside(m.path, real) && (!best || m.path.length > best.path.length)) best = m;
  return best;
}

/** The existing worktrees under `<root>/.agentbox/worktrees/`: real directories (no symlinks) holding a `.git`. */
export async function worktreesOf(root: string): Promise<string[]> {
  const dir = path.join(root, WORKTREES_DIR);
  const agentbox = await lstat(path.join(root, '.agentbox')).catch(() => undefined);
  if (!agentbox?.isDirectory()) return [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const wt = path.join(dir, e.name);
    if (await lstat(path.join(wt, '.git')).then(() => true, () => false)) out.push(wt);
  }
  return out;
}

/**
 * What the sandbox hides in every mode: see rules 4 to 6 in the header. `known` passes hidden paths
 * and runtime directories found a moment ago (they hardly ever change); container engine sockets
 * are looked for every time, except where a covered runtime directory hides them anyway.
 */
export async function findHostPaths(
  policy: Policy,
  env: Readonly<Record<string, string | undefined>>,
  known?: Pick<HostPaths, 'hidden' | 'runtimeDirs'>,
): Promise<HostPaths> {
  const { hidden, runtimeDirs } = known ?? (await findStaticHostPaths(policy, env));
  const uid = process.getuid?.() ?? 0;
  const covered = policy.network ? [] : runtimeDirs.includes('/run') && !runtimeDirs.includes('/var/run') ? [...runtimeDirs, '/var/run'] : runtimeDirs;
  const candidates = [
    '/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock', '/var/run/containerd/containerd.sock',
    '/run/podman/podman.sock', '/run/buildkit/buildkitd.sock', `/run/user/${uid}/docker.sock`, `/run/user/${uid}/podman/podman.sock`,
    ...(env.XDG_RUNTIME_DIR ? [path.join(env.XDG_RUNTIME_DIR, 'docker.sock'), path.join(env.XDG_RUNTIME_DIR, 'podman', 'podman.sock')] : []),
    ...(env.HOME ? [path.join(env.HOME, '.docker', 'run', 'docker.sock')] : []),
  ].filter((p) => !covered.some((d) => isInside(d, p)));
  const sockets = await Promise.all(candidates.map((p) => stat(p).then((i) => (i.isSocket() ? realpath(p) : undefined), () => undefined)));
  const engineSockets = [...new Set(sockets.filter((p): p is string => p !== undefined))];
  return { hidden, runtimeDirs, engineSockets };
}

/** The hidden and deny_read paths that exist (but /proc and /sys) and the runtime directories that are real directories. */
export async function findStaticHostPaths(policy: Policy, env: Readonly<Record<string, string | undefined>>): Promise<Pick<HostPaths, 'hidden' | 'runtimeDirs'>> {
  const runtimeCandidates = ['/run', '/var/run', ...(env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR) ? [path.normalize(env.XDG_RUNTIME_DIR)] : [])];
  const [hidden, runtimeInfo] = await Promise.all([
    findHiddenPaths(policy),
    // A symlink (Debian's /var/run -> /run) is covered where it points.
    Promise.all(runtimeCandidates.map((p) => lstat(p).then((i) => i.isDirectory(), () => false))),
  ]);
  return { hidden, runtimeDirs: [...new Set(runtimeCandidates.filter((_, i) => runtimeInfo[i]))] };
}

/** Every path the sandbox covers in every mode (but /proc and /sys, which it replaces): hidden, then deny_read. */
export function hiddenPaths(policy: Policy): string[] {
  return [...new Set([...policy.hidden.filter((p) => p !== '/proc' && p !== '/sys'), ...policy.denyRead])];
}

/** The hidden and deny_read paths that exist, each as a directory or a file (what covers it differs). */
export async function findHiddenPaths(policy: Policy): Promise<HostPaths['hidden']> {
  const list = hiddenPaths(policy);
  const infos = await Promise.all(list.map((p) => stat(p).catch(() => undefined)));
  return list.flatMap((p, i): Array<HostPaths['hidden'][number]> => (infos[i] ? [{ path: p, kind: infos[i]!.isDirectory() ? 'dir' : 'file' }] : []));
}

/**
 * The policy as bwrap can mount it: roots that do not exist (a configured extra root not created
 * yet, a worktree removed meanwhile) are left out instead of failing every command.
 */
export async function existingRoots(policy: Policy): Promise<Policy> {
  const all = [...new Set([...policy.roots, ...policy.readRoots, ...policy.writableRoots])];
  const ok = new Set((await Promise.all(all.map(async (r) => ((await isDirectory(r)) ? r : undefined)))).filter((r) => r !== undefined));
  if (ok.size === all.length) return { ...policy, rootsExist: true };
  const keep = (list: readonly string[]) => list.filter((r) => ok.has(r));
  return { ...policy, roots: keep(policy.roots), readRoots: keep(policy.readRoots), writableRoots: keep(policy.writableRoots), rootsExist: true };
}

/**
 * How to protect one `.git` or `.agentbox` entry: read-only where it exists (for a `.git` file also
 * what it points to; for a symlink its target), masked where it is missing or an empty directory
 * when `maskMissing` (a root's own names).
 */
async function protectEntry(p: string, maskMissing: boolean): Promise<Array<[string, ProtectedMount['kind']]>> {
  const info = await lstat(p).catch(() => undefined);
  if (!info) return maskMissing ? [[p, 'mask']] : [];
  if (info.isSymbolicLink()) {
    const target = await realpath(p).catch(() => undefined);
    return target ? [[target, 'ro-bind']] : [];
  }
  if (info.isDirectory()) return [[p, maskMissing && (await isEmptyDir(p)) ? 'mask' : 'ro-bind']];
  const out: Array<[string, ProtectedMount['kind']]> = [[p, 'ro-bind']];
  if (path.basename(p) === '.git' && info.isFile()) for (const dir of await gitPointerTargets(p)) out.push([dir, 'ro-bind']);
  return out;
}

/** The `.git` entries found below `root` by the bounded scan (memoized on the policy). */
function nestedGitEntries(policy: Policy, root: string): Promise<readonly string[]> {
  return policy.scans ? policy.scans.get(root, () => scanForGit(root)) : scanForGit(root);
}

/** Breadth-first, at most SCAN_DEPTH levels and SCAN_MAX_DIRS directories; never follows symlinks. */
async function scanForGit(root: string): Promise<string[]> {
  const found: string[] = [];
  let level = [root];
  let read = 0;
  for (let depth = 1; depth <= SCAN_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      if (read++ >= SCAN_MAX_DIRS) return found;
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.name === '.git') found.push(full);
        else if (e.isDirectory() && !SKIPPED_DIRS.has(e.name) && !(depth === 1 && e.name === '.agentbox')) next.push(full);
      }
    }
    level = next;
  }
  return found;
}

/** The git dir a `.git` pointer file (`gitdir: …`) names, as a real path; undefined when it names none that exists. */
export async function gitFileTarget(gitFile: string): Promise<string | undefined> {
  const text = await readSmallFile(gitFile);
  const named = /^gitdir:\s*(.+?)\s*$/m.exec(text)?.[1];
  return named ? realpath(path.resolve(path.dirname(gitFile), named)).catch(() => undefined) : undefined;
}

/** The directories a `.git` pointer file leads to: its gitdir and, for a worktree, the common dir (real paths). */
export async function gitPointerTargets(gitFile: string): Promise<string[]> {
  const gitdir = await gitFileTarget(gitFile);
  if (!gitdir) return [];
  const dirs = [gitdir];
  const common = (await readSmallFile(path.join(gitdir, 'commondir'))).trim();
  const real = common ? await realpath(path.resolve(gitdir, common)).catch(() => undefined) : undefined;
  if (real) dirs.push(real);
  return dirs;
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function isEmptyDir(p: string): Promise<boolean> {
  return (await readdir(p).catch(() => ['?'])).length === 0;
}

/**
 * A `.git` or `commondir` file's text, '' for anything but a small regular file: a command may put
 * a FIFO there, and a blocking read would hang every later command and write check.
 */
async function readSmallFile(file: string): Promise<string> {
  try {
    const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    try {
      const info = await handle.stat();
      if (!info.isFile() || info.size > 64 * 1024) return '';
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}
