// Parses the Codex apply_patch format into hunks. It only reads the text: it does not check that
// the files exist or that the hunks apply (apply.ts does that).
//
//   Patch      := "*** Begin Patch" NL { FileOp } "*** End Patch" [NL]
//   FileOp     := AddFile | DeleteFile | UpdateFile
//   AddFile    := "*** Add File: " path NL { "+" line NL }
//   DeleteFile := "*** Delete File: " path NL
//   UpdateFile := "*** Update File: " path NL [ "*** Move to: " path NL ] { Chunk }
//   Chunk      := { "@@" [ " " header ] NL } { (" " | "-" | "+") line NL } [ "*** End of File" NL ]
//
// Lenient where Codex is lenient, and a little beyond where a model's intent is unambiguous:
// - surrounding blank lines, whitespace around the Begin/End markers and file headers, CRLF text;
// - a heredoc (`<<'EOF'` … `EOF`) or a markdown fence wrapped around the patch;
// - the first chunk of an Update may omit its "@@" line; an empty line inside a chunk is an empty
//   context line; blank lines between chunks and between file operations are skipped;
// - several "@@ header" lines in a row narrow the position step by step (Codex takes one);
// - a git-style "@@ -12,7 +12,8 @@ fn x()" header uses only its trailing text as the header;
// - an Update with a Move to and no chunks is a plain rename.
// Strict where Codex is strict: missing Begin/End markers, no file operations, an unknown header,
// an Update without chunks, a chunk without lines, a line without a ' ', '-' or '+' prefix; and a
// path that names a directory (`dir/`), which Codex fails to write and a path check would
// otherwise read as the file `dir`.
import { namesDirectory } from '../fs/index.js';
import { clip } from '../util/format.js';
import { fail, ok, type Result } from '../util/result.js';

/** One line of a chunk: kept (context), removed or added. */
export interface ChunkLine {
  kind: 'context' | 'delete' | 'add';
  text: string;
}

/** A contiguous change inside an updated file. */
export interface UpdateChunk {
  /** "@@ header" texts, found in order (each after the previous) before the lines are sought. */
  headers: string[];
  lines: ChunkLine[];
  /** "*** End of File": the chunk's old lines must be the last lines of the file. */
  endOfFile: boolean;
  /** 1-based line in the patch where the chunk starts (its first @@ line, if any). */
  line: number;
  /** 1-based line in the patch of `lines[0]`; the rest follow on consecutive lines. */
  bodyLine: number;
}

export type Hunk =
  | { kind: 'add'; path: string; contents: string; line: number }
  | { kind: 'delete'; path: string; line: number }
  | { kind: 'update'; path: string; moveTo?: string; chunks: UpdateChunk[]; line: number };

const BEGIN = '*** Begin Patch';
const END = '*** End Patch';
const END_OF_FILE = '*** End of File';
const FILE_HEADER = /^\*\*\* (Add|Delete|Update) File:\s*(.*)$/;
const MOVE_TO = /^\*\*\* Move to:\s*(.*)$/;
const GIT_RANGE = /^-\d+(?:,\d+)? \+\d+(?:,\d+)? @@\s*(.*)$/;
const VALID_HEADERS = "'*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'";
const HINT = 'Nothing was changed. Fix the patch and send the whole patch again.';

interface Line {
  text: string;
  /** 1-based line number in the text the caller sent. */
  no: number;
}

/** The old lines of a chunk (context and removed), in order. */
export function oldLinesOf(chunk: UpdateChunk): string[] {
  return chunk.lines.filter((l) => l.kind !== 'add').map((l) => l.text);
}

/** The new lines of a chunk (context and added), in order. */
export function newLinesOf(chunk: UpdateChunk): string[] {
  return chunk.lines.filter((l) => l.kind !== 'delete').map((l) => l.text);
}

/** Parses patch text into hunks, or says which line is wrong and why. */
export function parsePatch(text: string): Result<Hunk[]> {
  const body = patchBody(text);
  if (!body.ok) return body;
  const lines = body.value;
  const hunks: Hunk[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const trimmed = line.text.trim();
    if (trimmed === '') {
      i++;
      continue;
    }
    const header = FILE_HEADER.exec(trimmed);
    if (!header) {
      return invalid(line.no, `'${trimmed}' is not a valid file operation header. Valid headers: ${VALID_HEADERS}.`);
    }
    const kind = header[1] as 'Add' | 'Delete' | 'Update';
    const path = header[2]!.trim();
    if (path === '') return invalid(line.no, `'*** ${kind} File:' has no path.`);
    if (namesDirectory(path)) return invalid(line.no, directoryPath(path));
    i++;

    if (kind === 'Add') {
      let contents = '';
      while (i < lines.length && lines[i]!.text.startsWith('+')) contents += `${lines[i++]!.text.slice(1)}\n`;
      hunks.push({ kind: 'add', path, contents, line: line.no });
      continue;
    }
    if (kind === 'Delete') {
      hunks.push({ kind: 'delete', path, line: line.no });
      continue;
    }

    let moveTo: string | undefined;
    const move = i < lines.length ? MOVE_TO.exec(lines[i]!.text.trim()) : null;
    if (move) {
      moveTo = move[1]!.trim();
      if (moveTo === '') return invalid(lines[i]!.no, "'*** Move to:' has no path.");
      if (namesDirectory(moveTo)) return invalid(lines[i]!.no, directoryPath(moveTo));
      i++;
    }
    const chunks: UpdateChunk[] = [];
    while (i < lines.length) {
      const current = lines[i]!;
      if (current.text.trim() === '') {
        i++;
        continue;
      }
      if (current.text.startsWith('*')) break;
      const parsed = parseChunk(lines, i, chunks.length === 0);
      if (!parsed.ok) return parsed;
      chunks.push(parsed.value.chunk);
      i = parsed.value.next;
    }
    if (chunks.length === 0 && moveTo === undefined) {
      return invalid(line.no, `Update File hunk for '${path}' is empty: it needs at least one chunk of ' ', '-' and '+' lines.`);
    }
    hunks.push(moveTo === undefined ? { kind: 'update', path, chunks, line: line.no } : { kind: 'update', path, moveTo, chunks, line: line.no });
  }
  if (hunks.length === 0) {
    return fail('patch_parse', 'Invalid patch: it contains no file operations, so no files were modified.', `Add at least one of ${VALID_HEADERS} between the Begin and End markers.`);
  }
  return ok(hunks);
}

