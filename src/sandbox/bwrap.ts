// Turns a sandbox policy into the bubblewrap argument list. Pure: no file system access and no
// spawning, so every rule is table-tested (test/sandbox/bwrap.test.ts). What exists on this
// machine (protected paths, sockets, hidden directories) is found beforehand by protected.ts.
//
// Mount order matters: bwrap applies the options left to right, a later mount hides an earlier one
// at the same place, and a mount point must be created before its parent turns read-only.
// 1. `--ro-bind / /`: the whole file system, read-only.
// 2. Every other mount, parents before children (a stable sort by depth):
//    - `--dev /dev` and `--proc /proc`: fresh device nodes and a /proc for the new PID namespace;
//      a size-limited tmpfs on /dev/shm (the one /dev brings is unlimited);
//    - the private temp dir as /tmp, the writable roots (`--bind`), and the roots that live under
//      /tmp and would otherwise be hidden by the private /tmp (`--ro-bind`);
//    - empty tmpfs over the hidden directories ($AGENTBOX_HOME, sandbox.deny_read's ~/.ssh, ...),
//      /dev/null over hidden files (~/.netrc, ...) and container engine sockets, and, without
//      network, empty tmpfs over the runtime directories (/run, ...);
//    - the protected paths inside writable roots, read-only again (`--ro-bind`), or, when missing,
//      masked by an empty tmpfs; worktrees under .agentbox writable again (`--bind`).
// 3. Last, `--remount-ro` for every tmpfs that must stay empty and for /dev (after all the mount
//    points inside them exist).
import path from 'node:path';
import type { Policy } from './policy.js';
import { isInside } from './inside.js';

/** A path inside a writable root whose access differs from the root's. */
export interface ProtectedMount {
  path: string;
  /**
   * `ro-bind`: it exists, bind it read-only over itself. `mask`: it is missing (or an empty
   * directory), cover it with an empty read-only tmpfs. `bind`: a writable carve-out inside a
   * protected directory (a worktree under `.agentbox/worktrees/`).
   */
  kind: 'ro-bind' | 'mask' | 'bind';
}

/** What the sandbox hides on this machine in every sandboxed mode (found by protected.ts). */
export interface HostPaths {
  /** The policy's hidden and deny_read paths that exist, other than /proc and /sys (a fresh /proc replaces those). */
  hidden: ReadonlyArray<{ path: string; kind: 'dir' | 'file' }>;
  /** Existing runtime directories full of named sockets (/run, /var/run when a real directory, $XDG_RUNTIME_DIR): covered when the network is off. */
  runtimeDirs: readonly string[];
  /** Existing container engine sockets (docker.sock, containerd.sock, ...): always covered. */
  engineSockets: readonly string[];
}

export interface BwrapSpec {
  /** A `read-only` or `workspace-write` policy (`danger-full-access` runs without bwrap). */
  policy: Policy;
  protectedMounts: readonly ProtectedMount[];
  /** What to hide on this machine; none when not given (the doctor's probe). */
  host?: HostPaths;
  /** Size of the sandbox's /dev/shm in bytes (default 64 MiB). */
  shmBytes?: number;
  /** A file descriptor bwrap reads a seccomp program from (seccomp.ts), or none. */
  seccompFd?: number;
  /** Working directory inside the sandbox. */
  cwd: string;
  /** `--new-session` (setsid) for pipes; a PTY keeps its controlling terminal, see below. */
  newSession: boolean;
}

/** The directory the private temp dir is mounted on inside the sandbox. */
export const SANDBOX_TMP = '/tmp';

const DEFAULT_SHM_BYTES = 64 * 1024 * 1024;

/**
 * bwrap's options for `spec`, ending with `--`; the command follows.
 *
 * A PTY session runs without `--new-session` so that the command keeps the PTY as its controlling
 * terminal (Ctrl-C through write_stdin, /dev/tty, job control). `--new-session` exists to stop
 * TIOCSTI injection into a terminal outside the sandbox; this PTY is read only by agentbox and
 * written only by the sandbox's own processes, so there is nothing outside to inject into.
 */
