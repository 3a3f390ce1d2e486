// Reads a file for a model: numbered lines within line and byte caps, images as image content,
// other binary files refused. A huge file is read chunk by chunk, never loaded whole.
import { closeSync, fstatSync, read, readFile, readSync, type Stats } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { SafePath } from '../sandbox/index.js';
import { fail, ok, type Result } from '../util/result.js';
import { formatCount, payloadRoom } from '../util/budget.js';
import { formatBytes } from '../util/format.js';
import { changedMeanwhile, openForRead, RACED } from './confined.js';

export interface ReadLimits {
  maxLines: number;
  maxBytes: number;
  /**
   * The reply budget: the most characters one reply may carry (header and notes included); a page
   * stops before the line that would pass it. Default: no limit beyond maxBytes.
   */
  maxChars?: number;
  /** Longest line shown whole; longer lines are cut with a marker. */
  maxLineChars?: number;
}

export type ReadOutcome =
  | { kind: 'text'; text: string; header: string }
  | { kind: 'image'; mimeType: string; data: string; header: string };

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};
/** Images above this are refused: base64 grows them by a third and hosts cap message sizes. */
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
/** Files up to this size are read synchronously (see readChecked). */
const SYNC_READ_BYTES = 256 * 1024;
/** Files up to this size are read in one call; larger ones are streamed line by line. */
const WHOLE_READ_BYTES = 1024 * 1024;
const SNIFF_BYTES = 8192;
/** Large files are read in chunks of this size. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Reads `limit` lines starting at line `offset` (1-based).
 * @param shownPath the path as the model should see it in the header.
 */
export async function readFileForModel(
  file: SafePath,
  shownPath: string,
  opts: { offset?: number; limit?: number },
  limits: ReadLimits,
): Promise<Result<ReadOutcome>> {
  try {
    return await readChecked(file, shownPath, opts, limits);
  } catch (err) {
    // An open or read that fails after the stat (permissions, a file removed meanwhile).
    return statFailure(err, shownPath);
  }
}

async function readChecked(
  file: SafePath,
  shownPath: string,
  opts: { offset?: number; limit?: number },
  limits: ReadLimits,
): Promise<Result<ReadOutcome>> {
  const offset = Math.max(1, Math.floor(opts.offset ?? 1));
  const limit = Math.max(1, Math.min(Math.floor(opts.limit ?? limits.maxLines), limits.maxLines));
  const maxLineChars = limits.maxLineChars ?? 2000;
  const cap: Cap = { bytes: limits.maxBytes, chars: limits.maxChars !== undefined ? payloadRoom(limits.maxChars) : Infinity };
  // One descriptor for the checks and the read. open, fstat and close are synchronous, and so is
  // the read of a small file: each is a few microseconds of local work, where a thread-pool round
  // trip costs 20 to 50 µs (most of a small read's cost, measured in bench/). O_NONBLOCK keeps a
  // FIFO from blocking the open; a large or size-less file is read asynchronously. The file is
  // opened through its verified parent directory (confined.ts), never by walking the path again.
  const fd = openForRead(file);
  let info: Stats;
  let collected: Collected;
  try {
    info = fstatSync(fd);
    if (info.isDirectory()) return fail('is_directory', `${shownPath} is a directory.`, 'Use list_dir to see its entries.');
    if (!info.isFile()) return fail('not_a_file', `${shownPath} is not a regular file.`);
    const mimeType = IMAGE_TYPES[path.extname(file).toLowerCase()];
    // Awaited here: the descriptor is closed below.
    if (mimeType) return await readImage(fd, shownPath, info.size, mimeType);
    // Small files are read once and sniffed from memory; a size of 0 may be a lie (procfs), so it
    // counts as small. Larger files are sniffed from their first chunk, then read on chunk by
    // chunk only as far as the window needs.
    const whole = info.size > 0 && info.size <= SYNC_READ_BYTES ? readAllSync(fd, info.size) : info.size <= WHOLE_READ_BYTES ? await readAll(fd, info.size) : undefined;
    const first = whole ?? (await readAt(fd, Buffer.allocUnsafe(CHUNK_BYTES), 0));
    if (looksBinary(first.subarray(0, SNIFF_BYTES))) {
      return fail(
        'binary_file',
        `${shownPath} is a binary file (${formatBytes(info.size)}); read_file shows text and images only.`,
        'Use exec_command with a tool made for the format (e.g. `xxd | head`, `file`, `unzip -l`) to inspect it.',
      );
    }
    collected = whole
      ? collectFromText(whole.toString('utf8'), offset, limit, cap, maxLineChars)
      : await collectFromChunks(fd, first, offset, limit, cap, maxLineChars);
  } finally {
    try {
      closeSync(fd);
    } catch {
      // The read succeeded; a failing close (EIO on a network file system) changes nothing for it.
    }
  }
  const { lines, totalLines, stoppedBy, cutLines } = collected;
  const first = offset;
  const last = offset + lines.length - 1;
  const total = totalLines === undefined ? '' : ` of ${totalLines}`;
  let header = `${shownPath}: `;
  if (lines.length === 0) {
    header += totalLines === 0 ? 'empty file' : `no lines at offset ${offset}${total} (the file has fewer lines)`;
  } else {
    header += `lines ${first}-${last}${total}, ${formatBytes(info.size)}`;
  }
  const notes: string[] = [];
  if (stoppedBy !== 'end') {
    const why =
      stoppedBy === 'chars'
        ? `the ${formatCount(limits.maxChars!)}-character reply budget`
        : stoppedBy === 'bytes'
          ? `the ${formatBytes(limits.maxBytes)} reply cap`
          : `the ${limit}-line limit`;
    notes.push(`[truncated at ${why}; call read_file with offset=${last + 1} to read on]`);
  }
  if (cutLines > 0) notes.push(`[${cutLines} line(s) longer than ${maxLineChars} characters were cut]`);
  const width = String(Math.max(last, 1)).length;
  const body = lines.map((line, i) => `${String(first + i).padStart(width)}\t${line}`).join('\n');
  const text = [header, ...notes].join('\n') + (body ? `\n${body}` : '');
  return ok({ kind: 'text', text, header });
}

