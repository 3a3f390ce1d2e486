// Unified diffs for the write tools' results, built with the `diff` package. Two ways in: from two
// whole texts (edit_file, write_file), or from a list of line replacements already known exactly
// (apply_patch: no diff algorithm needed, so a 500-hunk patch costs nothing extra to show).
import { formatPatch, structuredPatch, FILE_HEADERS_ONLY, type StructuredPatch, type StructuredPatchHunk } from 'diff';

/** Lines of context around each change. */
export const DIFF_CONTEXT = 3;

/** A diff in a tool result is cut after this many characters. */
export const MAX_DIFF_CHARS = 30_000;

/** Diff of two texts, line endings ignored (a CRLF file shows as plain lines). Empty when equal. */
export function diffTexts(oldName: string, newName: string, oldText: string, newText: string): string {
  if (oldText === newText) return '';
  const patch = structuredPatch(oldName, newName, oldText, newText, undefined, undefined, { context: DIFF_CONTEXT, stripTrailingCr: true });
  if (patch.hunks.length === 0) return '';
  return formatPatch(patch, FILE_HEADERS_ONLY);
}

/** Replace `oldLen` lines at `start` (0-based, in the old text) with `lines`. */
export interface LineReplacement {
  start: number;
  oldLen: number;
  lines: string[];
}

export interface LineSide {
  lines: readonly string[];
  /** The last line has no line ending. */
  noEol: boolean;
}

const NO_EOL = '\\ No newline at end of file';

/**
 * Diff of a text and the result of applying `reps` to it (sorted by start, not overlapping).
 * `after` must be exactly that result; it supplies the new side's end-of-file state.
 */
export function diffReplacements(oldName: string, newName: string, before: LineSide, after: LineSide, reps: readonly LineReplacement[]): string {
  const old = before.lines;
  const all = [...reps];
  // A last line that gains or loses its ending changed too, even when its text did not: when lines
  // are appended after it (it needs an ending now), or when it stays last but the ending changed.
  if (old.length > 0 && !coversLastLine(all, old.length)) {
    const appended = all.some((r) => r.start === old.length && r.lines.length > 0);
    if (appended ? before.noEol : before.noEol !== after.noEol) {
      all.push({ start: old.length - 1, oldLen: 1, lines: [old[old.length - 1]!] });
      all.sort((a, b) => a.start - b.start);
    }
  }
  const effective = all.filter((r) => r.oldLen > 0 || r.lines.length > 0);
  if (effective.length === 0) return '';

  const hunks: StructuredPatchHunk[] = [];
  let delta = 0; // new index - old index before the current replacement
  let i = 0;
  while (i < effective.length) {
    // Group replacements whose unchanged gap is small enough to share context.
    let j = i;
    while (j + 1 < effective.length && effective[j + 1]!.start - (effective[j]!.start + effective[j]!.oldLen) <= 2 * DIFF_CONTEXT) j++;
    const first = effective[i]!;
    const last = effective[j]!;
    const oldStart = Math.max(0, first.start - DIFF_CONTEXT);
    const oldEnd = Math.min(old.length, last.start + last.oldLen + DIFF_CONTEXT);
    const newStart = oldStart + delta;
    const lines: string[] = [];
    let oldCount = 0;
    let newCount = 0;
    let newIndex = newStart;
    const context = (from: number, to: number) => {
      for (let k = from; k < to; k++) {
        lines.push(` ${old[k]!}`);
        oldCount++;
        newCount++;
        newIndex++;
        if (k === old.length - 1 && before.noEol) lines.push(NO_EOL);
      }
    };
    context(oldStart, first.start);
    for (let k = i; k <= j; k++) {
      const r = effective[k]!;
      for (let m = r.start; m < r.start + r.oldLen; m++) {
        lines.push(`-${old[m]!}`);
        oldCount++;
        if (m === old.length - 1 && before.noEol) lines.push(NO_EOL);
      }
      for (const text of r.lines) {
        lines.push(`+${text}`);
        newCount++;
        if (newIndex === after.lines.length - 1 && after.noEol) lines.push(NO_EOL);
        newIndex++;
      }
      delta += r.lines.length - r.oldLen;
      const next = k < j ? effective[k + 1]!.start : oldEnd;
      context(r.start + r.oldLen, next);
    }
    hunks.push({ oldStart: oldStart + 1, oldLines: oldCount, newStart: newStart + 1, newLines: newCount, lines });
    i = j + 1;
  }
  const patch: StructuredPatch = { oldFileName: oldName, newFileName: newName, oldHeader: undefined, newHeader: undefined, hunks };
  return formatPatch(patch, FILE_HEADERS_ONLY);
}

function coversLastLine(reps: readonly LineReplacement[], length: number): boolean {
  return reps.some((r) => r.oldLen > 0 && r.start + r.oldLen === length);
}

/** Cuts a long diff for a model, keeping whole lines and saying how much was left out. */
export function capDiff(diff: string, maxChars: number, hint: string): string {
  if (diff.length <= maxChars) return diff;
  const cut = diff.lastIndexOf('\n', maxChars);
  const kept = diff.slice(0, cut > 0 ? cut + 1 : maxChars);
  const omitted = diff.slice(kept.length).split('\n').filter(Boolean).length;
  return `${kept}[diff cut: ${omitted} more lines; ${hint}]\n`;
}
