// apply_patch as a host sees it: published with destructive annotations and a plain-text result
// (no outputSchema, no structuredContent) holding the Codex summary and a unified diff.
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

describe('tools/list', () => {
  it('publishes the write tools as destructive, not read-only, without an output schema, within their size budget', async () => {
    ws = tempDir();
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const { tools } = await conn.client.listTools();
    const mine = tools.filter((t) => ['write_file', 'edit_file', 'apply_patch'].includes(t.name));
    expect(mine.map((t) => t.name).sort()).toEqual(['apply_patch', 'edit_file', 'write_file']);
    for (const t of mine) {
      expect(t.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, openWorldHint: false });
      expect(t.outputSchema).toBeUndefined();
    }
    expect(tools.find((t) => t.name === 'apply_patch')!.inputSchema).toMatchObject({ required: ['patch'], properties: { patch: { type: 'string' } } });
    expect(JSON.stringify(mine).length).toBeLessThan(3500);
    expect(JSON.stringify(tools).length).toBeLessThan(24_000);
  });

  it('publishes apply_patch only with the patch group, and the file writers only with the files group', async () => {
    ws = tempDir();
    conn = await connectStdio({ args: ['--root', ws.dir, '--tools', 'patch'] });
    expect((await conn.client.listTools()).tools.map((t) => t.name)).toEqual(['apply_patch']);
  });
});

describe('apply_patch', () => {
  it('adds, updates and moves files and answers the Codex summary then a unified diff, as text only', async () => {
    ws = tempDir();
    ws.write('src/app.py', 'def greet():\n    print("Hi")\n');
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const r = await conn.call('apply_patch', {
      patch: '*** Begin Patch\n*** Add File: hello.txt\n+Hello world\n*** Update File: src/app.py\n*** Move to: src/main.py\n@@ def greet():\n-    print("Hi")\n+    print("Hello, world!")\n*** End Patch',
    });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toBeUndefined();
    expect(r.content).toHaveLength(1);
    expect(r.text).toBe(
      [
        'Success. Updated the following files:',
        'A hello.txt',
        'M src/main.py (moved from src/app.py)',
        '',
        '--- /dev/null',
        '+++ b/hello.txt',
        '@@ -0,0 +1,1 @@',
        '+Hello world',
        '--- a/src/app.py',
        '+++ b/src/main.py',
        '@@ -1,2 +1,2 @@',
        ' def greet():',
        '-    print("Hi")',
        '+    print("Hello, world!")',
      ].join('\n'),
    );
    expect(readFileSync(ws.path('src/main.py'), 'utf8')).toBe('def greet():\n    print("Hello, world!")\n');
  });

  it('edits CRLF and unicode files, keeping CRLF, and says when a chunk matched only loosely', async () => {
    ws = tempDir();
    ws.write('win.txt', 'línea uno\r\nlínea dos\r\n');
    ws.write('quote.md', 'He said \u201chi\u201d\n');
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const r = await conn.call('apply_patch', {
      patch: '*** Begin Patch\n*** Update File: win.txt\n@@\n línea uno\n-línea dos\n+línea 2 ✓\n+日本語 😀\n*** Update File: quote.md\n@@\n-He said "hi"\n+He said "bye"\n*** End Patch',
    });
    expect(r.isError).toBeFalsy();
    expect(readFileSync(ws.path('win.txt'), 'utf8')).toBe('línea uno\r\nlínea 2 ✓\r\n日本語 😀\r\n');
    expect(readFileSync(ws.path('quote.md'), 'utf8')).toBe('He said "bye"\n');
    expect(r.text).toContain('Note: the chunk at patch line 9 matched quote.md only normalising typographic punctuation; check the diff.');
    expect(r.text).toContain('-línea dos\n+línea 2 ✓\n+日本語 😀');
  });

  it('names the file and the context line that did not match, and changes nothing', async () => {
    ws = tempDir();
    ws.write('a.py', 'def f():\n    x = 1\n    return x\n');
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const r = await conn.call('apply_patch', {
      patch: '*** Begin Patch\n*** Add File: b.py\n+new\n*** Update File: a.py\n@@\n def f():\n     x = 2\n-    return x\n+    return x + 1\n*** End Patch',
    });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('Failed to find the lines of the chunk at patch line 5 in a.py:');
    expect(r.text).toContain('there the patch\'s line 7 "    x = 2" does not match line 2 of the file "    x = 1"');
    expect(r.text).toContain('1\tdef f():\n2\t    x = 1');
    expect(() => readFileSync(ws!.path('b.py'))).toThrow();
  });
});