interface Collected {
  lines: string[];
  totalLines?: number;
  stoppedBy: 'end' | 'lines' | 'bytes' | 'chars';
  cutLines: number;
}

/** A page's size limits: bytes of text, and characters as the model gets them (line numbers included). */
interface Cap {
  bytes: number;
  chars: number;
}

/** Counts a page's size line by line; says which limit the next line would pass, if any. */
function pageMeter(cap: Cap): (line: string) => 'bytes' | 'chars' | undefined {
  let bytes = 0;
  let chars = 0;
  return (line) => {
    // 8: the line number and tab in front of each line.
    bytes += Buffer.byteLength(line) + 8;
    chars += line.length + 8;
    return bytes > cap.bytes ? 'bytes' : chars > cap.chars ? 'chars' : undefined;
  };
}

/** Picks the window out of a whole file's text. */
function collectFromText(text: string, offset: number, limit: number, cap: Cap, maxLineChars: number): Collected {
  const all = splitLines(text);
  const lines: string[] = [];
  const measure = pageMeter(cap);
  let cutLines = 0;
  let stoppedBy: Collected['stoppedBy'] = 'end';
  for (let i = offset - 1; i < all.length; i++) {
    if (lines.length >= limit) {
      stoppedBy = 'lines';
      break;
    }
    const line = cutLine(all[i]!, maxLineChars);
    if (line !== all[i]) cutLines++;
    const over = measure(line);
    if (over && lines.length > 0) {
      stoppedBy = over;
      break;
    }
    lines.push(line);
  }
  return { lines, totalLines: all.length, stoppedBy, cutLines };
}

/**
 * Reads a large file on from its first chunk, one chunk at a time, and stops as soon as the window
 * is full; the total is not counted.
 */
