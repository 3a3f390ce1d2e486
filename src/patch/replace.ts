// Applies one Update File's chunks to a file's text, in memory. Pure: text in, text out.
//
// 1. Each chunk's "@@" headers are sought in order from the current position; the chunk's old
//    lines (context and removed) are then sought from just after them (seek-sequence.ts).
// 2. A chunk with no old lines is inserted after its last header, or at the end of the file when
//    it has none (as Codex does).
// 3. Only the removed and added runs become replacements: context lines stay exactly as the file
//    has them (their text and their own line ending), so a loose match never rewrites them.
// 4. Added lines take the file's line ending (its first one; LF for a file without any), and, as
//    in Codex, an updated file always ends with a line ending.
import { joinText, splitText, type LineEnding } from '../fs/index.js';
import { closestWindow, lineSimilarity, numberedLines } from '../util/closest.js';
import { clip } from '../util/format.js';
import type { LineReplacement, LineSide } from '../util/diff.js';
import { fail, ok, type Result } from '../util/result.js';
import { oldLinesOf, type ChunkLine, type UpdateChunk } from './parse.js';
import { seekSequence, type MatchLevel } from './seek-sequence.js';

export interface FileUpdate {
  text: string;
  replacements: LineReplacement[];
  before: LineSide;
  after: LineSide;
  /** Chunks that matched only loosely: the patch line where each starts and how it matched. */
  loose: Array<{ line: number; level: MatchLevel }>;
}

/** Lines of the file quoted back when a chunk does not match. */
const QUOTE_LINES = 12;

/** Applies `chunks` to `text`; `shownPath` names the file in errors. */
export function applyChunks(text: string, chunks: readonly UpdateChunk[], shownPath: string): Result<FileUpdate> {
  const file = splitText(text);
  const lines = file.lines;
  const reps: LineReplacement[] = [];
  const loose: FileUpdate['loose'] = [];
  let cursor = 0;

  for (const chunk of chunks) {
    for (const header of chunk.headers) {
      const found = seekSequence(lines, [header], cursor, false);
      if (!found) return headerNotFound(lines, header, cursor, chunk, shownPath);
      if (found.level > 0) loose.push({ line: chunk.line, level: found.level });
      cursor = found.index + 1;
    }

    let entries: readonly ChunkLine[] = chunk.lines;
    let old = oldLinesOf(chunk);
    if (old.length === 0) {
      const at = chunk.headers.length > 0 && !chunk.endOfFile ? cursor : lines.length;
      reps.push({ start: at, oldLen: 0, lines: entries.map((e) => e.text) });
      continue;
    }

    let found = seekSequence(lines, old, cursor, chunk.endOfFile);
    if (!found && old[old.length - 1] === '') {
      // A trailing empty line often stands for the file's final newline: retry without it.
      entries = dropLastOldBlank(entries);
      old = old.slice(0, -1);
      found = seekSequence(lines, old, cursor, chunk.endOfFile);
    }
    if (!found) return linesNotFound(lines, oldLinesOf(chunk), cursor, chunk, shownPath);
    if (found.level > 0) loose.push({ line: chunk.line, level: found.level });
    pushReplacements(reps, entries, found.index);
    cursor = found.index + old.length;
  }

  reps.sort((a, b) => a.start - b.start);
  const newLines: string[] = [];
  const newEndings: LineEnding[] = [];
  let src = 0;
  for (const r of reps) {
    if (r.start < src) {
      return fail('patch_overlap', `Two chunks of the patch for ${shownPath} change the same lines (around line ${r.start + 1}).`, 'Merge them into one chunk.');
    }
    for (; src < r.start; src++) {
      newLines.push(lines[src]!);
      newEndings.push(file.endings[src]!);
    }
    for (const t of r.lines) {
      newLines.push(t);
      newEndings.push(file.eol);
    }
    src = r.start + r.oldLen;
  }
  for (; src < lines.length; src++) {
    newLines.push(lines[src]!);
    newEndings.push(file.endings[src]!);
  }
  for (let i = 0; i < newEndings.length; i++) if (newEndings[i] === '') newEndings[i] = file.eol;

  return ok({
    text: joinText({ lines: newLines, endings: newEndings }),
    replacements: reps,
    before: { lines, noEol: file.endings[file.endings.length - 1] === '' },
    after: { lines: newLines, noEol: false },
    loose,
  });
}

/** Turns a matched chunk into replacements of its removed/added runs, leaving context lines alone. */
function pushReplacements(reps: LineReplacement[], entries: readonly ChunkLine[], start: number): void {
  let pos = start;
  let run: LineReplacement | undefined;
  for (const e of entries) {
    if (e.kind === 'context') {
      if (run) reps.push(run);
      run = undefined;
      pos++;
      continue;
    }
    run ??= { start: pos, oldLen: 0, lines: [] };
    if (e.kind === 'delete') {
      run.oldLen++;
      pos++;
    } else {
      run.lines.push(e.text);
    }
  }
  if (run) reps.push(run);
}

