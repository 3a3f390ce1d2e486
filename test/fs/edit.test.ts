// edit_file's core: exact replacement, uniqueness, replace_all, line endings, the
// whitespace-insensitive fallback and the closest-region error. planEdit is pure; editFile is
// checked on disk for what it keeps (mode, BOM, missing final newline).
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { editFile, FileLocks, planEdit, type EditRequest } from '../../src/fs/index.js';
import type { SafePath } from '../../src/sandbox/index.js';
import { tempDir, type TempDir } from '../support/workspace.js';

function edited(text: string, req: EditRequest): string {
  const r = planEdit(text, req, 'f.txt');
  if (!r.ok) throw new Error(r.error.message);
  return r.value.text;
}

function failure(text: string, req: EditRequest): string {
  const r = planEdit(text, req, 'f.txt');
  if (r.ok) throw new Error('expected a failure');
  return `${r.error.message}\n${r.error.hint ?? ''}`;
}

describe('planEdit', () => {
  it.each([
    ['a unique exact match', 'a\nb\nc\n', { oldString: 'b', newString: 'B' }, 'a\nB\nc\n'],
    ['a multi-line match', 'a\nb\nc\n', { oldString: 'a\nb\n', newString: 'x\n' }, 'x\nc\n'],
    ['every occurrence with replace_all', 'x y x y x\n', { oldString: 'x', newString: 'z', replaceAll: true }, 'z y z y z\n'],
    ['a deletion', 'keep\ndrop\nkeep\n', { oldString: 'drop\n', newString: '' }, 'keep\nkeep\n'],
    ['replacement text with $ patterns literally', 'a\n', { oldString: 'a', newString: "$& $1 $$ $'" }, "$& $1 $$ $'\n"],
    ['a file without a final newline, keeping it so', 'a\nb', { oldString: 'b', newString: 'B' }, 'a\nB'],
    ['LF strings in a CRLF file, keeping CRLF', 'one\r\ntwo\r\nthree\r\n', { oldString: 'one\ntwo\n', newString: 'uno\ndos\nmas\n' }, 'uno\r\ndos\r\nmas\r\nthree\r\n'],
    ['new lines in a CRLF file even when old_string is one line', 'one\r\ntwo\r\n', { oldString: 'two', newString: 'two\nthree' }, 'one\r\ntwo\r\nthree\r\n'],
    ['CRLF strings in an LF file', 'one\ntwo\n', { oldString: 'one\r\ntwo', newString: 'x\r\ny' }, 'x\ny\n'],
    ['unicode text', 'héllo 日本 😀\n', { oldString: '日本 😀', newString: 'мир 🎉' }, 'héllo мир 🎉\n'],
  ])('replaces %s', (_, text, req, expected) => {
    expect(edited(text, req)).toBe(expected);
  });

  it('refuses a non-unique match and says how many and where', () => {
    expect(failure('x\ny\nx\nx\n', { oldString: 'x', newString: 'z' })).toContain('old_string matches 3 times in f.txt (at lines 1, 3, 4)');
  });

  it('names each line once, however many occurrences start on it', () => {
    expect(failure('x x\ny\n', { oldString: 'x', newString: 'z' })).toContain('old_string matches 2 times in f.txt (at line 1).');
    const r = planEdit('x x\ny x\n', { oldString: 'x', newString: 'z', replaceAll: true }, 'f.txt');
    expect(r).toMatchObject({ ok: true, value: { replaced: 3, lines: [1, 2], lineCount: 2 } });
  });

  it('refuses an empty old_string and identical strings', () => {
    expect(failure('a\n', { oldString: '', newString: 'b' })).toContain('old_string is empty');
    expect(failure('a\n', { oldString: 'a', newString: 'a' })).toContain('identical');
  });

  describe('when the exact text is not found', () => {
    const file = 'def f():\n    if x:\n        return 1\n    return 2\n';

    it('matches whole lines ignoring indentation, re-indents new_string and says so', () => {
      const r = planEdit(file, { oldString: 'if x:\n    return 1\n', newString: 'if x:\n    return 10\n' }, 'f.py');
      if (!r.ok) throw new Error(r.error.message);
      expect(r.value.text).toBe('def f():\n    if x:\n        return 10\n    return 2\n');
      expect(r.value.fallback).toContain('did not match exactly; it matched lines 2-3 when indentation, trailing whitespace and line endings are ignored');
      expect(r.value.fallback).toContain('re-indented');
    });

    it('maps each indentation level (a two-space old_string against a four-space file)', () => {
      expect(edited(file, { oldString: 'def f():\n  if x:\n    return 1', newString: 'def f():\n  if y:\n    return 3' })).toBe(
        'def f():\n    if y:\n        return 3\n    return 2\n',
      );
    });

    it('matches ignoring trailing whitespace and line endings, keeping the file CRLF', () => {
      expect(edited('a  \r\nb\t\r\nc\r\n', { oldString: 'a\nb\n', newString: 'A\nB\n' })).toBe('A\r\nB\r\nc\r\n');
    });

    it('refuses the fallback when it matches more than one place', () => {
      expect(failure('  foo()\n bar\n\tfoo()\n', { oldString: 'foo()  ', newString: 'z' })).toContain('Ignoring indentation and line endings it matches 2 places (lines 1, 3)');
    });

    it('shows the closest region of the file, with line numbers and the first difference', () => {
      const msg = failure(file, { oldString: 'if x:\n    retrun 1', newString: 'if x:\n    return 3' });
      expect(msg).toContain('old_string was not found in f.txt. The most similar region is at line 2:');
      expect(msg).toContain('3\t        return 1');
      expect(msg).toContain('First difference: line 3 of the file is "        return 1", old_string has "    retrun 1".');
    });

    it('cuts long lines it quotes (a minified file)', () => {
      const long = `var a=${'1,'.repeat(3000)}0;`;
      const msg = failure(`${long}\nnext\n`, { oldString: `var a=${'1,'.repeat(2999)}2;`, newString: 'x' });
      expect(msg).toContain(`First difference: line 1 of the file is "${long.slice(0, 120)}…"`);
      expect(msg.length).toBeLessThan(1200);
    });

    it('says so when nothing resembles old_string', () => {
      expect(failure('aaaa\n', { oldString: 'zzzz', newString: 'y' })).toContain('no part of the file resembles it');
    });
  });
});