async function collectFromChunks(
  fd: number,
  first: Buffer,
  offset: number,
  limit: number,
  cap: Cap,
  maxLineChars: number,
): Promise<Collected> {
  const lines: string[] = [];
  const measure = pageMeter(cap);
  let cutLines = 0;
  let lineNo = 0;
  let stoppedBy: Collected['stoppedBy'] = 'end';
  let pending = '';
  const take = (raw: string): boolean => {
    lineNo++;
    if (lineNo < offset) return true;
    if (lines.length >= limit) {
      stoppedBy = 'lines';
      return false;
    }
    const stripped = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const line = cutLine(stripped, maxLineChars);
    if (line !== stripped) cutLines++;
    const over = measure(line);
    if (over && lines.length > 0) {
      stoppedBy = over;
      return false;
    }
    lines.push(line);
    return true;
  };
  // A decoder keeps a UTF-8 character split between two chunks whole.
  const decoder = new StringDecoder('utf8');
  let chunk = first;
  let position = first.length;
  outer: while (chunk.length > 0) {
    pending += decoder.write(chunk);
    let start = 0;
    let nl: number;
    while ((nl = pending.indexOf('\n', start)) !== -1) {
      const raw = pending.slice(start, nl);
      start = nl + 1;
      if (!take(raw)) break outer;
    }
    pending = pending.slice(start);
    // A single enormous line: keep only what can be shown so memory stays flat.
    if (pending.length > maxLineChars * 4 + CHUNK_BYTES) pending = pending.slice(0, maxLineChars + 1);
    chunk = await readAt(fd, Buffer.allocUnsafe(CHUNK_BYTES), position);
    position += chunk.length;
  }
  if (stoppedBy === 'end') {
    pending += decoder.end();
    if (pending.length > 0) take(pending);
  }
  return { lines, stoppedBy, cutLines };
}

function splitLines(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith('\r')) lines[i] = lines[i]!.slice(0, -1);
  return lines;
}

function cutLine(line: string, max: number): string {
  return line.length <= max ? line : `${line.slice(0, max)}… [${line.length - max} more characters]`;
}

/** Reads into `buf` from `position`; resolves with the part filled. */
function readAt(fd: number, buf: Buffer, position: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(buf.subarray(0, n)))),
  );
}

/** `size` bytes from the start of a small file, read synchronously (fewer if it shrank). */
function readAllSync(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** The whole file: `size` bytes in one read when the size is known, else (size 0) until EOF. */
async function readAll(fd: number, size: number): Promise<Buffer> {
  if (size > 0) {
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = (await readAt(fd, buf.subarray(got), got)).length;
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  }
  const parts: Buffer[] = [];
  let total = 0;
  for (;;) {
    const part = await readAt(fd, Buffer.allocUnsafe(64 * 1024), total);
    if (part.length === 0) break;
    parts.push(part);
    total += part.length;
    if (total > WHOLE_READ_BYTES) break;
  }
  return Buffer.concat(parts);
}

/** A NUL byte in the first 8 KiB means binary, as git and ripgrep decide. */
export function looksBinary(head: Buffer): boolean {
  return head.includes(0);
}

/** An image file, read whole from `fd` (already open, at position 0: only positional reads came before). */
async function readImage(fd: number, shownPath: string, size: number, mimeType: string): Promise<Result<ReadOutcome>> {
  if (size > MAX_IMAGE_BYTES) {
    return fail('too_large', `${shownPath} is an image of ${formatBytes(size)}; images above ${formatBytes(MAX_IMAGE_BYTES)} are not sent.`);
  }
  const data = await new Promise<Buffer>((resolve, reject) => readFile(fd, (err, buf) => (err ? reject(err) : resolve(buf))));
  return ok({ kind: 'image', mimeType, data: data.toString('base64'), header: `${shownPath}: ${mimeType} image, ${formatBytes(size)}` });
}

export function statFailure(err: unknown, shownPath: string): Result<never> {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return fail('not_found', `${shownPath} does not exist.`, 'Check the path with list_dir or glob.');
  if (code === 'EACCES') return fail('permission_denied', `${shownPath}: permission denied.`);
  if (code === 'ENOTDIR') return fail('not_found', `${shownPath} does not exist: a parent path is not a directory.`, 'Check the path with list_dir or glob.');
  // ELOOP: the checked path had no link as its last component, so one was put there since.
  if (code === RACED || code === 'ELOOP') return changedMeanwhile(shownPath);
  return fail('io_error', `${shownPath}: ${(err as Error).message}`);
}
