// Turns a sandbox policy into the bubblewrap argument list. Pure: no file system access and no
// spawning, so every rule is table-tested (test/sandbox/bwrap.test.ts). The protected paths are
// found beforehand by protected.ts, which does the I/O.
//
// Mount order matters; bwrap applies the options left to right and a later mount hides an earlier
// one at the same place:
// 1. `--ro-bind / /`: the whole file system, read-only.
// 2. `--dev /dev`, `--proc /proc`: fresh device nodes and a /proc for the new PID namespace.
// 3. Per path, parents before children: the private temp dir as /tmp, the writable roots
//    (`--bind`), and the workspace and read roots that live under /tmp and would otherwise be
//    hidden by the private /tmp (`--ro-bind`).
// 4. The protected paths inside writable roots, read-only again (`--ro-bind`), or, when missing,
//    masked by an empty read-only tmpfs so the command cannot create them.
// 5. In read-only mode, /tmp itself is remounted read-only last (after its sub-mounts exist).
import path from 'node:path';
import type { Policy } from './policy.js';
import { isInside } from './paths.js';

/** A protected path (`.git`, `.agentbox`, a resolved gitdir) and how to keep it read-only. */
export interface ProtectedMount {
  path: string;
  /** `ro-bind`: it exists, bind it read-only over itself. `mask`: it is missing (or an empty directory), cover it with an empty read-only tmpfs. */
  kind: 'ro-bind' | 'mask';
}

export interface BwrapSpec {
  /** A `read-only` or `workspace-write` policy (`danger-full-access` runs without bwrap). */
  policy: Policy;
  protectedMounts: readonly ProtectedMount[];
  /** Working directory inside the sandbox. */
  cwd: string;
  /** `--new-session` (setsid) for pipes; a PTY keeps its controlling terminal, see below. */
  newSession: boolean;
}

/** The directory the private temp dir is mounted on inside the sandbox. */
export const SANDBOX_TMP = '/tmp';

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
  const args: string[] = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];

  // 3. One list of mounts, parents first; the private temp dir goes on /tmp.
  const mounts: Array<{ dest: string; args: string[] }> = [{ dest: SANDBOX_TMP, args: ['--bind', policy.tmpDir, SANDBOX_TMP] }];
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
  for (const m of sortByDepth(mounts)) args.push(...m.args);

  // 4. Protected paths win over the writable binds because they come after them.
  if (writable) {
    for (const p of sortByDepth(spec.protectedMounts.map((m) => ({ ...m, dest: m.path })))) {
      if (p.kind === 'ro-bind') args.push('--ro-bind', p.path, p.path);
      else args.push('--tmpfs', p.path, '--remount-ro', p.path);
    }
  }

  // 5. Nothing is writable in read-only mode, not even the private /tmp.
  if (!writable) args.push('--remount-ro', SANDBOX_TMP);

  args.push('--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts');
  if (!policy.network) args.push('--unshare-net');
  if (spec.newSession) args.push('--new-session');
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
function sortByDepth<T extends { dest: string }>(items: T[]): T[] {
  const depth = (p: string) => (p === '/' ? 0 : path.normalize(p).split('/').length - 1);
  return items.map((item, i) => ({ item, i })).sort((a, b) => depth(a.item.dest) - depth(b.item.dest) || a.i - b.i).map((x) => x.item);
}
