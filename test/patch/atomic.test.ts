// All or nothing. A patch that fails while planning writes nothing; a write that fails midway
// through the commit is undone, so the tree is byte-for-byte (and mode-for-mode) as it was, with
// no new directories or temp files left behind. Failures are injected at every operation of a
// multi-file commit in turn, and provoked for real through the server.
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { nodePatchIo, type PatchIo } from '../../src/patch/index.js';
import { connectStdio, type Connected } from '../support/client.js';
import { applyIn, patchEnv } from '../support/patch.js';
import { snapshotTree } from '../support/tree.js';
import { tempDir, type TempDir } from '../support/workspace.js';
import { applyPatch } from '../../src/patch/index.js';

let ws: TempDir | undefined;
let conn: Connected | undefined;
afterEach(async () => {
  await conn?.close();
  conn = undefined;
  ws?.cleanup();
});

/** A workspace with files of several modes, and a patch that adds, overwrites, updates, moves and deletes. */
function setup(): { ws: TempDir; patch: string } {
  ws = tempDir('agentbox-atomic-');
  ws.write('script.sh', '#!/bin/sh\necho one\n');
  chmodSync(ws.path('script.sh'), 0o755);
  ws.write('notes.txt', 'keep\nchange me\n');
  chmodSync(ws.path('notes.txt'), 0o600);
  ws.write('move/me.txt', 'moving\n');
  ws.write('gone.txt', 'delete me\n');
  ws.write('dup.txt', 'old dup\n');
  const patch = [
    '*** Begin Patch',
    '*** Update File: script.sh',
    '@@',
    '-echo one',
    '+echo two',
    '*** Add File: fresh/deep/new.txt',
    '+new',
    '*** Delete File: gone.txt',
    '*** Update File: move/me.txt',
    '*** Move to: moved/here/me.txt',
    '@@',
    '-moving',
    '+moved',
    '*** Add File: dup.txt',
    '+new dup',
    '*** Update File: notes.txt',
    '@@',
    ' keep',
    '-change me',
    '+changed',
    '*** End Patch',
  ].join('\n');
  return { ws, patch };
}

type Op = 'writeFile' | 'rename' | 'makeParents';

/** The real filesystem, except that the n-th call of `op` fails with EIO. */
function failOn(op: Op, n: number): PatchIo & { calls: Record<Op, number> } {
  const calls: Record<Op, number> = { writeFile: 0, rename: 0, makeParents: 0 };
  const boom = () => Object.assign(new Error(`EIO: i/o error (injected into ${op} #${n})`), { code: 'EIO' });
  return {
    calls,
    async writeFile(file, data, opts) {
      if (op === 'writeFile' && ++calls.writeFile === n) throw boom();
      return nodePatchIo.writeFile(file, data, opts);
    },
    async rename(from, to) {
      if (op === 'rename' && ++calls.rename === n) throw boom();
      return nodePatchIo.rename(from, to);
    },
    unlink: nodePatchIo.unlink,
    async makeParents(dir) {
      if (op === 'makeParents' && ++calls.makeParents === n) throw boom();
      return nodePatchIo.makeParents(dir);
    },
    rmdir: nodePatchIo.rmdir,
  };
}

describe('a failure midway through the commit', () => {
  for (const op of ['writeFile', 'rename', 'makeParents'] as const) {
    it(`restores the tree whichever ${op} call fails`, async () => {
      let n = 1;
      for (;; n++) {
        const { ws, patch } = setup();
        const before = snapshotTree(ws.dir);
        const io = failOn(op, n);
        const result = await applyIn(ws.dir, patch, { io });
        if (result.ok) {
          // n is past the last call: the patch went through, so every earlier n was a real midway failure.
          expect(n).toBeGreaterThan(1);
          ws.cleanup();
          break;
        }
        expect(result.error.message).toContain(`injected into ${op} #${n}`);
        expect(result.error.message).toContain('nothing was changed');
        expect(snapshotTree(ws.dir)).toEqual(before);
        ws.cleanup();
      }
    });
  }

  it('says which files it could not restore when undoing fails too', async () => {
    const { ws, patch } = setup();
    let writes = 0;
    const io: PatchIo = {
      ...nodePatchIo,
      async writeFile(file, data, opts) {
        writes++;
        // Write 1 (script.sh) succeeds, write 2 fails, and restoring script.sh (write 3) fails.
        if (writes === 2 || writes === 3) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
        return nodePatchIo.writeFile(file, data, opts);
      },
    };
    const result = await applyIn(ws.dir, patch, { io });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('patch_partial');
    expect(result.error.message).toMatch(/Undoing the files already written failed for: restore script\.sh/);
  });
});

