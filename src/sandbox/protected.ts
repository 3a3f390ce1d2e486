// Finds the paths that must stay read-only inside each writable root: `.git` (a directory, or a
// `gitdir:` pointer file plus the directory it points to and that directory's common dir) and
// `.agentbox`. This is the I/O half of the sandbox; bwrap.ts turns the answer into mounts.
//
// A missing protected name is masked (an empty read-only tmpfs on it), so a command cannot create
// `.git/config` with hooks or an fsmonitor that git would later run outside the sandbox. bwrap
// creates an empty directory on the host as the mount point; an empty directory named `.git` is
// ignored by git, and the exec layer removes it again when the last command using it ends.
// An empty directory found here is masked the same way, which also cleans up after a crash.
//
// The private temp dir is skipped: it is agentbox's own scratch space and nothing else reads it.
// A symlinked `.git` is protected at its target; the link itself stays replaceable (bwrap cannot
// mount over a symlink), which is documented in docs/sandbox.md.
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ProtectedMount } from './bwrap.js';
import { PROTECTED_NAMES, type Policy } from './policy.js';

/** The protected mounts for every writable root of `policy` (none outside workspace-write). */
export function findProtectedPaths(policy: Policy): ProtectedMount[] {
  if (policy.mode !== 'workspace-write') return [];
  const out = new Map<string, ProtectedMount>();
  const add = (p: string, kind: ProtectedMount['kind']) => {
    if (!out.has(p)) out.set(p, { path: p, kind });
  };
  for (const root of policy.writableRoots) {
    if (root === policy.tmpDir || !isDirectory(root)) continue;
    for (const name of PROTECTED_NAMES) {
      const p = path.join(root, name);
      const info = lstatOrUndefined(p);
      if (!info) add(p, 'mask');
      else if (info.isSymbolicLink()) {
        const target = realOrUndefined(p);
        if (target) add(target, 'ro-bind');
      } else if (info.isDirectory()) add(p, isEmptyDir(p) ? 'mask' : 'ro-bind');
      else {
        add(p, 'ro-bind');
        if (name === '.git' && info.isFile()) for (const dir of gitdirsOf(p)) add(dir, 'ro-bind');
      }
    }
  }
  return [...out.values()];
}

/**
 * The policy as bwrap can mount it: roots that do not exist (a configured extra root not created
 * yet, a worktree removed meanwhile) are left out instead of failing every command.
 */
export function existingRoots(policy: Policy): Policy {
  const keep = (list: readonly string[]) => (list.every(isDirectory) ? list : list.filter(isDirectory));
  return { ...policy, roots: keep(policy.roots), readRoots: keep(policy.readRoots), writableRoots: keep(policy.writableRoots) };
}

/** The directories a `.git` pointer file leads to: its gitdir and, for a worktree, the common dir. */
function gitdirsOf(gitFile: string): string[] {
  let text: string;
  try {
    text = readFileSync(gitFile, 'utf8');
  } catch {
    return [];
  }
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(text);
  if (!m?.[1]) return [];
  const gitdir = realOrUndefined(path.resolve(path.dirname(gitFile), m[1]));
  if (!gitdir) return [];
  const dirs = [gitdir];
  try {
    const common = readFileSync(path.join(gitdir, 'commondir'), 'utf8').trim();
    const real = common ? realOrUndefined(path.resolve(gitdir, common)) : undefined;
    if (real) dirs.push(real);
  } catch {
    // not a worktree: no common dir
  }
  return dirs;
}

function lstatOrUndefined(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isEmptyDir(p: string): boolean {
  try {
    return readdirSync(p).length === 0;
  } catch {
    return false;
  }
}

function realOrUndefined(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}
