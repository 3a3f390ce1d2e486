// Calls the patch engine the way apply_patch does, against a temp workspace: the same write check
// (resolveForWrite with a workspace-write policy on that directory) and the same display paths.
import os from 'node:os';
import path from 'node:path';
import { FileLocks } from '../../src/fs/index.js';
import { applyPatch, type PatchEnv, type PatchIo } from '../../src/patch/index.js';
import { buildPolicy, resolveEntryForWrite, resolveForWrite, type Policy } from '../../src/sandbox/index.js';
import type { SandboxMode } from '../../src/config/index.js';
import { displayPath } from '../../src/util/format.js';

/** The policy's private temp dir: a writable root elsewhere that the tests never create or use. */
const UNUSED_TMP = path.join(os.tmpdir(), 'agentbox-test-private-unused');

/** A policy whose only writable root is `dir` (plus the unused private temp dir). */
export function policyFor(dir: string, mode: SandboxMode = 'workspace-write'): Policy {
  return buildPolicy({ mode, roots: [dir], tmpDir: UNUSED_TMP });
}

export interface PatchEnvOptions {
  io?: PatchIo;
  mode?: SandboxMode;
  /** The lock table; calls that run at once must share one, as the server's tools do. Default: a new one. */
  locks?: FileLocks;
}

export function patchEnv(dir: string, opts: PatchEnvOptions = {}): PatchEnv {
  const policy = policyFor(dir, opts.mode);
  return {
    resolve: (p) => resolveForWrite(policy, p),
    resolveEntry: (p) => resolveEntryForWrite(policy, p),
    show: (abs) => displayPath(policy.roots[0], abs),
    locks: opts.locks ?? new FileLocks(),
    ...(opts.io ? { io: opts.io } : {}),
  };
}

/** Applies patch text in `dir` through the core, as the tool would. */
export function applyIn(dir: string, patch: string, opts: PatchEnvOptions = {}) {
  return applyPatch(patch, patchEnv(dir, opts));
}