export function buildBwrapArgs(spec: BwrapSpec): string[] {
  const { policy } = spec;
  if (policy.mode === 'danger-full-access') throw new Error('buildBwrapArgs: danger-full-access runs without bwrap');
  const writable = policy.mode === 'workspace-write';
  const host: HostPaths = spec.host ?? { hidden: [], runtimeDirs: [], engineSockets: [] };
  const args: string[] = ['--ro-bind', '/', '/'];
  const remountRo: string[] = [];

  // 2. One list of mounts, sorted parents first below.
  const mounts: Array<{ dest: string; args: string[] }> = [
    { dest: '/dev', args: ['--dev', '/dev'] },
    { dest: '/dev/shm', args: ['--perms', '1777', '--size', String(spec.shmBytes ?? DEFAULT_SHM_BYTES), '--tmpfs', '/dev/shm'] },
    { dest: '/proc', args: ['--proc', '/proc'] },
    // The private /tmp is writable in every mode: it is the server's own and discarded at shutdown.
    { dest: SANDBOX_TMP, args: ['--bind', policy.tmpDir, SANDBOX_TMP] },
  ];
  remountRo.push('/dev');
  if (!writable) remountRo.push('/dev/shm');
  const seen = new Set<string>([SANDBOX_TMP]);
  const writableRoots = writable ? policy.writableRoots.filter((r) => r !== policy.tmpDir) : [];
  for (const root of writableRoots) {
    if (seen.has(root)) continue;
    seen.add(root);
    mounts.push({ dest: root, args: ['--bind', root, root] });
  }
  for (const root of [...policy.roots, ...policy.readRoots]) {
    if (seen.has(root) || !isInside(SANDBOX_TMP, root) || isInside(policy.tmpDir, root)) continue;
    if (writableRoots.some((w) => isInside(w, root))) continue;
    seen.add(root);
    mounts.push({ dest: root, args: ['--ro-bind', root, root] });
  }
  // What the command sees of the real /tmp: only the roots bound above.
  const visible = (p: string) => !isInside(SANDBOX_TMP, p) || [...seen].some((r) => r !== SANDBOX_TMP && isInside(r, p));
  const empty = (p: string) => {
    mounts.push({ dest: p, args: ['--tmpfs', p] });
    remountRo.push(p);
  };

  for (const h of host.hidden) {
    if (!visible(h.path)) continue;
    if (h.kind === 'dir') empty(h.path);
    else mounts.push({ dest: h.path, args: ['--ro-bind', '/dev/null', h.path] });
  }
  const runtime = policy.network ? [] : host.runtimeDirs.filter((d, i, all) => !all.some((o, j) => j !== i && isInside(o, d) && o !== d));
  for (const dir of runtime) if (visible(dir)) empty(dir);
  for (const sock of host.engineSockets) {
    if (!visible(sock) || runtime.some((d) => isInside(d, sock))) continue;
    mounts.push({ dest: sock, args: ['--ro-bind', '/dev/null', sock] });
  }

  // Protected paths win over the writable binds because they are deeper (or, at the same depth, later).
  // Only inside a writable root, and never over a mask: everything else is read-only already, and
  // a `.git` link or `gitdir:` file a command planted must not bind a hidden path, a credential,
  // a socket or the real /tmp back into view (a mount at the same depth, added later, would win).
  const masked = [...host.hidden.map((h) => h.path), ...runtime, ...host.engineSockets];
  const protects = (p: ProtectedMount) => [...writableRoots, policy.tmpDir].some((w) => isInside(w, p.path)) && !masked.some((m) => isInside(m, p.path));
  if (writable) {
    for (const p of spec.protectedMounts.filter(protects)) {
      if (p.kind === 'ro-bind') mounts.push({ dest: p.path, args: ['--ro-bind', p.path, p.path] });
      else if (p.kind === 'bind') mounts.push({ dest: p.path, args: ['--bind', p.path, p.path] });
      else empty(p.path);
    }
  }
  for (const m of sortByDepth(mounts)) args.push(...m.args);

  // 3. Read-only last, deepest first, once every mount point inside exists.
  for (const p of sortByDepth(remountRo.map((dest) => ({ dest }))).reverse()) args.push('--remount-ro', p.dest);

  args.push('--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts');
  if (!policy.network) args.push('--unshare-net');
  if (spec.newSession) args.push('--new-session');
  if (spec.seccompFd !== undefined) args.push('--seccomp', String(spec.seccompFd));
  args.push('--die-with-parent', '--cap-drop', 'ALL', '--chdir', toSandboxPath(policy, spec.cwd), '--');
  return args;
}

/** Where a host path appears inside the sandbox: the private temp dir is seen as /tmp. */
export function toSandboxPath(policy: Policy, hostPath: string): string {
  if (!isInside(policy.tmpDir, hostPath)) return hostPath;
  const rel = path.relative(policy.tmpDir, hostPath);
  return rel === '' ? SANDBOX_TMP : path.join(SANDBOX_TMP, rel);
}

/** Stable sort by the number of path components, so a parent is always mounted before its children. */
export function sortByDepth<T extends { dest: string }>(items: T[]): T[] {
  const depth = (p: string) => (p === '/' ? 0 : path.normalize(p).split('/').length - 1);
  return items.map((item, i) => ({ item, i })).sort((a, b) => depth(a.item.dest) - depth(b.item.dest) || a.i - b.i).map((x) => x.item);
}