/** Lines between the Begin and End markers, after removing a heredoc or fence around the patch. */
function patchBody(text: string): Result<Line[]> {
  let lines: Line[] = text.split('\n').map((t, idx) => ({ text: t.endsWith('\r') ? t.slice(0, -1) : t, no: idx + 1 }));
  lines = trimBlank(lines);
  if (lines.length === 0) return fail('patch_parse', 'Invalid patch: the patch is empty.', `A patch starts with '${BEGIN}' and ends with '${END}'.`);
  lines = unwrap(lines);
  const first = lines[0]!;
  const last = lines[lines.length - 1]!;
  if (first.text.trim() !== BEGIN) {
    return fail('patch_parse', `Invalid patch: the first line must be '${BEGIN}', got '${clip(first.text.trim())}'.`, HINT);
  }
  if (lines.length < 2 || last.text.trim() !== END) {
    return fail('patch_parse', `Invalid patch: the last line must be '${END}'${lines.length < 2 ? '' : `, got '${clip(last.text.trim())}'`}.`, HINT);
  }
  return ok(lines.slice(1, -1));
}

/** Strips `<<'EOF'` … `EOF` (optionally after `apply_patch`) or a ``` fence around the patch. */
function unwrap(lines: Line[]): Line[] {
  if (lines.length < 3) return lines;
  const first = lines[0]!.text.trim();
  const last = lines[lines.length - 1]!.text.trim();
  const heredoc = /^(?:apply_patch\s*)?<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1$/.exec(first);
  if (heredoc && last === heredoc[2]) return trimBlank(lines.slice(1, -1));
  if (/^```[\w-]*$/.test(first) && last === '```') return trimBlank(lines.slice(1, -1));
  return lines;
}

function trimBlank(lines: Line[]): Line[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start]!.text.trim() === '') start++;
  while (end > start && lines[end - 1]!.text.trim() === '') end--;
  return lines.slice(start, end);
}

/** Parses one chunk starting at `start`; returns it and the index of the first line after it. */
function parseChunk(lines: Line[], start: number, first: boolean): Result<{ chunk: UpdateChunk; next: number }> {
  const headers: string[] = [];
  let i = start;
  let sawMarker = false;
  for (; i < lines.length; i++) {
    const header = contextHeader(lines[i]!.text);
    if (header === undefined) break;
    sawMarker = true;
    if (header !== '') headers.push(header);
  }
  const startLine = lines[start]!;
  if (!sawMarker && !first) {
    return invalid(startLine.no, `expected a chunk to start with an '@@' line, got '${clip(startLine.text)}'. Every line in a chunk starts with ' ' (context), '-' (remove) or '+' (add).`);
  }
  const chunkLines: ChunkLine[] = [];
  const bodyLine = lines[i]?.no ?? startLine.no;
  let endOfFile = false;
  for (; i < lines.length; i++) {
    const { text, no } = lines[i]!;
    if (text.trimEnd() === END_OF_FILE) {
      if (chunkLines.length === 0) return invalid(no, "the chunk before '*** End of File' has no lines.");
      endOfFile = true;
      i++;
      break;
    }
    const c = text[0];
    if (c === undefined) chunkLines.push({ kind: 'context', text: '' });
    else if (c === ' ') chunkLines.push({ kind: 'context', text: text.slice(1) });
    else if (c === '-') chunkLines.push({ kind: 'delete', text: text.slice(1) });
    else if (c === '+') chunkLines.push({ kind: 'add', text: text.slice(1) });
    else if (chunkLines.length === 0 && !text.startsWith('*')) {
      const where = sawMarker ? 'after an @@ line' : 'in an Update File chunk';
      return invalid(no, `unexpected line ${where}: '${clip(text)}'. Every line in a chunk starts with ' ' (context), '-' (remove) or '+' (add).`);
    } else break; // the next chunk's @@, the next file operation, or an error reported there
  }
  if (chunkLines.length === 0) return invalid(startLine.no, 'the chunk has no lines.');
  return ok({ chunk: { headers, lines: chunkLines, endOfFile, line: startLine.no, bodyLine }, next: i });
}

/** For an "@@" line, its header text ('' for none); undefined for any other line. */
function contextHeader(line: string): string | undefined {
  if (!line.startsWith('@@')) return undefined;
  const rest = line.slice(2).trim();
  const git = GIT_RANGE.exec(rest);
  return git ? git[1]!.trim() : rest;
}

function directoryPath(path: string): string {
  return `'${clip(path)}' names a directory, not a file; give the file's own path (no trailing slash).`;
}

function invalid(line: number, message: string): Result<never> {
  return fail('patch_parse', `Invalid patch at line ${line}: ${message}`, HINT);
}
