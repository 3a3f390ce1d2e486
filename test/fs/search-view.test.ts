// grep and glob against a tree that changes between the path check and the search: a directory
// that passed resolveForRead is swapped for a symlink to an outside directory (what a sandboxed
// command can do at any moment). rg in the confined view finds nothing there; rg on the host
// (the control, so these tests can fail) reads the outside files.
import { renameSync, symlinkSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { globFiles, grepFiles, ripgrepLauncher, type RipgrepLauncher } from '../../src/fs/index.js';
import { buildPolicy, ConfinedView, probeSandbox, resolveForRead, type Policy, type SafePath } from '../../src/sandbox/index.js';
import { ok } from '../../src/util/result.js';
import { which } from '../../src/util/which.js';
import { tempDir, type TempDir } from '../support/workspace.js';

const rg = which('rg');
const bwrap = which('bwrap');
const canSandbox = bwrap !== undefined && (await probeSandbox(bwrap)).ok;

describe.skipIf(!rg || !canSandbox)('grep and glob after a directory is swapped for a symlink', () => {
  let ws: TempDir;
  let outside: TempDir;
  let tmp: TempDir;
  let policy: Policy;
  const view = new ConfinedView({ bwrap, probe: () => probeSandbox(bwrap), env: {} });
  /** rg on the host, as grep and glob ran it before the view. */
  const onHost: RipgrepLauncher = async (args, cwd) => ok({ file: rg!, args, cwd });

  beforeEach(() => {
    ws = tempDir('agentbox-ws-', '/var/tmp');
    outside = tempDir('agentbox-outside-', '/var/tmp');
    tmp = tempDir('agentbox-tmp-', '/var/tmp');
    ws.write('d/in.txt', 'needle in d\n');
    outside.write('secret.txt', 'needle outside\n');
    policy = buildPolicy({ mode: 'workspace-write', roots: [ws.dir], tmpDir: tmp.dir });
  });
  afterEach(() => {
    for (const d of [ws, outside, tmp]) d.cleanup();
  });

  /** Checks `d`, then swaps it for a link to the outside directory, and returns what was checked. */
  async function checkedThenSwapped(): Promise<SafePath> {
    const checked = await resolveForRead(policy, 'd');
    if (!checked.ok) throw new Error(checked.error.message);
    renameSync(ws.path('d'), ws.path('d.old'));
    symlinkSync(outside.dir, ws.path('d'));
    return checked.value;
  }
  const grep = (target: SafePath, launcher: RipgrepLauncher | undefined) =>
    grepFiles(target, false, 'needle', { maxResults: 100, maxBytes: 64 * 1024, prefix: '', ...(launcher ? { rg: launcher } : {}) });

  it('grep in the confined view finds nothing behind the swapped link: the directory is gone there', async () => {
    const target = await checkedThenSwapped();
    const r = await grep(target, await ripgrepLauncher(view, policy, rg));
    expect(r).toEqual({
      ok: false,
      error: {
        code: 'not_found',
        message: 'grep failed: the directory to search is no longer a directory in the workspace (it was moved, or replaced by a link).',
        hint: 'Check the path with list_dir and try again.',
      },
    });
  });

  it('grep in the confined view of the root walks past the swapped link', async () => {
    await checkedThenSwapped();
    const root = await resolveForRead(policy, '.');
    if (!root.ok) throw new Error(root.error.message);
    // --follow as a model might pass it to rg by hand: the link still leads nowhere.
    const r = await grep(root.value, async (args, cwd) => view.launch(policy, { purpose: 'search', bin: rg!, args: ['--follow', ...args], cwd }));
    expect(r.ok && r.value.text).toBe('d.old/in.txt\n1:needle in d');
  });

  it('grep on the host reads the outside file through it (the race the view closes)', async () => {
    const target = await checkedThenSwapped();
    const r = await grep(target, onHost);
    expect(r.ok && r.value.text).toContain('needle outside');
  });

  it('glob in the confined view lists nothing behind the swapped link; on the host it does', async () => {
    const target = await checkedThenSwapped();
    const confined = await globFiles(target, '**/*', { limit: 100, rg: await ripgrepLauncher(view, policy, rg) });
    expect(confined.ok).toBe(false);
    if (!confined.ok) expect(confined.error.code).toBe('not_found');
    const host = await globFiles(target, '**/*', { limit: 100, rg: onHost });
    expect(host.ok && host.value.paths).toEqual(['secret.txt']);
  });

  it('searches the real directory as before when nothing was swapped', async () => {
    const checked = await resolveForRead(policy, 'd');
    if (!checked.ok) throw new Error(checked.error.message);
    const r = await grep(checked.value, await ripgrepLauncher(view, policy, rg));
    expect(r.ok && r.value.text).toBe('in.txt\n1:needle in d');
  });

  it('drops what rg on the host (danger-full-access) finds in a deny_read path', async () => {
    ws.write('.ssh/id_ed25519', 'needle key\n');
    const root = await resolveForRead(policy, '.');
    if (!root.ok) throw new Error(root.error.message);
    const exclude = [ws.path('.ssh')];
    const r = await grepFiles(root.value, false, 'needle', { maxResults: 100, maxBytes: 64 * 1024, prefix: '', rg: onHost, exclude });
    expect(r.ok && r.value.text).toBe('d/in.txt\n1:needle in d');
    const files = await globFiles(root.value, '**/*', { limit: 100, rg: onHost, exclude });
    expect(files.ok && files.value.paths).toEqual(['d/in.txt']);
    // Without the exclusion rg reads it (so this test can fail).
    const all = await grepFiles(root.value, false, 'needle', { maxResults: 100, maxBytes: 64 * 1024, prefix: '', rg: onHost });
    expect(all.ok && all.value.text).toContain('needle key');
  });

  it('uses the built-in walker (no launcher) when the sandbox cannot run, and never reads a deny_read path with it', async () => {
    const broken = new ConfinedView({ bwrap: undefined, probe: () => probeSandbox(undefined), env: {} });
    expect(await ripgrepLauncher(broken, policy, rg)).toBeUndefined();
    ws.write('.ssh/id_ed25519', 'needle key\n');
    const root = await resolveForRead(policy, '.');
    if (!root.ok) throw new Error(root.error.message);
    const r = await grepFiles(root.value, false, 'needle', { maxResults: 100, maxBytes: 64 * 1024, prefix: '', exclude: [ws.path('.ssh')] });
    expect(r.ok && r.value.text).toContain('needle in d');
    expect(r.ok && r.value.text).not.toContain('needle key');
    const files = await globFiles(root.value, '**/*', { limit: 100, exclude: [ws.path('.ssh')] });
    expect(files.ok && files.value.paths).toEqual(['d/in.txt']);
  });
});
