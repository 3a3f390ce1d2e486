// The per-file locks and the unchanged-since-read check that keep concurrent writes from losing
// each other's changes: calls on one path run one at a time, calls on different paths run at
// once, overlapping sets taken in any order never deadlock, and a write refuses to replace a file
// that changed after it was read.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { editFile, FileLocks, writeFileAtomic } from '../../src/fs/index.js';
import type { SafePath } from '../../src/sandbox/index.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let ws: TempDir | undefined;
afterEach(() => ws?.cleanup());

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

describe('FileLocks', () => {
  it('runs callers of one path one after the other, in the order they came', async () => {
    const locks = new FileLocks();
    const order: string[] = [];
    const first = gate();
    const a = locks.run(['/f'], async () => {
      order.push('a start');
      await first.opened;
      order.push('a end');
    });
    const b = locks.run(['/f'], async () => {
      order.push('b');
    });
    await Promise.resolve();
    first.open();
    await Promise.all([a, b]);
    expect(order).toEqual(['a start', 'a end', 'b']);
    expect(locks.size).toBe(0);
  });

  it('lets callers of different paths run at once', async () => {
    const locks = new FileLocks();
    const held = gate();
    const a = locks.run(['/a'], () => held.opened);
    // If /b waited for /a this would never settle, and the test would time out.
    await locks.run(['/b'], async () => undefined);
    held.open();
    await a;
  });

  it('never deadlocks when two callers want overlapping sets named in opposite orders', async () => {
    const locks = new FileLocks();
    const runs = Array.from({ length: 20 }, (_, i) =>
      locks.run(i % 2 ? ['/x', '/y', '/z'] : ['/z', '/y', '/x'], async () => {
        await new Promise((r) => setImmediate(r));
        return i;
      }),
    );
    expect(await Promise.all(runs)).toHaveLength(20);
    expect(locks.size).toBe(0);
  });

  it('releases the lock when the caller fails', async () => {
    const locks = new FileLocks();
    await expect(locks.run(['/f'], async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await locks.run(['/f'], async () => 'next')).toBe('next');
    expect(locks.size).toBe(0);
  });
});

describe('editFile under concurrency', () => {
  it('keeps all of 40 parallel edits of different lines of one file', async () => {
    ws = tempDir();
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i}`);
    const file = ws.write('f.txt', `${lines.join('\n')}\n`) as SafePath;
    const locks = new FileLocks();
    const results = await Promise.all(lines.map((l, i) => editFile(file, 'f.txt', { oldString: `${l}\n`, newString: `LINE ${i}\n` }, locks)));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(`${lines.map((_, i) => `LINE ${i}`).join('\n')}\n`);
  });
});

describe('writeFileAtomic with `unchanged`', () => {
  it('refuses to replace a file that no longer holds the bytes that were read, and leaves it and no temp file', async () => {
    ws = tempDir();
    const file = ws.write('f.txt', 'read\n');
    writeFileSync(file, 'changed by someone else\n');
    await expect(writeFileAtomic(file, 'mine\n', { unchanged: { kind: 'file', bytes: Buffer.from('read\n') } })).rejects.toMatchObject({ code: 'ECHANGED' });
    expect(readFileSync(file, 'utf8')).toBe('changed by someone else\n');
    expect(readdirSync(ws.dir)).toEqual(['f.txt']);
  });

  it('refuses to create a file that appeared after it was seen absent', async () => {
    ws = tempDir();
    ws.write('new.txt', 'someone else was first\n');
    await expect(writeFileAtomic(ws.path('new.txt'), 'mine\n', { unchanged: { kind: 'absent' } })).rejects.toMatchObject({ code: 'ECHANGED' });
    expect(readFileSync(ws.path('new.txt'), 'utf8')).toBe('someone else was first\n');
  });

  it('writes when the file is as it was read', async () => {
    ws = tempDir();
    const file = ws.write('f.txt', 'read\n');
    await writeFileAtomic(file, 'mine\n', { unchanged: { kind: 'file', bytes: Buffer.from('read\n') } });
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  });
});