/**
 * Drops the last old-side entry (an empty line) as Codex does: a context line disappears from
 * both sides when nothing follows it, or becomes an added blank line when added lines follow.
 */
function dropLastOldBlank(entries: readonly ChunkLine[]): ChunkLine[] {
  const out = [...entries];
  let idx = -1;
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]!.kind !== 'add') {
      idx = i;
      break;
    }
  }
  const dropped = out[idx]!;
  if (dropped.kind === 'context' && idx < out.length - 1) out[idx] = { kind: 'add', text: '' };
  else out.splice(idx, 1);
  return out;
}

function headerNotFound(lines: readonly string[], header: string, cursor: number, chunk: UpdateChunk, shownPath: string): Result<never> {
  const parts = [`Failed to find the context line '@@ ${clip(header)}' (patch line ${chunk.line}) in ${shownPath}.`];
  const earlier = cursor > 0 ? seekSequence(lines.slice(0, cursor), [header], 0, false) : undefined;
  if (earlier) {
    parts.push(`It appears at line ${earlier.index + 1}, before the position an earlier chunk already moved past; chunks must follow the order of the file.`);
  } else {
    let best = -1;
    let bestScore = 0;
    for (let i = cursor; i < lines.length; i++) {
      const s = lineSimilarity(lines[i]!, header);
      if (s > bestScore) {
        bestScore = s;
        best = i;
      }
    }
    if (best >= 0 && bestScore >= 0.5) parts.push(`The most similar line is ${best + 1}: ${quote(lines[best]!)}.`);
  }
  return fail('patch_context', parts.join('\n'), 'Nothing was changed. Use a header line copied exactly from the file (read_file shows it), or drop the @@ header.');
}

function linesNotFound(lines: readonly string[], old: readonly string[], cursor: number, chunk: UpdateChunk, shownPath: string): Result<never> {
  const where = chunk.endOfFile ? ' at the end of the file (*** End of File)' : '';
  const parts = [`Failed to find the lines of the chunk at patch line ${chunk.line} in ${shownPath}${where}:`];
  parts.push(`  ${clip(old[0] ?? '')}${old.length > 1 ? `\n  … (${old.length - 1} more line${old.length > 2 ? 's' : ''})` : ''}`);
  const elsewhere = seekSequence(lines, old, 0, false);
  const best = closestWindow(lines, old, chunk.endOfFile ? 0 : cursor);
  if (elsewhere && (chunk.endOfFile || elsewhere.index < cursor)) {
    parts.push(
      chunk.endOfFile
        ? `They appear at line ${elsewhere.index + 1}, which is not the end of the file; remove '*** End of File' or extend the chunk to the last line.`
        : `They appear at line ${elsewhere.index + 1}, before the position an earlier chunk already moved past; chunks must follow the order of the file.`,
    );
  } else if (best) {
    const firstDiff = best.firstDiff ?? 0;
    const fileLine = best.start + firstDiff;
    const entryIndex = oldEntryIndex(chunk, firstDiff);
    const patchLine = chunk.bodyLine + entryIndex;
    if (fileLine < lines.length) {
      parts.push(
        `The closest match starts at line ${best.start + 1}; there the patch's line ${patchLine} ${quote(old[firstDiff]!)} does not match line ${fileLine + 1} of the file ${quote(lines[fileLine]!)}.`,
      );
    } else {
      parts.push(`The closest match starts at line ${best.start + 1}, but the file ends before the patch's line ${patchLine} ${quote(old[firstDiff]!)}.`);
    }
    parts.push('The file there reads:');
    parts.push(numberedLines(lines, best.start, best.start + Math.min(Math.max(old.length, 3), QUOTE_LINES)));
  } else {
    parts.push(`No line of the chunk appears in the file${cursor > 0 ? ' after the previous chunk' : ''} (the file has ${lines.length} lines).`);
  }
  return fail(
    'patch_context',
    parts.join('\n'),
    "Nothing was changed. Context and '-' lines must match the file's lines (differences in surrounding whitespace and typographic punctuation are forgiven). Re-read the file and resend the whole patch.",
  );
}

/** Index in chunk.lines of the `n`-th old-side line. */
function oldEntryIndex(chunk: UpdateChunk, n: number): number {
  let seen = -1;
  for (let i = 0; i < chunk.lines.length; i++) {
    if (chunk.lines[i]!.kind !== 'add' && ++seen === n) return i;
  }
  return 0;
}

/** A line quoted in an error: JSON-escaped and, when long (a minified file), cut. */
function quote(line: string): string {
  return JSON.stringify(clip(line));
}
