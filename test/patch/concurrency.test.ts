// apply_patch under concurrency, through the core: patches that share a lock table (as the
// server's calls do) never lose each other's changes and never deadlock; a file changed by
// another process between the plan's read and the commit stops the commit, and what was already
// written is undone.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FileLocks } from '../../src/fs/index.js';
import { nodePatchIo, type PatchIo } from '../../src/patch/index.js';
import { applyIn } from '../support/patch.js';
import { snapshotTree } from '../support/tree.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let ws: TempDir | undefined;
afterEach(() => ws?.cleanup());

const update = (file: string, body: string) => `*** Update File: ${file}\n@@\n${body}`;
const patch = (...ops: string[]) => `*** Begin Patch\n${ops.join('\n')}\n*** End Patch`;

describe('parallel patches sharing a lock table', () => {
  it('keep every one of 50 additions after different anchors in one file', async () => {
    ws = tempDir();
    const anchors = Array.from({ length: 50 }, (_, i) => `anchor ${i}`);
    ws.write('many.txt', `${anchors.join('\n')}\n`);
    const locks = new FileLocks();
    const results = await Promise.all(anchors.map((a, i) => applyIn(ws!.dir, patch(update('many.txt', ` ${a}\n+added ${i}`)), { locks })));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(readFileSync(ws.path('many.txt'), 'utf8')).toBe(`${anchors.flatMap((a, i) => [a, `added ${i}`]).join('\n')}\n`);
    expect(locks.size).toBe(0);
  });

  it('finish when two patches change the same two files in opposite orders', async () => {
    ws = tempDir();
    ws.write('a.txt', 'a\n');
    ws.write('b.txt', 'b\n');
    const locks = new FileLocks();
    const runs = Array.from({ length: 10 }, (_, i) =>
      applyIn(
        ws!.dir,
        i % 2 ? patch(update('a.txt', ` a\n+a${i}`), update('b.txt', ` b\n+b${i}`)) : patch(update('b.txt', ` b\n+b${i}`), update('a.txt', ` a\n+a${i}`)),
        { locks },
      ),
    );
    expect((await Promise.all(runs)).every((r) => r.ok)).toBe(true);
    expect(readFileSync(ws.path('a.txt'), 'utf8').split('\n').filter(Boolean)).toHaveLength(11);
    expect(readFileSync(ws.path('b.txt'), 'utf8').split('\n').filter(Boolean)).toHaveLength(11);
  });
});

describe('a file changed by another process after the plan read it', () => {
  it('stops the commit before replacing it, and undoes what was written', async () => {
    ws = tempDir();
    ws.write('first.txt', 'one\n');
    ws.write('second.txt', 'two\n');
    const io: PatchIo = {
      ...nodePatchIo,
      async writeFile(file, data, opts) {
        // While first.txt is written, "another process" changes second.txt.
        if (file.endsWith('first.txt') && opts.unchanged) writeFileSync(ws!.path('second.txt'), 'two, changed elsewhere\n');
        return nodePatchIo.writeFile(file, data, opts);
      },
    };
    const result = await applyIn(ws.dir, patch(update('first.txt', '-one\n+ONE'), update('second.txt', '-two\n+TWO')), { io });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).toBe('second.txt changed since it was read (by another process). The files already written were restored; nothing was changed.');
    expect(readFileSync(ws.path('first.txt'), 'utf8')).toBe('one\n');
    expect(readFileSync(ws.path('second.txt'), 'utf8')).toBe('two, changed elsewhere\n');
  });

  it('says so and changes nothing when the first file it would replace changed', async () => {
    ws = tempDir();
    ws.write('only.txt', 'one\n');
    const io: PatchIo = {
      ...nodePatchIo,
      async writeFile(file, data, opts) {
        writeFileSync(file, 'changed elsewhere\n');
        return nodePatchIo.writeFile(file, data, opts);
      },
    };
    const result = await applyIn(ws.dir, patch(update('only.txt', '-one\n+ONE')), { io });
    expect(result).toMatchObject({ ok: false, error: { code: 'changed', message: 'only.txt changed since it was read; nothing was changed.' } });
    expect(readFileSync(ws.path('only.txt'), 'utf8')).toBe('changed elsewhere\n');
  });

  it('does not delete a file that changed after it was read', async () => {
    ws = tempDir();
    ws.write('a.txt', 'a\n');
    ws.write('b.txt', 'b\n');
    const io: PatchIo = {
      ...nodePatchIo,
      async rename(from, to) {
        await nodePatchIo.rename(from, to);
        // While a.txt is set aside for deletion, "another process" changes b.txt.
        if (from.endsWith('a.txt')) writeFileSync(ws!.path('b.txt'), 'b, changed elsewhere\n');
      },
    };
    const result = await applyIn(ws.dir, patch('*** Delete File: a.txt', '*** Delete File: b.txt'), { io });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain('b.txt changed since it was read');
    expect(snapshotTree(ws.dir)).toMatchObject({
      'a.txt': { kind: 'file', bytes: Buffer.from('a\n').toString('base64') },
      'b.txt': { kind: 'file', bytes: Buffer.from('b, changed elsewhere\n').toString('base64') },
    });
  });
});
