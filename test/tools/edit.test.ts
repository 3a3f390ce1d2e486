// write_file and edit_file as a host sees them: plain-text results with sizes, diffs and the
// notes a model needs (fallback used, how many matches, where the closest text is).
import { readdirSync, readFileSync } from 'node:fs';
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

describe('write_file', () => {
  it('creates a file with its parents, then replaces it, saying which and how many bytes', async () => {
    ws = tempDir();
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const created = await conn.call('write_file', { path: 'deep/er/new.txt', content: 'héllo\n' });
    expect(created.isError).toBeFalsy();
    expect(created.text).toBe('Created deep/er/new.txt (7 bytes).');
    const replaced = await conn.call('write_file', { path: 'deep/er/new.txt', content: 'bye\n' });
    expect(replaced.text).toBe('Replaced deep/er/new.txt: wrote 4 bytes (was 7 bytes).');
    expect(replaced.structuredContent).toBeUndefined();
    expect(readFileSync(ws.path('deep/er/new.txt'), 'utf8')).toBe('bye\n');
  });

  it('refuses a path that names a directory (a trailing slash) instead of creating a file by that name', async () => {
    ws = tempDir();
    conn = await connectStdio({ args: ['--root', ws.dir] });
    for (const path of ['newdir/', 'a/b/.']) {
      const r = await conn.call('write_file', { path, content: 'x' });
      expect(r.isError).toBe(true);
      expect(r.text).toBe(`Cannot write ${path}: it names a directory, not a file.\nGive the file's own path, e.g. dir/name.txt (no trailing slash).`);
    }
    ws.write('f.txt', 'one\n');
    const edit = await conn.call('edit_file', { path: 'f.txt/', old_string: 'one', new_string: 'two' });
    expect(edit.isError).toBe(true);
    expect(readdirSync(ws.dir)).toEqual(['f.txt']);
    expect(readFileSync(ws.path('f.txt'), 'utf8')).toBe('one\n');
  });

  it('refuses to overwrite a directory', async () => {
    ws = tempDir();
    ws.write('d/x', '');
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const r = await conn.call('write_file', { path: 'd', content: 'x' });
    expect(r.isError).toBe(true);
    expect(r.text).toBe('Cannot write d: it is a directory.');
  });
});

describe('edit_file', () => {
  it('replaces a unique string in a CRLF file and returns a unified diff', async () => {
    ws = tempDir();
    ws.write('w.txt', 'one\r\ntwo\r\nthree\r\n');
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const r = await conn.call('edit_file', { path: 'w.txt', old_string: 'two\nthree', new_string: 'TWO\nTHREE' });
    expect(r.isError).toBeFalsy();
    expect(r.text).toBe('Edited w.txt: replaced 1 occurrence (at line 2).\n--- a/w.txt\n+++ b/w.txt\n@@ -1,3 +1,3 @@\n one\n-two\n-three\n+TWO\n+THREE');
    expect(readFileSync(ws.path('w.txt'), 'utf8')).toBe('one\r\nTWO\r\nTHREE\r\n');
  });

  it('reports the match count, then replaces all with replace_all', async () => {
    ws = tempDir();
    ws.write('r.txt', 'x\nx\n');
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const refused = await conn.call('edit_file', { path: 'r.txt', old_string: 'x', new_string: 'y' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('old_string matches 2 times in r.txt (at lines 1, 2).');
    const all = await conn.call('edit_file', { path: 'r.txt', old_string: 'x', new_string: 'y', replace_all: true });
    expect(all.text).toMatch(/^Edited r\.txt: replaced 2 occurrences \(at lines 1, 2\)\./);
    expect(readFileSync(ws.path('r.txt'), 'utf8')).toBe('y\ny\n');
  });

  it('says when it used the indentation-insensitive match', async () => {
    ws = tempDir();
    ws.write('p.py', 'class A:\n    def f(self):\n        return 1\n');
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const r = await conn.call('edit_file', { path: 'p.py', old_string: 'def f(self):\n    return 1', new_string: 'def f(self):\n    return 2' });
    expect(r.isError).toBeFalsy();
    expect(r.text).toContain('old_string did not match exactly; it matched lines 2-3');
    expect(readFileSync(ws.path('p.py'), 'utf8')).toBe('class A:\n    def f(self):\n        return 2\n');
  });
});
