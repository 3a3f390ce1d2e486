// Plans a patch: every file's final state, in memory, without writing anything.
//
// The hunks run in order against a view of the files (the disk as first read, overlaid with what
// earlier hunks did), so a later hunk sees an earlier one's result exactly as if they had been
// written one by one. Update and delete sources must exist as files; a Delete (or a Move's
// source) may also be a symlink, which is removed itself. Any failure (missing context, a
// directory, a binary file to edit) ends planning, and then nothing has been written.
//
// A file's bytes are read only up to MAX_EDIT_BYTES. Larger files can still be deleted or renamed
// (a Move to without chunks), since neither needs their content: the plan records which file a
// rename takes its content from, and commit.ts renames it.
import { changedMeanwhile, confined, decodeText, MAX_EDIT_BYTES, RACED } from '../fs/index.js';
import type { SafePath } from '../sandbox/index.js';
import { diffReplacements, diffTexts } from '../util/diff.js';
import { formatBytes } from '../util/format.js';
import { fail, ok, type Result } from '../util/result.js';
import type { Hunk } from './parse.js';
import { applyChunks, type FileUpdate } from './replace.js';
import { MATCH_LEVELS } from './seek-sequence.js';

/** What the plan found at a path before the patch. */
export type Disk =
  | { kind: 'absent' }
  /** A regular file; `bytes` only when it is at most MAX_EDIT_BYTES (identity fields check it is unchanged otherwise). */
  | { kind: 'file'; bytes?: Buffer; size: number; mode: number; uid: number; gid: number; ino: number; mtimeMs: number }
  /** A symlink itself (only ever at a path a Delete or Move removes). */
  | { kind: 'link'; target: string }
  | { kind: 'dir' }
  | { kind: 'other' };

/** What a path holds after the patch. */
export type State =
  | { kind: 'absent' }
  | {
      kind: 'file';
      /** The content: text (encoded with `bom` when written), bytes, or, for a large file moved unread, the path it is renamed from. */
      text?: string;
      bytes?: Buffer;
      renameFrom?: SafePath;
      bom: boolean;
      mode?: number;
      uid?: number;
      gid?: number;
    };

/** Where one hunk reads and writes, after the path check. */
export interface HunkPaths {
  /** The file the hunk adds, deletes or updates (for a Delete of a symlink: the link). */
  path: SafePath;
  /** An update's Move to destination. */
  moveTo?: SafePath;
  /** A Move whose source is a symlink: the link, removed once its target's content is moved. */
  link?: SafePath;
}

/** One line of the summary: A (added), M (modified, possibly moved), D (deleted). */
export interface FileOp {
  code: 'A' | 'M' | 'D';
  path: string;
  /** For a move: where the file came from. */
  from?: string;
  diff: string;
}

export interface Plan {
  ops: FileOp[];
  /** Remarks for the model (chunks that matched only loosely). */
  notes: string[];
  disk: Map<SafePath, Disk>;
  final: Map<SafePath, State>;
}

type FileLike = Extract<State | Disk, { kind: 'file' }>;

