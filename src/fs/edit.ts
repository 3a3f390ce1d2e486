// edit_file's core: replaces an exact string in a text file and returns a unified diff.
//
// 1. Exact match of old_string; when the file's line endings differ from the strings' (a CRLF
//    file, strings written with LF), the strings are converted to the file's ending first, and
//    new_string always takes the file's ending, so a CRLF file stays CRLF.
// 2. Without replace_all the match must be unique; the error says how many there were and where.
// 3. No exact match: whole lines are compared ignoring indentation, trailing whitespace and line
//    endings. A unique match is used, new_string re-indented level by level the way the file
//    indents those lines, and the result says so; several matches are refused.
// 4. Nothing matches: the error shows the most similar region of the file, with line numbers.
// planEdit is pure; editFile reads, plans and writes atomically, holding the file's lock from the
// read to the rename and checking just before the rename that the file still holds what it read.
import type { SafePath } from '../sandbox/index.js';
import { closestWindow, numberedLines } from '../util/closest.js';
import { diffTexts } from '../util/diff.js';
import { clip } from '../util/format.js';
import { fail, ok, type Result } from '../util/result.js';
import { encodeText, joinText, readTextFile, splitText, type LineEnding } from './text.js';
import type { FileLocks } from './lock.js';
import { writeFailure, writeFileAtomic, type AtomicWriteOptions, type TempRecord } from './write.js';

export interface EditRequest {
  oldString: string;
  newString: string;
  replaceAll?: boolean;
}

export interface PlannedEdit {
  text: string;
  /** How many occurrences were replaced. */
  replaced: number;
  /** 1-based lines where replaced occurrences start, each once (at most 20 listed). */
  lines: number[];
  /** How many distinct lines that is (more than `lines.length` when the list was cut). */
  lineCount: number;
  /** Set when the whitespace-insensitive fallback was used: what it did, for the model. */
  fallback?: string;
}

export interface EditOutcome extends PlannedEdit {
  diff: string;
}

/** Occurrences listed by line in messages. */
const MAX_LISTED = 20;

/** Computes the edited text, or why the edit cannot be made. Never touches the filesystem. */
export function planEdit(text: string, req: EditRequest, shownPath: string): Result<PlannedEdit> {
  if (req.oldString === '') {
    return fail('empty_old_string', `old_string is empty; there is nothing to find in ${shownPath}.`, 'To create or overwrite a whole file use write_file; to insert text, include a neighbouring line in old_string.');
  }
  if (req.oldString === req.newString) {
    return fail('no_change', 'old_string and new_string are identical; nothing would change.');
  }
  const eol = splitText(text).eol;
  const hasEndings = text.includes('\n');
  const toFileEol = (s: string) => (hasEndings ? s.replace(/\r?\n/g, eol) : s);

  // 1. Exact, then with the strings' line endings converted to the file's.
  let oldString = req.oldString;
  let positions = findAll(text, oldString);
  if (positions.length === 0 && hasEndings && /\r?\n/.test(oldString)) {
    const converted = toFileEol(oldString);
    if (converted !== oldString) {
      const found = findAll(text, converted);
      if (found.length > 0) {
        oldString = converted;
        positions = found;
      }
    }
  }
  const newString = toFileEol(req.newString);

  if (positions.length > 0) {
    // Several occurrences on one line are one line in messages.
    const lines = [...new Set(lineNumbers(text, positions))];
    // 2. Uniqueness.
    if (positions.length > 1 && !req.replaceAll) {
      return fail(
        'not_unique',
        `old_string matches ${positions.length} times in ${shownPath} (at ${listLines(lines)}).`,
        'Include more surrounding lines in old_string to make it unique, or set replace_all to change every occurrence.',
      );
    }
    const used = req.replaceAll ? positions : positions.slice(0, 1);
    const usedLines = req.replaceAll ? lines : lines.slice(0, 1);
    let out = '';
    let cursor = 0;
    for (const p of used) {
      out += text.slice(cursor, p) + newString;
      cursor = p + oldString.length;
    }
    out += text.slice(cursor);
    return ok({ text: out, replaced: used.length, lines: usedLines.slice(0, MAX_LISTED), lineCount: usedLines.length });
  }

  // 3. Whole lines, ignoring indentation, trailing whitespace and line endings.
  return fuzzyEdit(text, req, shownPath);
}

/** edit_file: reads `file`, plans the edit, writes it atomically (mode kept) and returns the diff. */
export async function editFile(file: SafePath, shownPath: string, req: EditRequest, locks: FileLocks, temps?: TempRecord): Promise<Result<EditOutcome>> {
  await temps?.ready();
  return locks.run([file], async () => {
    const read = await readTextFile(file, shownPath);
    if (!read.ok) return read;
    const { text, bom, mode, uid, gid, bytes } = read.value;
    const planned = planEdit(text, req, shownPath);
    if (!planned.ok) return planned;
    try {
      const data = encodeText(planned.value.text, bom);
      const opts: AtomicWriteOptions = { mode, uid, gid, unchanged: { kind: 'file', bytes } };
      await (temps ? temps.withTemp(file, (tmp) => writeFileAtomic(file, data, { ...opts, tmp })) : writeFileAtomic(file, data, opts));
    } catch (err) {
      return writeFailure(err, shownPath);
    }
    return ok({ ...planned.value, diff: diffTexts(`a/${shownPath}`, `b/${shownPath}`, text, planned.value.text) });
  });
}

