// Text files as the write tools see them: read whole, decoded as strict UTF-8, split into lines
// that keep their own endings, so an edit rewrites only the lines it changes and a CRLF file stays
// CRLF. Reading refuses what cannot be edited as text (directories, binary or non-UTF-8 files,
// files too large to hold in memory); it never writes.
import { closeSync, fstatSync, readFile } from 'node:fs';
import type { SafePath } from '../sandbox/index.js';
import { formatBytes } from '../util/format.js';
import { fail, ok, type Result } from '../util/result.js';
import { openForRead } from './confined.js';
import { looksBinary, statFailure } from './read.js';

export type Eol = '\n' | '\r\n';
/** A line's own terminator; '' only for a last line without one. */
export type LineEnding = Eol | '';

/** The text of a file as lines, each with the ending it had. */
export interface TextLines {
  lines: string[];
  endings: LineEnding[];
  /** The ending new lines get: the file's first line ending (LF for a file without any). */
  eol: Eol;
}

/** A text file read for editing, with what is needed to write it back the same way. */
export interface TextFile {
  text: string;
  /** The file started with a UTF-8 byte order mark (not part of `text`; written back). */
  bom: boolean;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** The bytes as read, to check just before writing that nobody changed the file meanwhile. */
  bytes: Buffer;
}

/** Files above this are not loaded for editing. */
export const MAX_EDIT_BYTES = 32 * 1024 * 1024;

const BOM = '\uFEFF';
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Splits text into lines that remember their endings (LF or CRLF). */
export function splitText(text: string): TextLines {
  const lines: string[] = [];
  const endings: LineEnding[] = [];
  let eol: Eol | undefined;
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl === -1) break;
    const crlf = nl > start && text.charCodeAt(nl - 1) === 13;
    lines.push(text.slice(start, crlf ? nl - 1 : nl));
    const ending: Eol = crlf ? '\r\n' : '\n';
    endings.push(ending);
    eol ??= ending;
    start = nl + 1;
  }
  if (start < text.length) {
    lines.push(text.slice(start));
    endings.push('');
  }
  return { lines, endings, eol: eol ?? '\n' };
}

/** The inverse of splitText. */
export function joinText(t: Pick<TextLines, 'lines' | 'endings'>): string {
  let out = '';
  for (let i = 0; i < t.lines.length; i++) out += t.lines[i]! + t.endings[i]!;
  return out;
}

/** Decodes file bytes as text: refuses binary (NUL bytes) and invalid UTF-8; strips and reports a BOM. */
export function decodeText(bytes: Buffer, shownPath: string): Result<{ text: string; bom: boolean }> {
  if (looksBinary(bytes.subarray(0, 8192))) {
    // Not write_file: it takes UTF-8 text only.
    return fail('binary_file', `${shownPath} is a binary file; only UTF-8 text files can be edited.`, 'Use exec_command with a tool made for the format.');
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail('not_utf8', `${shownPath} is not valid UTF-8 text; it cannot be edited safely.`, 'Use write_file to replace it whole, or exec_command (e.g. iconv) to convert it first.');
  }
  const bom = text.startsWith(BOM);
  return ok({ text: bom ? text.slice(1) : text, bom });
}

/** Encodes text for writing, restoring a byte order mark the file had. */
export function encodeText(text: string, bom: boolean): Buffer {
  return Buffer.from(bom ? BOM + text : text, 'utf8');
}

/** Reads an existing regular text file for editing, through one descriptor opened on the checked path (confined.ts). */
export async function readTextFile(file: SafePath, shownPath: string): Promise<Result<TextFile>> {
  let fd: number;
  try {
    fd = openForRead(file);
  } catch (err) {
    return statFailure(err, shownPath);
  }
  let info;
  let bytes: Buffer;
  try {
    info = fstatSync(fd);
    if (info.isDirectory()) return fail('is_directory', `${shownPath} is a directory, not a file.`);
    if (!info.isFile()) return fail('not_a_file', `${shownPath} is not a regular file.`);
    if (info.size > MAX_EDIT_BYTES) {
      return fail('too_large', `${shownPath} is ${formatBytes(info.size)}; files above ${formatBytes(MAX_EDIT_BYTES)} are not edited in memory.`, 'Use exec_command (e.g. sed) for files this large.');
    }
    bytes = await new Promise<Buffer>((resolve, reject) => readFile(fd, (err, buf) => (err ? reject(err) : resolve(buf))));
  } catch (err) {
    return statFailure(err, shownPath);
  } finally {
    closeSync(fd);
  }
  const decoded = decodeText(bytes, shownPath);
  if (!decoded.ok) return decoded;
  return ok({ ...decoded.value, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid, size: bytes.length, bytes });
}
