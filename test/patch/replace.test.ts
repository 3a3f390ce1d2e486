// applyChunks' errors quote the patch and the file; a long line (a minified bundle, a data file)
// is cut there, so one failed chunk cannot flood the model's context.
import { describe, expect, it } from 'vitest';
import { applyChunks, parsePatch, type UpdateChunk } from '../../src/patch/index.js';

function chunks(body: string): UpdateChunk[] {
  const parsed = parsePatch(`*** Begin Patch\n*** Update File: f.js\n${body}\n*** End Patch`);
  if (!parsed.ok || parsed.value[0]!.kind !== 'update') throw new Error('bad test patch');
  return parsed.value[0]!.chunks;
}

describe('applyChunks errors', () => {
  const long = `var a=[${'1,'.repeat(5000)}0];`;

  it('cut long lines from the patch and the file', () => {
    const r = applyChunks(`${long}\nnext\n`, chunks(`@@\n-${long.replace('0]', '9]')}\n+x`), 'f.js');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toContain(`  ${long.slice(0, 120)}…`);
    expect(r.error.message).toContain(`there the patch's line 4 "${long.slice(0, 120)}…" does not match line 1 of the file "${long.slice(0, 120)}…"`);
    expect(r.error.message.length).toBeLessThan(1500);
  });

  it('cut a long @@ header that was not found', () => {
    const r = applyChunks('a\n', chunks(`@@ ${long}\n-a\n+b`), 'f.js');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message.length).toBeLessThan(400);
  });
});
