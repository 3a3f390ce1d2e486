// Helpers for the git core tests: a GitContext over temp directories, and a git runner for setup.
import { execFileSync } from 'node:child_process';
import { afterEach } from 'vitest';
import { ConfigSchema, type SandboxMode } from '../../src/config/index.js';
import { gitSettings, type GitContext, type GitSettings } from '../../src/git/index.js';
import { buildPolicy, ConfinedView, probeSandbox } from '../../src/sandbox/index.js';
import { which } from '../../src/util/which.js';
import { tempDir, type TempDir } from '../support/workspace.js';

export interface CtxOptions {
  mode?: SandboxMode;
  git?: Partial<GitSettings>;
  readRoots?: string[];
  /** Extra writable roots (workspace-write). */
  writableRoots?: string[];
}

/** A GitContext whose workspace is `roots`, with a private temp dir of its own. */
export function gitContext(roots: string[], opts: CtxOptions = {}): GitContext & { cleanup(): void } {
  const tmp = tempDir('agentbox-gittmp-');
  const policy = buildPolicy({ mode: opts.mode ?? 'workspace-write', roots, readRoots: opts.readRoots ?? [], extraWritableRoots: opts.writableRoots ?? [], tmpDir: tmp.dir });
  const settings = { ...gitSettings(ConfigSchema.parse({}).git, which('git')), ...opts.git };
  return { policy, settings, view: testView(), cleanup: tmp.cleanup };
}

/** The confined view git runs in, with the machine's bwrap (as a server would have it). */
export function testView(): ConfinedView {
  const bwrap = which('bwrap');
  return new ConfinedView({ bwrap, probe: () => probeSandbox(bwrap), env: { ...process.env } });
}

/** Runs git in `dir` for test setup (the machine's config applies; tempRepo sets an identity). */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, stdio: 'pipe', encoding: 'utf8' });
}

/** Unwraps an ok Result or fails the test with the failure's message. */
export function must<T>(r: { ok: true; value: T } | { ok: false; error: { message: string; hint?: string } }): T {
  if (!r.ok) throw new Error(`expected ok, got: ${r.error.message}${r.error.hint ? ` (${r.error.hint})` : ''}`);
  return r.value;
}

export type { TempDir };

/** A `track(x)` that cleans up what it was given after each test of the calling file. */
export function cleanupAfterEach(): <T extends { cleanup(): void }>(t: T) => T {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  return (t) => {
    cleanups.push(() => t.cleanup());
    return t;
  };
}