describe('editFile', () => {
  let ws: TempDir;
  afterEach(() => ws.cleanup());

  it('writes the edit, keeps mode, byte order mark and a missing final newline, and returns a diff', async () => {
    ws = tempDir();
    const file = ws.write('s.sh', '\uFEFF#!/bin/sh\necho hi') as SafePath;
    chmodSync(file, 0o750);
    const r = await editFile(file, 's.sh', { oldString: 'echo hi', newString: 'echo bye' }, new FileLocks());
    if (!r.ok) throw new Error(r.error.message);
    expect(readFileSync(file)).toEqual(Buffer.from('\uFEFF#!/bin/sh\necho bye', 'utf8'));
    expect(statSync(file).mode & 0o777).toBe(0o750);
    expect(r.value.diff).toBe('--- a/s.sh\n+++ b/s.sh\n@@ -1,2 +1,2 @@\n #!/bin/sh\n-echo hi\n\\ No newline at end of file\n+echo bye\n\\ No newline at end of file\n');
  });

  it('refuses binary, missing and directory targets without writing', async () => {
    ws = tempDir();
    const bin = ws.write('b.bin', Buffer.from([0x61, 0, 0x62]));
    // write_file takes UTF-8 text only, so the hint must not offer it for a binary file.
    expect(await editFile(bin as SafePath, 'b.bin', { oldString: 'a', newString: 'c' }, new FileLocks())).toMatchObject({
      ok: false,
      error: { code: 'binary_file', hint: 'Use exec_command with a tool made for the format.' },
    });
    expect(readFileSync(bin)).toEqual(Buffer.from([0x61, 0, 0x62]));
    expect(await editFile(ws.path('nope.txt') as SafePath, 'nope.txt', { oldString: 'a', newString: 'c' }, new FileLocks())).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await editFile(ws.dir as SafePath, '.', { oldString: 'a', newString: 'c' }, new FileLocks())).toMatchObject({ ok: false, error: { code: 'is_directory' } });
  });

  it('refuses a file that is not valid UTF-8', async () => {
    ws = tempDir();
    const latin1 = ws.write('l.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    expect(await editFile(latin1 as SafePath, 'l.txt', { oldString: 'caf', newString: 'x' }, new FileLocks())).toMatchObject({ ok: false, error: { code: 'not_utf8' } });
  });
});
