// Turns a sandbox policy into the bubblewrap arguments of a "confined view": the mount namespace
// ripgrep (grep, glob) and git run in. Pure: what exists on this machine is found beforehand by
// confined-view.ts, so every rule is table-tested (test/sandbox/view.test.ts).
//
// Why: rg and git walk the tree by name. Run on the host, a sandboxed command racing them can swap
// a directory for a symlink to somewhere outside the roots and make them read it (and git add
// could then store it). In the view only the roots exist, so a symlink that leads out of them
// leads nowhere; the kernel keeps the walk inside.
//
// Unlike the command sandbox (bwrap.ts), which shows the whole file system read-only, the view
// starts from an empty root and shows only:
// 1. the system program directories (/usr, /lib, /lib64, /bin, /sbin) as on the host: a directory
//    read-only, a symlink (merged /usr: /bin -> usr/bin) as the same symlink; /etc/ld.so.cache;
// 2. a fresh /proc and a fresh, read-only /dev;
// 3. the workspace roots, read roots and the private temp dir at their real host paths: read-only
//    for a search; for git, the policy's writable roots writable (git writes .git; the git tools
//    are the controlled way to change a repository) and the rest read-only. A root inside another
//    mounted one is not mounted again unless it needs write access its parent does not give (a
//    read root inside a writable root is left writable: sandboxed commands can write it anyway);
// 4. extra paths the caller names: read-only (the user's git config, the program's directory
//    when it lies outside the system directories) and writable (a repository's git directory
//    outside the roots, a scratch directory for a temporary index), each unless a mount shows it
//    already;
// 5. over all of it, the hidden and sandbox.deny_read paths that exist and would be visible: an
//    empty read-only tmpfs over a directory, /dev/null over a file. An extra path inside one is
//    not mounted at all;
// 6. the root itself, /dev and every mask read-only last, once every mount point exists.
// Every namespace is new (user, pid, ipc, uts, net: no network), the session too (no terminal to
// inject into), all capabilities are dropped and the view dies with agentbox.
import type { HostPaths } from './bwrap.js';
import { sortByDepth } from './bwrap.js';
import { containingRoot, isInside } from './inside.js';
import type { Policy } from './policy.js';

/** What runs in the view: a search (rg, read-only) or git (writes the writable roots). */
export type ViewPurpose = 'search' | 'git';

/** A system path as found on the host (confined-view.ts). */
export type SystemEntry = { path: string; kind: 'dir' | 'file' } | { path: string; kind: 'symlink'; target: string };

export interface ViewSpec {
  /** A `read-only` or `workspace-write` policy (`danger-full-access` runs without a view). */
  policy: Policy;
  purpose: ViewPurpose;
  /** The system directories (and /etc/ld.so.cache) that exist on the host. */
  system: readonly SystemEntry[];
  /** The hidden and deny_read paths that exist (findHiddenPaths). */
  hidden: HostPaths['hidden'];
  /** Shown read-only besides the roots: the user's git config files, a program's own directory. */
  readOnly?: readonly string[];
  /** Shown writable besides the roots (git only): a git dir outside the roots, a scratch directory. */
  writable?: readonly string[];
  /** The working directory, a real host path. */
  cwd: string;
}

/** The directories a program in the view may come from without binding its own directory. */
export const SYSTEM_DIRS: readonly string[] = ['/usr', '/lib', '/lib64', '/bin', '/sbin'];
/** Files read by the dynamic loader, shown when present. */
export const SYSTEM_FILES: readonly string[] = ['/etc/ld.so.cache'];

/** bwrap's options for `spec`, ending with `--`; the program and its arguments follow. */
export function buildViewArgs(spec: ViewSpec): string[] {
  const { policy } = spec;
  if (policy.mode === 'danger-full-access') throw new Error('buildViewArgs: danger-full-access runs without a view');
  const mounts: Array<{ dest: string; args: string[] }> = [];
  const remountRo: string[] = ['/dev'];

  // 1 and 2.
  for (const e of spec.system) {
    if (e.kind === 'symlink') mounts.push({ dest: e.path, args: ['--symlink', e.target, e.path] });
    else mounts.push({ dest: e.path, args: ['--ro-bind', e.path, e.path] });
  }
  mounts.push({ dest: '/dev', args: ['--dev', '/dev'] }, { dest: '/proc', args: ['--proc', '/proc'] });

  // 3 and 4: what is visible, and whether writable; a path a mount shows already is skipped.
  const denied = spec.hidden.map((h) => h.path);
  const shown: Array<{ path: string; writable: boolean }> = [];
  const show = (p: string, writable: boolean) => {
    const covering = shown.filter((s) => isInside(s.path, p));
    if (covering.some((s) => s.writable || !writable)) return;
    shown.push({ path: p, writable });
    mounts.push({ dest: p, args: [writable ? '--bind' : '--ro-bind', p, p] });
  };
  const git = spec.purpose === 'git';
  const writableRoots = git && policy.mode === 'workspace-write' ? policy.writableRoots : [];
  const roots = [...new Set([...writableRoots, ...policy.roots, ...policy.readRoots, policy.tmpDir])];
  // Parents first, so that a nested root sees its parent's mount; writable first at equal depth.
  for (const root of byDepth(roots)) show(root, writableRoots.includes(root));
  for (const p of byDepth(spec.readOnly ?? [])) if (!containingRoot(denied, p)) show(p, false);
  if (git) for (const p of byDepth(spec.writable ?? [])) if (!containingRoot(denied, p)) show(p, true);

  // 5. Masks, after whatever shows them (deeper, or later at the same depth).
  const visible = (p: string) => shown.some((s) => isInside(s.path, p)) || spec.system.some((e) => e.kind !== 'symlink' && isInside(e.path, p));
  for (const h of spec.hidden) {
    if (!visible(h.path)) continue;
    if (h.kind === 'dir') {
      mounts.push({ dest: h.path, args: ['--tmpfs', h.path] });
      remountRo.push(h.path);
    } else mounts.push({ dest: h.path, args: ['--ro-bind', '/dev/null', h.path] });
  }

  const args: string[] = [];
  for (const m of sortByDepth(mounts)) args.push(...m.args);
  // 6. Deepest first; the root last.
  for (const p of sortByDepth(remountRo.map((dest) => ({ dest }))).reverse()) args.push('--remount-ro', p.dest);
  args.push('--remount-ro', '/');
  args.push('--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net');
  args.push('--new-session', '--die-with-parent', '--cap-drop', 'ALL', '--chdir', spec.cwd, '--');
  return args;
}

/** Whether `file` (a real path) lies in the system directories the view always shows. Pure. */
export function inSystemDirs(file: string): boolean {
  return containingRoot(SYSTEM_DIRS, file) !== undefined;
}

function byDepth(paths: readonly string[]): string[] {
  return sortByDepth(paths.map((dest) => ({ dest }))).map((p) => p.dest);
}
