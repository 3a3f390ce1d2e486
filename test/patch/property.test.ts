// Properties of the patch engine over generated files: a patch built from diff(a, b) turns a into
// b, through the pure core and through the filesystem; and the unified diff apply_patch shows,
// applied by an independent implementation (the `diff` package), gives the same result.
import { readFileSync, writeFileSync } from 'node:fs';
import { applyPatch as applyUnifiedDiff, structuredPatch } from 'diff';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyChunks, parsePatch, type UpdateChunk } from '../../src/patch/index.js';
import { diffReplacements } from '../../src/util/diff.js';
import { applyIn } from '../support/patch.js';
import { tempDir, type TempDir } from '../support/workspace.js';

/** A Codex patch for the change a -> b, one chunk per hunk of a 3-line-context unified diff. */
function codexPatch(path: string, a: string, b: string): string {
  const diff = structuredPatch(path, path, a, b, undefined, undefined, { context: 3, stripTrailingCr: true });
  const body = diff.hunks.flatMap((h) => ['@@', ...h.lines.filter((l) => !l.startsWith('\\'))]);
  return ['*** Begin Patch', `*** Update File: ${path}`, ...body, '*** End Patch', ''].join('\n');
}

/** Line content: printable text, unicode, spaces and tabs, patch-like prefixes; never a line break. */
const lineText = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom(...'abcxyz 09\t{}();+-*@é日😀'.split(/(?:)/u)), maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '    ', '*** End of File', '@@', '+', '-', ' x') },
);

const join = (lines: readonly string[], eol: string, final: boolean) => (lines.length === 0 ? '' : lines.join(eol) + (final ? eol : ''));

/** Codex semantics: an updated file always ends with a line ending. */
const expectedAfterUpdate = (lines: readonly string[], eol: string) => join(lines, eol, true);

function chunksOf(patch: string): UpdateChunk[] {
  const parsed = parsePatch(patch);
  if (!parsed.ok) throw new Error(`the generated patch does not parse: ${parsed.error.message}\n${patch}`);
  const h = parsed.value[0]!;
  if (h.kind !== 'update') throw new Error('expected an update');
  return h.chunks;
}

/** a (unique lines) and b made from a by deleting, inserting and changing lines. */
const uniquePair = fc
  .uniqueArray(lineText, { maxLength: 40 })
  .chain((a) =>
    fc
      .array(fc.tuple(fc.constantFrom('delete', 'insert', 'change'), fc.nat(), lineText), { minLength: 1, maxLength: 8 })
      .map((edits) => {
        const b = [...a];
        for (const [op, at, text] of edits) {
          const i = b.length === 0 ? 0 : at % (op === 'insert' ? b.length + 1 : b.length);
          if (op === 'delete' && b.length > 0) b.splice(i, 1);
          else if (op === 'insert' || b.length === 0) b.splice(i, 0, text);
          else b[i] = `${b[i]}~${text}`;
        }
        return { a, b };
      }),
  )
  .filter(({ a, b }) => join(a, '\n', true) !== join(b, '\n', true));

describe('a patch built from diff(a, b) turns a into b', () => {
  it('for files with unique lines (LF)', () => {
    fc.assert(
      fc.property(uniquePair, fc.boolean(), ({ a, b }, aFinalNewline) => {
        const before = join(a, '\n', aFinalNewline);
        const after = join(b, '\n', true);
        fc.pre(before !== after);
        const result = applyChunks(before, chunksOf(codexPatch('f.txt', before, after)), 'f.txt');
        if (!result.ok) throw new Error(result.error.message);
        expect(result.value.text).toBe(expectedAfterUpdate(b, '\n'));
      }),
      { numRuns: 1500 },
    );
  });

  it('for CRLF files, which stay CRLF', () => {
    fc.assert(
      fc.property(uniquePair, ({ a, b }) => {
        // An empty file has no line ending to keep; new lines then get LF.
        fc.pre(a.length > 0);
        const result = applyChunks(join(a, '\r\n', true), chunksOf(codexPatch('f.txt', join(a, '\r\n', true), join(b, '\r\n', true))), 'f.txt');
        if (!result.ok) throw new Error(result.error.message);
        expect(result.value.text).toBe(expectedAfterUpdate(b, '\r\n'));
      }),
      { numRuns: 500 },
    );
  });

  it('for files with repeated lines, whenever each chunk first occurs where the diff put it', () => {
    const small = fc.array(fc.constantFrom('a', 'b', 'c', '', '}', '  return x;', 'x = 1'), { maxLength: 30 });
    fc.assert(
      fc.property(small, small, (a, b) => {
        const before = join(a, '\n', true);
        const after = join(b, '\n', true);
        fc.pre(before !== after);
        const diff = structuredPatch('f', 'f', before, after, undefined, undefined, { context: 3 });
        // The format has no line numbers: a chunk applies at the first match after the previous one.
        let cursor = 0;
        for (const h of diff.hunks) {
          const block = h.lines.filter((l) => l[0] === ' ' || l[0] === '-').map((l) => l.slice(1));
          if (block.length === 0) continue;
          fc.pre(firstIndexOf(a, block, cursor) === h.oldStart - 1);
          cursor = h.oldStart - 1 + block.length;
        }
        const result = applyChunks(before, chunksOf(codexPatch('f', before, after)), 'f');
        if (!result.ok) throw new Error(result.error.message);
        expect(result.value.text).toBe(after);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the unified diff in the result', () => {
  it('turns a into the patched text when applied by the diff package', () => {
    fc.assert(
      fc.property(uniquePair, fc.boolean(), ({ a, b }, aFinalNewline) => {
        const before = join(a, '\n', aFinalNewline);
        fc.pre(before !== join(b, '\n', true));
        const result = applyChunks(before, chunksOf(codexPatch('f.txt', before, join(b, '\n', true))), 'f.txt');
        if (!result.ok) throw new Error(result.error.message);
        const u = result.value;
        const shown = diffReplacements('a/f.txt', 'b/f.txt', u.before, u.after, u.replacements);
        expect(applyUnifiedDiff(before, shown)).toBe(u.text);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('through the filesystem', () => {
  let ws: TempDir;
  beforeAll(() => {
    ws = tempDir('agentbox-property-');
  });
  afterAll(() => ws.cleanup());

  it('apply_patch writes b for generated a and b', async () => {
    await fc.assert(
      fc.asyncProperty(uniquePair, async ({ a, b }) => {
        const file = ws.path('f.txt');
        writeFileSync(file, join(a, '\n', true));
        const result = await applyIn(ws.dir, codexPatch('f.txt', join(a, '\n', true), join(b, '\n', true)));
        if (!result.ok) throw new Error(result.error.message);
        expect(readFileSync(file, 'utf8')).toBe(expectedAfterUpdate(b, '\n'));
      }),
      { numRuns: 100 },
    );
  });
});

function firstIndexOf(lines: readonly string[], block: readonly string[], from: number): number {
  for (let i = from; i + block.length <= lines.length; i++) {
    if (block.every((l, k) => lines[i + k] === l)) return i;
  }
  return -1;
}