/** Every file's final state, in memory. `paths` are the resolved paths of `hunks`, in order. */
export async function planHunks(hunks: readonly Hunk[], paths: readonly HunkPaths[], show: (p: string) => string): Promise<Result<Plan>> {
  const disk = new Map<SafePath, Disk>();
  const final = new Map<SafePath, State>();
  const ops: FileOp[] = [];
  const notes: string[] = [];

  const load = async (p: SafePath, hunk: Hunk): Promise<Result<State | Disk>> => {
    const known = final.get(p);
    if (known) return ok(known);
    let d = disk.get(p);
    if (!d) {
      const read = await readDisk(p, show(p));
      if (!read.ok) return fail(read.error.code, `${label(hunk)}: ${read.error.message}`, 'Nothing was changed.');
      d = read.value;
      disk.set(p, d);
    }
    return ok(d);
  };
  /**
   * The target of an add or move must not be a directory or a special file. (The path check
   * followed every symlink, so a link is seen here only if one appeared since: refused too.)
   */
  const writable = (s: State | Disk, shown: string, hunk: Hunk): Result<void> => {
    if (s.kind === 'dir') return fail('is_directory', `${label(hunk)}: ${shown} is a directory.`, 'Nothing was changed.');
    if (s.kind === 'other' || s.kind === 'link') return fail('not_a_file', `${label(hunk)}: ${shown} exists and is not a regular file.`, 'Nothing was changed.');
    return ok(undefined);
  };
  /** An update or delete source must be an existing regular file. */
  const existing = (s: State | Disk, shown: string, hunk: Hunk): Result<FileLike> => {
    if (s.kind === 'file') return ok(s);
    if (s.kind === 'link') return fail('not_a_file', `${label(hunk)}: ${shown} is a symbolic link.`, 'Nothing was changed.');
    const verb = hunk.kind === 'delete' ? 'delete' : 'update';
    if (s.kind === 'dir') {
      return fail('is_directory', `${label(hunk)}: ${shown} is a directory; Delete File and Update File work on files only.`, 'Nothing was changed.');
    }
    if (s.kind === 'other') return fail('not_a_file', `${label(hunk)}: ${shown} is not a regular file.`, 'Nothing was changed.');
    return fail(
      'not_found',
      `${label(hunk)}: cannot ${verb} ${shown}: it does not exist.`,
      hunk.kind === 'update' ? 'Nothing was changed. To create a file use *** Add File.' : 'Nothing was changed. Check the path with list_dir or glob.',
    );
  };

  for (const [i, hunk] of hunks.entries()) {
    const p = paths[i]!.path;
    const shown = show(p);
    const current = await load(p, hunk);
    if (!current.ok) return current;

    if (hunk.kind === 'add') {
      const w = writable(current.value, shown, hunk);
      if (!w.ok) return w;
      const before = current.value.kind === 'file' ? textOf(current.value) : undefined;
      const keep = current.value.kind === 'file' ? ownership(current.value) : {};
      final.set(p, { kind: 'file', text: hunk.contents, bom: false, ...keep });
      ops.push({ code: 'A', path: shown, diff: addDiff(shown, hunk.contents, before) });
      continue;
    }

    if (hunk.kind === 'delete' && current.value.kind === 'link') {
      final.set(p, { kind: 'absent' });
      ops.push({ code: 'D', path: shown, diff: '' });
      continue;
    }

    const found = existing(current.value, shown, hunk);
    if (!found.ok) return found;
    const file = found.value;

    if (hunk.kind === 'delete') {
      final.set(p, { kind: 'absent' });
      ops.push({ code: 'D', path: shown, diff: deleteDiff(shown, textOf(file)) });
      continue;
    }

    // Update, possibly with a move. Only chunks need the text; a plain rename takes any file as it is.
    const { moveTo: dst, link } = paths[i]!;
    const source = link ?? p;
    const sourceShown = show(source);
    if (hunk.chunks.length === 0 && (dst === undefined || dst === source)) {
      ops.push({ code: 'M', path: sourceShown, diff: '' });
      continue;
    }
    let update: FileUpdate | undefined;
    let next: Extract<State, { kind: 'file' }>;
    const base = { kind: 'file' as const, ...ownership(file) };
    if (hunk.chunks.length > 0) {
      const text = textOf(file);
      if (text === undefined) return notText(file, shown, hunk);
      const updated = applyChunks(text, hunk.chunks, shown);
      if (!updated.ok) return updated;
      update = updated.value;
      for (const l of update.loose) {
        notes.push(`Note: the chunk at patch line ${l.line} matched ${shown} only ${MATCH_LEVELS[l.level]}; check the diff.`);
      }
      next = { ...base, bom: bomOf(file), text: update.text };
    } else if (contentOf(file)) {
      next = { ...base, bom: false, ...contentOf(file) };
    } else if (!link) {
      next = { ...base, bom: false, renameFrom: 'renameFrom' in file && file.renameFrom ? file.renameFrom : p };
    } else {
      // The target of a symlink stays where it is, so its content must be copied: it has to fit in memory.
      return tooLarge(file, shown, hunk);
    }

    // A move takes the source away: the file, or the symlink the patch named (its target stays).
    let target = p;
    if (dst !== undefined && dst !== source) {
      target = dst;
      if (dst !== p) {
        const there = await load(dst, hunk);
        if (!there.ok) return there;
        const w = writable(there.value, show(dst), hunk);
        if (!w.ok) return w;
      }
      if (link) {
        const l = await load(link, hunk);
        if (!l.ok) return l;
      }
      final.set(source, { kind: 'absent' });
    }
    final.set(target, next);
    const targetShown = show(target);
    const diff = update ? diffReplacements(`a/${sourceShown}`, `b/${targetShown}`, update.before, update.after, update.replacements) : '';
    ops.push(target === source ? { code: 'M', path: targetShown, diff } : { code: 'M', path: targetShown, from: sourceShown, diff });
  }

  // A file renamed unread must leave its old path empty (a patch that also re-creates it there
  // would need its content in memory).
  for (const [p, s] of final) {
    if (s.kind === 'file' && s.renameFrom && final.get(s.renameFrom)?.kind !== 'absent') {
      const d = disk.get(s.renameFrom);
      return fail(
        'too_large',
        `${show(s.renameFrom)} is ${d?.kind === 'file' ? formatBytes(d.size) : 'too large'}: it can be moved, but not moved and re-created in the same patch.`,
        'Nothing was changed. Split the patch in two.',
      );
    }
  }
  return ok({ ops, notes, disk, final });
}