function fuzzyEdit(text: string, req: EditRequest, shownPath: string): Result<PlannedEdit> {
  const file = splitText(text);
  const oldLines = req.oldString.split(/\r?\n/);
  const oldEndsWithNewline = oldLines.length > 1 && oldLines[oldLines.length - 1] === '';
  if (oldEndsWithNewline) oldLines.pop();
  const keys = oldLines.map((l) => l.trim());
  const starts: number[] = [];
  if (keys.some((k) => k !== '')) {
    for (let s = 0; s + keys.length <= file.lines.length; s++) {
      let same = true;
      for (let i = 0; i < keys.length && same; i++) same = file.lines[s + i]!.trim() === keys[i];
      if (same) starts.push(s);
    }
  }
  if (starts.length > 1) {
    return fail(
      'not_found',
      `old_string was not found in ${shownPath}. Ignoring indentation and line endings it matches ${starts.length} places (${listLines(starts.map((s) => s + 1))}), so none was changed.`,
      'Copy the text exactly as read_file shows it (same indentation), with enough surrounding lines to be unique.',
    );
  }
  if (starts.length === 0) return notFound(file.lines, oldLines, shownPath);

  // 3'. A unique whole-line match: replace those lines, re-indenting new_string the same way.
  const start = starts[0]!;
  const end = start + oldLines.length;
  let newLines = req.newString.split(/\r?\n/);
  if (oldEndsWithNewline && newLines.length > 1 && newLines[newLines.length - 1] === '') newLines.pop();
  if (oldEndsWithNewline && req.newString === '') newLines = [];
  const indents = indentMap(oldLines, file.lines.slice(start, end));
  const reindented = newLines.map((l) => reindent(l, indents));
  const changedIndent = reindented.some((l, i) => l !== newLines[i]);
  newLines = reindented;

  const lastEnding = file.endings[end - 1]!;
  const endings: LineEnding[] = newLines.map((_, i) => (i === newLines.length - 1 ? lastEnding : file.eol));
  const out = joinText({
    lines: [...file.lines.slice(0, start), ...newLines, ...file.lines.slice(end)],
    endings: [...file.endings.slice(0, start), ...endings, ...file.endings.slice(end)],
  });
  const range = oldLines.length === 1 ? `line ${start + 1}` : `lines ${start + 1}-${end}`;
  const how = changedIndent ? '; new_string was re-indented the way the file indents those lines' : '';
  return ok({
    text: out,
    replaced: 1,
    lines: [start + 1],
    lineCount: 1,
    fallback: `old_string did not match exactly; it matched ${range} when indentation, trailing whitespace and line endings are ignored, and those lines were replaced${how}. Check the diff.`,
  });
}

function notFound(lines: readonly string[], oldLines: readonly string[], shownPath: string): Result<never> {
  const best = closestWindow(lines, oldLines);
  if (!best) {
    return fail('not_found', `old_string was not found in ${shownPath}, and no part of the file resembles it.`, 'Read the file (read_file) and copy the text to replace exactly.');
  }
  const span = Math.min(oldLines.length, 30);
  const from = Math.max(0, best.start - 2);
  const to = Math.min(lines.length, best.start + span + 2);
  let detail = '';
  if (best.firstDiff !== undefined && best.start + best.firstDiff < lines.length) {
    const n = best.start + best.firstDiff;
    detail = `\nFirst difference: line ${n + 1} of the file is ${JSON.stringify(clip(lines[n]!))}, old_string has ${JSON.stringify(clip(oldLines[best.firstDiff]!))}.`;
  }
  return fail(
    'not_found',
    `old_string was not found in ${shownPath}. The most similar region is at line ${best.start + 1}:\n${numberedLines(lines, from, to)}${detail}`,
    'Copy the text exactly as the file has it (the numbers and tab before each line above are not part of it) and try again.',
  );
}

/**
 * How old_string's indentation levels map to the file's, from the matched lines: each
 * indentation old_string used, paired with the file's indentation of the same line.
 */
function indentMap(oldLines: readonly string[], fileLines: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  oldLines.forEach((line, i) => {
    if (line.trim() === '') return;
    const from = leading(line);
    if (!map.has(from)) map.set(from, leading(fileLines[i]!));
  });
  return map;
}

/** Re-indents a new_string line: its own level if old_string used it, else the nearest shallower level plus the rest. */
function reindent(line: string, map: ReadonlyMap<string, string>): string {
  if (line.trim() === '') return line;
  const indent = leading(line);
  const exact = map.get(indent);
  if (exact !== undefined) return exact + line.slice(indent.length);
  let best: string | undefined;
  for (const key of map.keys()) if (indent.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
  return best === undefined ? line : map.get(best)! + line.slice(best.length);
}

function leading(s: string): string {
  return /^[ \t]*/.exec(s)![0];
}

function findAll(text: string, needle: string): number[] {
  const out: number[] = [];
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) out.push(at);
  return out;
}

/** 1-based line numbers of ascending character offsets. */
function lineNumbers(text: string, offsets: readonly number[]): number[] {
  const out: number[] = [];
  let line = 1;
  let cursor = 0;
  for (const o of offsets) {
    for (let nl = text.indexOf('\n', cursor); nl !== -1 && nl < o; nl = text.indexOf('\n', nl + 1)) line++;
    cursor = o;
    out.push(line);
  }
  return out;
}

/** "line 3" or "lines 1, 4, 9", listing at most MAX_LISTED. */
function listLines(lines: readonly number[]): string {
  if (lines.length === 1) return `line ${lines[0]}`;
  const shown = lines.slice(0, MAX_LISTED).join(', ');
  return `lines ${lines.length > MAX_LISTED ? `${shown}, …` : shown}`;
}
