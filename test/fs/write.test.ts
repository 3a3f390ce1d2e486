// write_file's core: creates parents, replaces atomically keeping the mode, reports bytes and
// created/replaced, refuses directories, and leaves no temp file behind. (A dangling link never
// gets here: the path check follows it; test/tools/write-confinement.test.ts covers that.)
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FileLocks, writeFileAtomic, writeTextFile } from '../../src/fs/index.js';
import type { SafePath } from '../../src/sandbox/index.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let ws: TempDir;
afterEach(() => ws.cleanup());

describe('writeTextFile', () => {
  it('creates the file and its missing parent directories', async () => {
    ws = tempDir();
    const r = await writeTextFile(ws.path('a/b/c.txt') as SafePath, 'a/b/c.txt', 'héllo\n', new FileLocks());
    expect(r).toEqual({ ok: true, value: { bytes: 7, created: true } });
    expect(readFileSync(ws.path('a/b/c.txt'), 'utf8')).toBe('héllo\n');
  });

  it('replaces an existing file, keeping its mode, and reports the old size', async () => {
    ws = tempDir();
    const file = ws.write('run.sh', '#!/bin/sh\n');
    chmodSync(file, 0o741);
    const r = await writeTextFile(file as SafePath, 'run.sh', '#!/bin/sh\necho hi\n', new FileLocks());
    expect(r).toEqual({ ok: true, value: { bytes: 18, created: false, previousBytes: 10 } });
    expect(statSync(file).mode & 0o777).toBe(0o741);
    expect(readdirSync(ws.dir)).toEqual(['run.sh']);
  });

  it('refuses a directory', async () => {
    ws = tempDir();
    mkdirSync(ws.path('d'));
    expect(await writeTextFile(ws.path('d') as SafePath, 'd', 'x', new FileLocks())).toMatchObject({ ok: false, error: { code: 'is_directory' } });
  });

  it('refuses a path whose parent is a file', async () => {
    ws = tempDir();
    ws.write('f', 'x');
    expect(await writeTextFile(ws.path('f/g.txt') as SafePath, 'f/g.txt', 'x', new FileLocks())).toMatchObject({ ok: false, error: { code: 'not_a_directory' } });
  });
});

describe('writeFileAtomic', () => {
  it('never leaves the temp file behind when the rename fails', async () => {
    ws = tempDir();
    mkdirSync(ws.path('target'));
    ws.write('target/inside', 'x');
    await expect(writeFileAtomic(ws.path('target'), 'data')).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });
    expect(readdirSync(ws.dir)).toEqual(['target']);
  });

  it('keeps temp names short for long file names', async () => {
    ws = tempDir();
    const name = 'n'.repeat(250);
    await writeFileAtomic(ws.path(name), 'ok');
    expect(readFileSync(ws.path(name), 'utf8')).toBe('ok');
  });
});
