// The parser alone: patch text to hunks, and the error (with its line number) for each way a
// patch can be malformed. No filesystem.
import { describe, expect, it } from 'vitest';
import { parsePatch, type Hunk } from '../../src/patch/index.js';

const wrap = (body: string) => `*** Begin Patch\n${body}\n*** End Patch`;

function hunks(text: string): Hunk[] {
  const r = parsePatch(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

function error(text: string): string {
  const r = parsePatch(text);
  if (r.ok) throw new Error('expected a parse error');
  return r.error.message;
}

describe('parsePatch', () => {
  it('parses add, delete and update-with-move in one patch', () => {
    expect(hunks(wrap('*** Add File: path/add.py\n+abc\n+def\n*** Delete File: path/delete.py\n*** Update File: path/update.py\n*** Move to: path/update2.py\n@@ def f():\n-    pass\n+    return 123'))).toEqual([
      { kind: 'add', path: 'path/add.py', contents: 'abc\ndef\n', line: 2 },
      { kind: 'delete', path: 'path/delete.py', line: 5 },
      {
        kind: 'update',
        path: 'path/update.py',
        moveTo: 'path/update2.py',
        line: 6,
        chunks: [{ headers: ['def f():'], lines: [{ kind: 'delete', text: '    pass' }, { kind: 'add', text: '    return 123' }], endOfFile: false, line: 8, bodyLine: 9 }],
      },
    ]);
  });

  it('keeps an empty line inside a chunk as an empty context line', () => {
    const [h] = hunks(wrap('*** Update File: a\n@@ ctx\n\n context\n-remove\n+add\n context2'));
    expect(h).toMatchObject({ chunks: [{ lines: [
      { kind: 'context', text: '' },
      { kind: 'context', text: 'context' },
      { kind: 'delete', text: 'remove' },
      { kind: 'add', text: 'add' },
      { kind: 'context', text: 'context2' },
    ] }] });
  });

  it('splits chunks at @@ lines and marks *** End of File', () => {
    const [h] = hunks(wrap('*** Update File: a\n@@\n-x\n+y\n@@ second\n z\n+w\n*** End of File'));
    expect(h).toMatchObject({ chunks: [
      { headers: [], endOfFile: false, lines: [{ kind: 'delete', text: 'x' }, { kind: 'add', text: 'y' }] },
      { headers: ['second'], endOfFile: true, lines: [{ kind: 'context', text: 'z' }, { kind: 'add', text: 'w' }] },
    ] });
  });

  it('stacks consecutive @@ headers into one chunk', () => {
    const [h] = hunks(wrap('*** Update File: a\n@@ class B\n@@ \t def run():\n-x\n+y'));
    expect(h).toMatchObject({ chunks: [{ headers: ['class B', 'def run():'] }] });
  });

  it('takes only the trailing text of a git-style @@ -a,b +c,d @@ header', () => {
    const [h] = hunks(wrap('*** Update File: a\n@@ -10,7 +10,8 @@ def f():\n-x\n+y\n@@ -20 +21 @@\n-p\n+q'));
    expect(h).toMatchObject({ chunks: [{ headers: ['def f():'] }, { headers: [] }] });
  });

  it('lets the first chunk omit its @@ line', () => {
    const [h] = hunks(wrap('*** Update File: file2.py\n import foo\n+bar'));
    expect(h).toMatchObject({ chunks: [{ headers: [], lines: [{ kind: 'context', text: 'import foo' }, { kind: 'add', text: 'bar' }] }] });
  });

  it('ends an update hunk at the next file operation', () => {
    expect(hunks(wrap('*** Update File: file.py\n@@\n+line\n*** Add File: other.py\n+content')).map((h) => h.kind)).toEqual(['update', 'add']);
  });

  it('accepts an Add File without lines as an empty file', () => {
    expect(hunks(wrap('*** Add File: empty.txt'))).toEqual([{ kind: 'add', path: 'empty.txt', contents: '', line: 2 }]);
  });

  it('accepts a Move to without chunks as a rename', () => {
    expect(hunks(wrap('*** Update File: a.txt\n*** Move to: b.txt'))).toEqual([{ kind: 'update', path: 'a.txt', moveTo: 'b.txt', chunks: [], line: 2 }]);
  });

  it.each([
    ['CRLF line endings', '*** Begin Patch\r\n*** Add File: a\r\n+x\r\n*** End Patch\r\n'],
    ['blank lines around the patch', '\n\n*** Begin Patch\n*** Add File: a\n+x\n*** End Patch\n\n'],
    ['padded markers', '  *** Begin Patch  \n   *** Add File: a   \n+x\n\t*** End Patch '],
    ["a <<'EOF' heredoc", "<<'EOF'\n*** Begin Patch\n*** Add File: a\n+x\n*** End Patch\nEOF"],
    ['an apply_patch <<"PATCH" heredoc', 'apply_patch <<"PATCH"\n*** Begin Patch\n*** Add File: a\n+x\n*** End Patch\nPATCH\n'],
    ['a markdown fence', '```\n*** Begin Patch\n*** Add File: a\n+x\n*** End Patch\n```'],
    ['blank lines between file operations', '*** Begin Patch\n*** Add File: b\n+y\n\n\n*** Add File: a\n+x\n*** End Patch'],
  ])('is lenient about %s', (_, text) => {
    expect(hunks(text).at(-1)).toEqual({ kind: 'add', path: 'a', contents: 'x\n', line: expect.any(Number) });
  });

  it.each([
    ['an empty text', '', 'the patch is empty'],
    ['no Begin marker', 'bad', "the first line must be '*** Begin Patch', got 'bad'"],
    ['no End marker', '*** Begin Patch\nbad', "the last line must be '*** End Patch', got 'bad'"],
    ['only a Begin marker', '*** Begin Patch', "the last line must be '*** End Patch'"],
    ['mismatched heredoc quotes', `<<"EOF'\n${wrap('*** Add File: a\n+x')}\nEOF`, "the first line must be '*** Begin Patch'"],
    ['no file operations', '*** Begin Patch\n*** End Patch', 'contains no file operations'],
    ['an unknown header', wrap('*** Frobnicate File: foo'), "at line 2: '*** Frobnicate File: foo' is not a valid file operation header"],
    ['a stray line between operations', wrap('*** Add File: a\n+x\nstray'), "at line 4: 'stray' is not a valid file operation header"],
    ['an empty update', wrap('*** Update File: test.py'), "at line 2: Update File hunk for 'test.py' is empty"],
    ['an @@ without lines', wrap('*** Update File: a\n@@'), 'at line 3: the chunk has no lines'],
    ['an @@ followed by the next operation', wrap('*** Update File: a\n@@ x\n*** Delete File: b'), 'at line 3: the chunk has no lines'],
    ['a line without prefix after @@', wrap('*** Update File: a\n@@\nbad'), "at line 4: unexpected line after an @@ line: 'bad'"],
    ['a line without prefix starting a chunk', wrap('*** Update File: a\nbad'), "at line 3: unexpected line in an Update File chunk: 'bad'"],
    ['End of File with no lines', wrap('*** Update File: a\n@@\n*** End of File'), "at line 4: the chunk before '*** End of File' has no lines"],
    ['a second chunk without @@', wrap('*** Update File: a\n@@\n-x\n*** End of File\n y'), "at line 6: expected a chunk to start with an '@@' line"],
    ['an Add File without a path', wrap('*** Add File: '), "at line 2: '*** Add File:' has no path"],
    ['a Move to without a path', wrap('*** Update File: a\n*** Move to:\n@@\n-x'), "at line 3: '*** Move to:' has no path"],
  ])('rejects %s', (_, text, message) => {
    expect(error(text)).toContain(message);
  });

  it('numbers error lines as in the text sent, blank leading lines included', () => {
    expect(error('\n\n*** Begin Patch\n*** Bogus\n*** End Patch')).toContain('at line 4:');
  });
});
