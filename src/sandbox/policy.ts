// The sandbox policy: which directories may be read and written, and whether the network is on.
// It is a plain value built from the configuration and the current workspace roots. The file
// tools' path checks (paths.ts) and the shell sandbox (bwrap) read the same value, so they agree
// on one set of roots.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { SandboxMode } from '../config/index.js';
import { TtlMemo } from './memo.js';

/** Names that stay read-only inside every writable root (the repository and agentbox's own state). */
export const PROTECTED_NAMES: readonly string[] = ['.git', '.agentbox'];

export interface Policy {
  readonly mode: SandboxMode;
  /** Workspace roots, as real paths. The first one is the default working directory. */
  readonly roots: readonly string[];
  /** Extra directories the file tools may read. */
  readonly readRoots: readonly string[];
  /** Where writes may land: roots + configured extras + the private temp dir (workspace-write only). */
  readonly writableRoots: readonly string[];
  readonly network: boolean;
  /** The server's private temp directory, mounted as /tmp inside the sandbox. */
  readonly tmpDir: string;
  /** Never readable or writable through the file tools, in any mode (/proc, /sys, $AGENTBOX_HOME); the sandbox covers all but /proc and /sys. */
  readonly hidden: readonly string[];
  /**
   * `sandbox.deny_read`: credential files and directories (real paths where they exist) that the
   * sandbox covers and the file tools refuse, in every mode, like `hidden`.
   */
  readonly denyRead: readonly string[];
  /**
   * The last scans for nested `.git` entries under each writable root (protected.ts), reused for a
   * few seconds by the shell and the file tools alike. Optional: a policy without one scans every time.
   */
  readonly scans?: TtlMemo<readonly string[]>;
  /** Set by existingRoots: every root was just found to exist (no need to look again). */
  readonly rootsExist?: boolean;
}

/** How long a scan for nested `.git` entries is reused. */
export const SCAN_TTL_MS = 5000;

export interface PolicyInput {
  mode: SandboxMode;
  roots: readonly string[];
  readRoots?: readonly string[];
  extraWritableRoots?: readonly string[];
  network?: boolean;
  tmpDir: string;
  /** agentbox's own state directory ($AGENTBOX_HOME), hidden from the file tools. */
  home?: string;
  /** `sandbox.deny_read`, absolute (see expandDenyRead). */
  denyRead?: readonly string[];
}

/** Builds a policy; roots are resolved to real paths so that later containment checks are exact. */
export function buildPolicy(input: PolicyInput): Policy {
  const roots = uniq(input.roots.map(realOrResolved));
  const readRoots = uniq((input.readRoots ?? []).map(realOrResolved));
  const tmpDir = realOrResolved(input.tmpDir);
  const writableRoots =
    input.mode === 'workspace-write'
      ? uniq([...roots, ...(input.extraWritableRoots ?? []).map(realOrResolved), tmpDir])
      : input.mode === 'danger-full-access'
        ? ['/']
        : [];
  return {
    mode: input.mode,
    roots,
    readRoots,
    writableRoots,
    network: input.mode === 'danger-full-access' ? true : (input.network ?? false),
    tmpDir,
    hidden: uniq(['/proc', '/sys', ...(input.home ? [realOrResolved(input.home)] : [])]),
    denyRead: uniq((input.denyRead ?? []).map(realOrResolved)),
    scans: new TtlMemo(SCAN_TTL_MS),
  };
}

/** `sandbox.deny_read` entries as absolute paths: `~` and `~/...` in the server's home directory `home`. Pure. */
export function expandDenyRead(entries: readonly string[], home: string | undefined): string[] {
  return entries.flatMap((p) => {
    if (p !== '~' && !p.startsWith('~/')) return [path.resolve(p)];
    // Without a home directory there is nothing of the user's to hide.
    return home ? [path.join(home, p.slice(1))] : [];
  });
}

function realOrResolved(p: string): string {
  const abs = path.resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}

function uniq(list: string[]): string[] {
  return [...new Set(list)];
}