describe('a failure before the commit', () => {
  it('writes nothing when the call is cancelled', async () => {
    const { ws, patch } = setup();
    const before = snapshotTree(ws.dir);
    const result = await applyPatch(patch, { ...patchEnv(ws.dir), signal: AbortSignal.abort() });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('cancelled');
    expect(snapshotTree(ws.dir)).toEqual(before);
  });

  it('writes nothing when the last hunk does not apply', async () => {
    const { ws, patch } = setup();
    const before = snapshotTree(ws.dir);
    const bad = patch.replace('*** End Patch', '*** Update File: notes.txt\n@@\n-not there\n+x\n*** End Patch');
    const result = await applyIn(ws.dir, bad);
    expect(result.ok).toBe(false);
    expect(snapshotTree(ws.dir)).toEqual(before);
  });
});

describe('a successful commit', () => {
  it('keeps file modes, moves with the mode, and gives new files the default mode', async () => {
    const { ws, patch } = setup();
    const result = await applyIn(ws.dir, patch);
    if (!result.ok) throw new Error(result.error.message);
    const mode = (rel: string) => statSync(ws.path(rel)).mode & 0o777;
    expect(mode('script.sh')).toBe(0o755);
    expect(mode('notes.txt')).toBe(0o600);
    expect(readFileSync(ws.path('moved/here/me.txt'), 'utf8')).toBe('moved\n');
    expect(mode('fresh/deep/new.txt')).toBe(0o666 & ~process.umask());
    expect(result.value.text.split('\n\n')[0]).toBe(
      'Success. Updated the following files:\nA fresh/deep/new.txt\nA dup.txt\nM script.sh\nM moved/here/me.txt (moved from move/me.txt)\nM notes.txt\nD gone.txt',
    );
    // No temp files left next to what was written.
    expect(Object.keys(snapshotTree(ws.dir)).filter((p) => p.includes('agentbox-tmp'))).toEqual([]);
  });
});

describe('through the server', () => {
  it('undoes a commit that fails on a real write (a file added where a later hunk needs a directory)', async () => {
    const { ws } = setup();
    const before = snapshotTree(ws.dir);
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const r = await conn.call('apply_patch', {
      patch: [
        '*** Begin Patch',
        '*** Update File: notes.txt',
        '@@',
        '-change me',
        '+changed',
        '*** Add File: blocker',
        '+I am a file',
        '*** Add File: blocker/child.txt',
        '+I need blocker to be a directory',
        '*** End Patch',
      ].join('\n'),
    });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('Cannot write blocker/child.txt: a parent path is a file, not a directory.');
    expect(r.text).toContain('The files already written were restored; nothing was changed.');
    expect(snapshotTree(ws.dir)).toEqual(before);
  });

  it.skipIf(process.getuid?.() === 0)('undoes a commit when a target directory is not writable (needs a non-root user)', async () => {
    const { ws } = setup();
    ws.write('locked/file.txt', 'x\n');
    chmodSync(ws.path('locked'), 0o555);
    const before = snapshotTree(ws.dir);
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const r = await conn.call('apply_patch', {
      patch: '*** Begin Patch\n*** Update File: notes.txt\n@@\n-change me\n+changed\n*** Add File: locked/new.txt\n+x\n*** End Patch',
    });
    chmodSync(ws.path('locked'), 0o755);
    expect(r.isError).toBe(true);
    expect(r.text).toContain('permission denied');
    expect(snapshotTree(ws.dir)).toEqual({ ...before, locked: { kind: 'dir', mode: 0o755 } });
  });
});
