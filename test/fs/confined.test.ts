// fs/confined.ts, the mechanism behind every file tool's effect, step by step and without timing:
// the swap a racing process would make is made here between the check and the use, and the effect
// must land on what was checked or not at all.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as confined from '../../src/fs/confined.js';
import { PinnedDir, RACED } from '../../src/fs/confined.js';
import { makeParents, writeFileAtomic } from '../../src/fs/write.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let t: TempDir | undefined;
afterEach(() => t?.cleanup());

/** ws/d/x.txt inside, outside/x.txt outside; returns the real paths. */
function layout() {
  t = tempDir('agentbox-confined-');
  t.write('ws/d/x.txt', 'inside\n');
  t.write('outside/x.txt', 'OUTSIDE\n');
  return { ws: t.path('ws'), d: t.path('ws/d'), outside: t.path('outside') };
}

/** Replaces ws/d by a symlink to outside (what the racing process does), keeping the real d as ws/d-real. */
function swap(ws: string, outside: string) {
  renameSync(path.join(ws, 'd'), path.join(ws, 'd-real'));
  symlinkSync(outside, path.join(ws, 'd'));
}

describe('confined file operations', () => {
  it('refuse a checked path whose directory became a symlink before the use (ERACED or ENOTDIR), reading nothing', async () => {
    const { ws, d, outside } = layout();
    swap(ws, outside);
    // The last directory itself is the link: O_NOFOLLOW refuses it.
    await expect(confined.readFile(path.join(d, 'x.txt'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(() => confined.openForRead(path.join(d, 'x.txt'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    // A link further up the path: the kernel names what was opened, and it is not the checked path.
    mkdirSync(path.join(outside, 'sub'));
    writeFileSync(path.join(outside, 'sub', 'y.txt'), 'OUTSIDE\n');
    await expect(confined.readFile(path.join(d, 'sub', 'y.txt'))).rejects.toMatchObject({ code: RACED });
    await expect(confined.lstat(path.join(d, 'sub', 'y.txt'))).rejects.toMatchObject({ code: RACED });
  });

  it('write, rename and unlink through a swapped directory change nothing outside', async () => {
    const { ws, d, outside } = layout();
    mkdirSync(path.join(outside, 'sub'));
    mkdirSync(path.join(d, 'sub'));
    writeFileSync(path.join(d, 'sub', 'victim.txt'), 'inside\n');
    writeFileSync(path.join(outside, 'sub', 'victim.txt'), 'OUTSIDE\n');
    swap(ws, outside);
    const target = path.join(d, 'sub', 'victim.txt');
    await expect(writeFileAtomic(target, 'pwned\n')).rejects.toMatchObject({ code: RACED });
    await expect(confined.unlink(target)).rejects.toMatchObject({ code: RACED });
    await expect(confined.rename(target, path.join(d, 'sub', 'moved.txt'))).rejects.toMatchObject({ code: RACED });
    await expect(makeParents(path.join(d, 'sub', 'new', 'deeper'))).rejects.toMatchObject({ code: RACED });
    expect(readFileSync(path.join(outside, 'sub', 'victim.txt'), 'utf8')).toBe('OUTSIDE\n');
    expect(readdirSync(path.join(outside, 'sub'))).toEqual(['victim.txt']);
  });

  it('keeps acting on the pinned directory after it is moved and a symlink takes its name', async () => {
    const { ws, d, outside } = layout();
    const dir = PinnedDir.open(d, true);
    try {
      swap(ws, outside);
      writeFileSync(dir.at('new.txt'), 'written\n', { flag: 'wx' });
      expect(readFileSync(path.join(ws, 'd-real', 'new.txt'), 'utf8')).toBe('written\n');
      expect(existsSync(path.join(outside, 'new.txt'))).toBe(false);
      expect((await dir.readdir()).map((e) => e.name).sort()).toEqual(['new.txt', 'x.txt']);
      expect(readFileSync(dir.at('x.txt'), 'utf8')).toBe('inside\n');
    } finally {
      dir.close();
    }
  });

  it('does not follow a symlink put at the last component: reads fail with ELOOP, writes replace the link itself', async () => {
    const { d, outside } = layout();
    symlinkSync(path.join(outside, 'x.txt'), path.join(d, 'link.txt'));
    await expect(confined.readFile(path.join(d, 'link.txt'))).rejects.toMatchObject({ code: 'ELOOP' });
    await writeFileAtomic(path.join(d, 'link.txt'), 'new\n');
    expect(readFileSync(path.join(outside, 'x.txt'), 'utf8')).toBe('OUTSIDE\n');
    expect(readFileSync(path.join(d, 'link.txt'), 'utf8')).toBe('new\n');
  });

  it('creates missing parents one at a time inside the checked directory', async () => {
    const { d } = layout();
    const created = await makeParents(path.join(d, 'a', 'b', 'c'));
    expect(created).toEqual([path.join(d, 'a'), path.join(d, 'a', 'b'), path.join(d, 'a', 'b', 'c')]);
    await writeFileAtomic(path.join(d, 'a', 'b', 'c', 'f.txt'), 'ok\n');
    expect(readFileSync(path.join(d, 'a', 'b', 'c', 'f.txt'), 'utf8')).toBe('ok\n');
  });

  it('takes one path component only', () => {
    const { d } = layout();
    const dir = PinnedDir.open(d);
    try {
      for (const bad of ['', '.', '..', 'a/b', '../x', 'a\0b']) expect(() => dir.at(bad)).toThrow(/single path component/);
      expect(dir.at('x.txt')).toMatch(/^\/proc\/self\/fd\/\d+\/x\.txt$/);
    } finally {
      dir.close();
    }
  });
});
