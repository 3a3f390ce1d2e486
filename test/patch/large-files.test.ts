// Files apply_patch does not read: over MAX_EDIT_BYTES (32 MiB) a file can still be deleted or
// renamed (a Move to without chunks), since neither needs its content; it is renamed, not copied,
// and put back the same way if the patch fails later. Editing its lines is refused. Files here
// are sparse, so they cost no disk space or reading time.
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_EDIT_BYTES } from '../../src/fs/index.js';
import { nodePatchIo, type PatchIo } from '../../src/patch/index.js';
import { applyIn } from '../support/patch.js';
import { snapshotTree } from '../support/tree.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let ws: TempDir | undefined;
afterEach(() => ws?.cleanup());

const patch = (...ops: string[]) => `*** Begin Patch\n${ops.join('\n')}\n*** End Patch`;

/** A sparse file just over the limit, whose first line is `head`. */
function bigFile(rel: string, head = 'big\n'): string {
  const file = ws!.write(rel, head);
  truncateSync(file, MAX_EDIT_BYTES + 1);
  return file;
}

/** Everything about the tree except the big files' bytes (snapshotTree would read them). */
function shape(): Array<[string, number]> {
  return Object.entries(snapshotTree(ws!.dir)).map(([p, e]) => [p, e.kind === 'file' ? e.mode : -1]);
}

describe('a file over 32 MiB', () => {
  it('is renamed by a Move to without chunks: the same file, moved, with its mode', async () => {
    ws = tempDir();
    const file = bigFile('data/huge.bin');
    const { ino, mode } = statSync(file);
    const r = await applyIn(ws.dir, patch('*** Update File: data/huge.bin', '*** Move to: archive/huge.bin'));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.text).toBe('Success. Updated the following files:\nM archive/huge.bin (moved from data/huge.bin)');
    expect(existsSync(file)).toBe(false);
    expect(statSync(ws.path('archive/huge.bin'))).toMatchObject({ ino, mode, size: MAX_EDIT_BYTES + 1 });
  });

  it('is renamed over an existing destination', async () => {
    ws = tempDir();
    const { ino } = statSync(bigFile('huge.bin'));
    ws.write('old.bin', 'old\n');
    const r = await applyIn(ws.dir, patch('*** Update File: huge.bin', '*** Move to: old.bin'));
    if (!r.ok) throw new Error(r.error.message);
    expect(statSync(ws.path('old.bin')).ino).toBe(ino);
    expect(Object.keys(snapshotTree(ws.dir))).toEqual(['old.bin']);
  });

  it('is deleted', async () => {
    ws = tempDir();
    bigFile('huge.bin');
    const r = await applyIn(ws.dir, patch('*** Delete File: huge.bin'));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.text).toBe('Success. Updated the following files:\nD huge.bin');
    expect(snapshotTree(ws.dir)).toEqual({});
  });

  it('is put back, the same file, when a later part of the patch fails', async () => {
    ws = tempDir();
    const moved = statSync(bigFile('a/moved.bin')).ino;
    const deleted = statSync(bigFile('deleted.bin')).ino;
    const replaced = statSync(bigFile('replaced.bin')).ino;
    ws.write('small.txt', 'small\n');
    const before = shape();
    const io: PatchIo = { ...nodePatchIo, writeFile: async (file, data, opts) => (file.endsWith('small.txt') ? Promise.reject(Object.assign(new Error('EIO: injected'), { code: 'EIO' })) : nodePatchIo.writeFile(file, data, opts)) };
    const r = await applyIn(
      ws.dir,
      patch('*** Update File: a/moved.bin', '*** Move to: b/moved.bin', '*** Delete File: deleted.bin', '*** Add File: replaced.bin', '+now small', '*** Update File: small.txt', '@@', '-small', '+SMALL'),
      { io },
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toBe('Cannot write small.txt: EIO: injected The files already written were restored; nothing was changed.');
    expect(shape()).toEqual(before);
    expect([statSync(ws.path('a/moved.bin')).ino, statSync(ws.path('deleted.bin')).ino, statSync(ws.path('replaced.bin')).ino]).toEqual([moved, deleted, replaced]);
    expect(readFileSync(ws.path('small.txt'), 'utf8')).toBe('small\n');
  });

  it('is not edited: its lines are refused, naming the limit', async () => {
    ws = tempDir();
    bigFile('huge.txt', 'line\n');
    const r = await applyIn(ws.dir, patch('*** Update File: huge.txt', '@@', '-line', '+LINE'));
    expect(r).toMatchObject({ ok: false, error: { code: 'too_large' } });
    if (!r.ok) expect(r.error.message).toContain('huge.txt is 32 MB; apply_patch reads files up to 32 MB (it can delete or rename larger ones).');
  });

  it('is not moved when it changed after the plan looked at it', async () => {
    ws = tempDir();
    bigFile('huge.bin');
    const io: PatchIo = {
      ...nodePatchIo,
      async makeParents(dir) {
        writeFileSync(ws!.path('huge.bin'), 'replaced meanwhile\n');
        return nodePatchIo.makeParents(dir);
      },
    };
    const r = await applyIn(ws.dir, patch('*** Update File: huge.bin', '*** Move to: sub/huge.bin'), { io });
    expect(r).toMatchObject({ ok: false, error: { code: 'changed' } });
    expect(readFileSync(ws.path('huge.bin'), 'utf8')).toBe('replaced meanwhile\n');
  });
});

describe('a delete that fails', () => {
  it('says Cannot delete, and changes nothing', async () => {
    ws = tempDir();
    ws.write('gone.txt', 'x\n');
    const io: PatchIo = { ...nodePatchIo, rename: async () => Promise.reject(Object.assign(new Error('EACCES: injected'), { code: 'EACCES' })) };
    const r = await applyIn(ws.dir, patch('*** Delete File: gone.txt'), { io });
    expect(r).toMatchObject({ ok: false, error: { code: 'permission_denied' } });
    if (!r.ok) expect(r.error.message).toMatch(/^Cannot delete gone\.txt: permission denied\./);
    expect(readFileSync(ws.path('gone.txt'), 'utf8')).toBe('x\n');
  });
});