/** What is at `p` itself (a symlink is not followed: paths that may be links are the ones the patch removes). */
async function readDisk(p: SafePath, shown: string): Promise<Result<Disk>> {
  let info;
  try {
    // Through the verified parent directory (fs/confined.ts), as the commit will act on it.
    info = await confined.lstat(p);
    if (info.isSymbolicLink()) return ok({ kind: 'link', target: await confined.readlink(p) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return ok({ kind: 'absent' });
    if (code === RACED) return changedMeanwhile(shown);
    return fail('io_error', `cannot read ${shown}: ${(err as Error).message}`);
  }
  if (info.isDirectory()) return ok({ kind: 'dir' });
  if (!info.isFile()) return ok({ kind: 'other' });
  const file = { kind: 'file' as const, size: info.size, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid, ino: info.ino, mtimeMs: info.mtimeMs };
  if (info.size > MAX_EDIT_BYTES) return ok(file);
  try {
    return ok({ ...file, bytes: await confined.readFile(p) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === RACED || (err as NodeJS.ErrnoException).code === 'ELOOP') return changedMeanwhile(shown);
    return fail('io_error', `cannot read ${shown}: ${(err as Error).message}`);
  }
}

/** The content of a file state that is in memory, as text or bytes. */
function contentOf(s: FileLike): { text: string; bom: boolean } | { bytes: Buffer } | undefined {
  if ('text' in s && s.text !== undefined) return { text: s.text, bom: s.bom };
  return s.bytes ? { bytes: s.bytes } : undefined;
}

/** Decoded text of a file state, or undefined when it is not UTF-8 text or not in memory. Caches the decoding. */
function textOf(s: FileLike): string | undefined {
  if ('text' in s && s.text !== undefined) return s.text;
  const bytes = s.bytes;
  if (!bytes) return undefined;
  const decoded = decodeText(bytes, '');
  if (!decoded.ok) return undefined;
  if ('bom' in s) {
    s.text = decoded.value.text;
    s.bom = decoded.value.bom;
  }
  return decoded.value.text;
}

function bomOf(s: FileLike): boolean {
  if ('bom' in s) return s.bom;
  return s.bytes !== undefined && s.bytes[0] === 0xef && s.bytes[1] === 0xbb && s.bytes[2] === 0xbf;
}

function ownership(s: FileLike): { mode?: number; uid?: number; gid?: number } {
  const out: { mode?: number; uid?: number; gid?: number } = {};
  if (s.mode !== undefined) out.mode = s.mode;
  if (s.uid !== undefined) out.uid = s.uid;
  if (s.gid !== undefined) out.gid = s.gid;
  return out;
}

/** Why a file's text cannot be edited: too large, binary, or not UTF-8. */
function notText(file: FileLike, shown: string, hunk: Hunk): Result<never> {
  if (!contentOf(file)) return tooLarge(file, shown, hunk);
  const decoded = decodeText(file.bytes!, shown);
  const why = !decoded.ok ? decoded.error : { code: 'not_text', message: `${shown} is not a text file.` };
  return fail(
    why.code,
    `${label(hunk)}: ${why.message}`,
    'Nothing was changed. apply_patch edits UTF-8 text; a Move to without chunks renames any file. Use exec_command with a tool made for the format.',
  );
}

function tooLarge(file: FileLike, shown: string, hunk: Hunk): Result<never> {
  const size = 'size' in file && file.size !== undefined ? `${formatBytes(file.size)}` : 'too large';
  return fail(
    'too_large',
    `${label(hunk)}: ${shown} is ${size}; apply_patch reads files up to ${formatBytes(MAX_EDIT_BYTES)} (it can delete or rename larger ones).`,
    'Nothing was changed. Use exec_command for files this large.',
  );
}

function addDiff(shown: string, contents: string, before: string | undefined): string {
  if (before !== undefined) return diffTexts(`a/${shown}`, `b/${shown}`, before, contents);
  const lines = contents.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) return '';
  return diffReplacements('/dev/null', `b/${shown}`, { lines: [], noEol: false }, { lines, noEol: false }, [{ start: 0, oldLen: 0, lines }]);
}

function deleteDiff(shown: string, before: string | undefined): string {
  if (before === undefined || before === '') return '';
  const noEol = !before.endsWith('\n');
  const lines = before.replace(/\r\n/g, '\n').split('\n');
  if (!noEol) lines.pop();
  return diffReplacements(`a/${shown}`, '/dev/null', { lines, noEol }, { lines: [], noEol: false }, [{ start: 0, oldLen: lines.length, lines: [] }]);
}

/** How a hunk is named in errors. */
export function label(hunk: Hunk): string {
  const kind = hunk.kind === 'add' ? 'Add' : hunk.kind === 'delete' ? 'Delete' : 'Update';
  return `*** ${kind} File: ${hunk.path} (patch line ${hunk.line})`;
}
