// Concurrent write tools on one file, through the real server (stdio): every call that reports
// success really changed the file. Two calls on the same file run one after the other, so none
// writes over a change it never read (a lost update).
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let conn: Connected | undefined;
let ws: TempDir | undefined;
afterEach(async () => {
  await conn?.close();
  conn = undefined;
  ws?.cleanup();
});

const anchors = (n: number) => Array.from({ length: n }, (_, i) => `anchor ${i}`);

describe('parallel writes to one file', () => {
  it('keeps every one of 50 parallel apply_patch calls adding lines after different anchors', async () => {
    ws = tempDir();
    ws.write('many.txt', `${anchors(50).join('\n')}\n`);
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const results = await Promise.all(
      anchors(50).map((a, i) => conn!.call('apply_patch', { patch: `*** Begin Patch\n*** Update File: many.txt\n@@\n ${a}\n+added ${i}\n*** End Patch` })),
    );
    expect(results.filter((r) => r.isError).map((r) => r.text)).toEqual([]);
    const expected = anchors(50).flatMap((a, i) => [a, `added ${i}`]);
    expect(readFileSync(ws.path('many.txt'), 'utf8')).toBe(`${expected.join('\n')}\n`);
  });

  it('keeps both changes when edit_file and apply_patch change one file at once (20 rounds)', async () => {
    ws = tempDir();
    conn = await connectStdio({ args: ['--root', ws.dir] });
    for (let round = 0; round < 20; round++) {
      ws.write('pair.txt', 'first\nmiddle\nlast\n');
      const [edit, patch] = await Promise.all([
        conn.call('edit_file', { path: 'pair.txt', old_string: 'first', new_string: 'FIRST' }),
        conn.call('apply_patch', { patch: '*** Begin Patch\n*** Update File: pair.txt\n@@\n middle\n-last\n+LAST\n*** End Patch' }),
      ]);
      expect([edit.isError ?? false, patch.isError ?? false], `${edit.text}\n${patch.text}`).toEqual([false, false]);
      expect(readFileSync(ws.path('pair.txt'), 'utf8'), `round ${round}`).toBe('FIRST\nmiddle\nLAST\n');
    }
  });

  it('lets write_file and edit_file on one file run one after the other', async () => {
    ws = tempDir();
    conn = await connectStdio({ args: ['--root', ws.dir] });
    for (let round = 0; round < 10; round++) {
      ws.write('w.txt', 'one\ntwo\n');
      const [edit, write] = await Promise.all([
        conn.call('edit_file', { path: 'w.txt', old_string: 'two', new_string: 'TWO' }),
        conn.call('write_file', { path: 'w.txt', content: 'replaced two\n' }),
      ]);
      expect([edit.isError ?? false, write.isError ?? false], `${edit.text}\n${write.text}`).toEqual([false, false]);
      // Either order is fine (edit then write, or write then edit); a success whose change is gone is not.
      expect(['replaced two\n', 'replaced TWO\n'], `round ${round}`).toContain(readFileSync(ws.path('w.txt'), 'utf8'));
    }
  });
});
