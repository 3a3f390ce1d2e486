// runGit as the git core uses it, through openRepo, with git in its confined view: what simple-git
// did before (exit codes, the output cap, the no-output timeout, cancellation, failures classified)
// and what the view adds (git sees only the workspace).
import { chmodSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openRepo, type GitContext, type Repo } from '../../src/git/index.js';
import { which } from '../../src/util/which.js';
import { processesMatching } from '../support/exec.js';
import { tempDir, tempRepo } from '../support/workspace.js';
import { cleanupAfterEach, gitContext, must } from './support.js';

const track = cleanupAfterEach();

/** A git that sleeps (instead of running) when its arguments contain `hang-<id>`. */
function hangingGit(): string {
  const dir = track(tempDir('agentbox-githang-'));
  const bin = dir.path('git');
  writeFileSync(bin, `#!/bin/sh\ncase "$*" in *hang-*) exec sleep 30;; esac\nexec '${which('git')}' "$@"\n`);
  chmodSync(bin, 0o755);
  return bin;
}

async function open(ctx: GitContext): Promise<Repo> {
  return must(await openRepo(ctx, undefined, 'read'));
}

describe('runGit in the confined view', () => {
  it('returns stdout as git printed it, and the exit code an okExit entry allows', async () => {
    const repo = track(tempRepo({ 'a.txt': 'a\n' }));
    const r = await open(track(gitContext([repo.dir])));
    expect(must(await r.run(['ls-files', '-z']))).toEqual({ stdout: 'a.txt\0', exitCode: 0, truncated: false });
    expect(must(await r.run(['config', '--get', 'no.such-key'], { okExit: [1] }))).toEqual({ stdout: '', exitCode: 1, truncated: false });
    const failed = await r.run(['config', '--get', 'no.such-key']);
    expect(failed.ok).toBe(false);
  });

  it('cuts stdout at maxBytes and says so', async () => {
    const repo = track(tempRepo({ 'big.txt': 'x'.repeat(200_000) }));
    const r = await open(track(gitContext([repo.dir])));
    const out = must(await r.run(['show', 'HEAD:big.txt'], { maxBytes: 1000 }));
    expect(out.truncated).toBe(true);
    expect(out.stdout).toBe('x'.repeat(1000));
  });

  it('classifies what git printed when it fails', async () => {
    const repo = track(tempRepo());
    const r = await open(track(gitContext([repo.dir])));
    const bad = await r.run(['cat-file', '-p', 'deadbeef']);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/deadbeef|Not a valid object name/i);
  });

  it('kills git when the call is cancelled, and after timeoutMs without output', async () => {
    const repo = track(tempRepo());
    const bin = hangingGit();
    const controller = new AbortController();
    const ctx = { ...track(gitContext([repo.dir], { git: { bin } })), signal: controller.signal };
    const r = await open(ctx);
    const marker = `hang-${process.pid}-${Date.now()}`;
    const pending = r.run(['rev-parse', marker]);
    setTimeout(() => controller.abort(), 300);
    expect(await pending).toEqual({ ok: false, error: { code: 'cancelled', message: 'The git command was cancelled.' } });
    expect(processesMatching(marker)).toEqual([]);

    const slow = await open(track(gitContext([repo.dir], { git: { bin, timeoutMs: 300 } })));
    const timedOut = await slow.run(['rev-parse', `${marker}-t`]);
    expect(timedOut.ok).toBe(false);
    if (!timedOut.ok) expect(timedOut.error.code).toBe('timeout');
  });

  it('shows git the workspace only: a path outside it does not exist there', async () => {
    const repo = track(tempRepo());
    const outside = track(tempDir('agentbox-outside-', '/var/tmp'));
    writeFileSync(outside.path('x.txt'), 'outside\n');
    const r = await open(track(gitContext([repo.dir])));
    const hashed = await r.run(['hash-object', '--', outside.path('x.txt')]);
    expect(hashed.ok).toBe(false);
    if (!hashed.ok) expect(hashed.error.message).toMatch(/No such file|could not open/i);
    // Unconfined (danger-full-access), git reads it: the test above can fail.
    const open2 = await open(track(gitContext([repo.dir], { mode: 'danger-full-access' })));
    expect(must(await open2.run(['hash-object', '--', outside.path('x.txt')])).stdout).toMatch(/^[0-9a-f]{40}\n$/);
  });
});
