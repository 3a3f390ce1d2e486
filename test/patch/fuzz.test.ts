// Random patch text through the real server (stdio, built dist/cli.js): it never crashes, never
// throws a protocol error, and answers text that is not a patch with an isError parse error.
// Grammar-shaped noise may apply (it only names files inside the workspace); whatever it does,
// the server keeps answering and nothing appears outside the workspace.
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let conn: Connected;
let outer: TempDir;
let root: string;

beforeAll(async () => {
  outer = tempDir('agentbox-fuzz-');
  root = outer.path('ws');
  outer.write('ws/a.txt', 'alpha\nbeta\ngamma\n');
  outer.write('ws/dir/b.txt', 'one\ntwo\n');
  conn = await connectStdio({ args: ['--root', root] });
});

afterAll(async () => {
  await conn?.close();
  outer?.cleanup();
});

describe('apply_patch under random input', () => {
  it('answers arbitrary text with a parse error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 400 }), async (patch) => {
        fc.pre(!patch.trim().startsWith('*** Begin Patch'));
        const r = await conn.call('apply_patch', { patch });
        expect(r.isError).toBe(true);
        expect(r.text).toMatch(/^Invalid patch/);
      }),
      { numRuns: 300 },
    );
  });

  it('answers random lines between the markers with a parse error', async () => {
    const junk = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).filter((l) => !/^\s*(\*\*\*|$)/.test(l) && !l.includes('\n') && !l.includes('\r'));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(junk, fc.string({ unit: 'binary', maxLength: 60 })), { minLength: 1, maxLength: 12 }), async (lines) => {
        fc.pre(lines[0]!.trim() !== '' && !/^\s*\*\*\*/.test(lines[0]!) && !lines[0]!.includes('\n') && !lines[0]!.includes('\r'));
        const patch = ['*** Begin Patch', ...lines, '*** End Patch'].join('\n');
        const r = await conn.call('apply_patch', { patch });
        expect(r.isError).toBe(true);
        expect(r.text).toMatch(/^Invalid patch at line \d+:/);
      }),
      { numRuns: 300 },
    );
  });

  it('survives grammar-shaped noise and never writes outside the workspace', async () => {
    const path = fc.constantFrom('a.txt', 'dir/b.txt', 'new.txt', 'dir', 'x/y/z.txt', '../outside.txt', '/etc/passwd', '.git/config', '');
    const line = fc.oneof(
      path.map((p) => `*** Add File: ${p}`),
      path.map((p) => `*** Update File: ${p}`),
      path.map((p) => `*** Delete File: ${p}`),
      path.map((p) => `*** Move to: ${p}`),
      fc.constantFrom('@@', '@@ beta', '@@ -1,2 +1,2 @@', '*** End of File', '', ' alpha', '-beta', '+BETA', ' one', '-two', '+x', '*** End Patch', '*** Begin Patch', '<<EOF', 'EOF'),
      fc.string({ maxLength: 20 }).map((s) => `${'+- @*'[s.length % 5]}${s}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 14 }), fc.boolean(), async (lines, wrapped) => {
        const patch = wrapped ? ['*** Begin Patch', ...lines, '*** End Patch'].join('\n') : lines.join('\n');
        const r = await conn.call('apply_patch', { patch });
        expect(r.text.length).toBeGreaterThan(0);
        if (!r.isError) expect(r.text).toMatch(/^Success\. Updated the following files:/);
      }),
      { numRuns: 400 },
    );
    expect(readdirSync(outer.dir)).toEqual(['ws']);
    expect((await conn.client.listTools()).tools.some((t) => t.name === 'apply_patch')).toBe(true);
    expect(conn.pid && process.kill(conn.pid, 0)).toBe(true);
  });
});
