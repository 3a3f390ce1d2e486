// Applies a parsed patch to the filesystem: every file or none.
//
// 1. Plan: the hunks run in order against an in-memory view of the files (the disk as first read,
//    overlaid with what earlier hunks did), so a later hunk sees an earlier one's result exactly
//    as if they had been written one by one. Every path, move targets included, goes through
//    the caller's path check; update and delete sources must exist as files. Nothing is written
//    while planning, and any failure (parse, path, missing context) ends here.
// 2. Commit: deletions first (so a deleted file's name can become a directory), then each new or
//    changed file, written atomically (temp file + rename) with its mode kept, creating missing
//    parent directories. Files whose final bytes equal the disk's are not touched.
// 3. Restore: if a write fails midway, everything done so far is undone in reverse order (files
//    put back with their bytes and mode, new files and directories removed) and the error says so.
import { lstat, readFile, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import {
  decodeText,
  encodeText,
  makeParents,
  MAX_EDIT_BYTES,
  writeFailure,
  writeFileAtomic,
  type AtomicWriteOptions,
} from '../fs/index.js';
import type { SafePath } from '../sandbox/index.js';
import { capDiff, diffReplacements, diffTexts } from '../util/diff.js';
import { formatBytes } from '../util/format.js';
import { fail, ok, type Result } from '../util/result.js';
import type { Hunk } from './parse.js';
import { applyChunks, type FileUpdate } from './replace.js';
import { MATCH_LEVELS } from './seek-sequence.js';

/** The filesystem operations a commit uses; tests replace them to fail midway. */
export interface PatchIo {
  writeFile(file: string, data: Uint8Array, opts: AtomicWriteOptions): Promise<void>;
  unlink(file: string): Promise<void>;
  /** Creates missing parents of a file's directory; returns those it created, outermost first. */
  makeParents(dir: string): Promise<string[]>;
  rmdir(dir: string): Promise<void>;
}

export const nodePatchIo: PatchIo = { writeFile: writeFileAtomic, unlink, makeParents, rmdir };

export interface PatchEnv {
  /** The path check for a path named in the patch (resolveForWrite with the session's policy). */
  resolve(requested: string): Promise<Result<SafePath>>;
  /** How a real path is shown to the model. */
  show(absolute: string): string;
  /** Checked before anything is written: a cancelled call writes nothing. */
  signal?: AbortSignal;
  io?: PatchIo;
}

/** One line of the summary: A (added), M (modified, possibly moved), D (deleted). */
export interface FileOp {
  code: 'A' | 'M' | 'D';
  path: string;
  /** For a move: where the file came from. */
  from?: string;
  diff: string;
}

export interface PatchOutcome {
  ops: FileOp[];
  /** Remarks for the model (chunks that matched only loosely). */
  notes: string[];
  /** The Codex summary, notes, then the unified diff (cut when long). */
  text: string;
}

/** The diff in a result is cut after this many characters. */
export const MAX_DIFF_CHARS = 30_000;

type Disk =
  | { kind: 'absent'; dangling: boolean }
  | { kind: 'file'; bytes: Buffer; mode: number; uid: number; gid: number }
  | { kind: 'dir' }
  | { kind: 'other' };

type State =
  | { kind: 'absent' }
  | { kind: 'file'; bytes?: Buffer; text?: string; bom: boolean; mode?: number; uid?: number; gid?: number };

interface Plan {
  ops: FileOp[];
  notes: string[];
  disk: Map<SafePath, Disk>;
  final: Map<SafePath, State>;
}

/** Plans and commits `hunks`; on any failure nothing is left changed. */
export async function applyHunks(hunks: readonly Hunk[], env: PatchEnv): Promise<Result<PatchOutcome>> {
  const plan = await planHunks(hunks, env);
  if (!plan.ok) return plan;
  if (env.signal?.aborted) return fail('cancelled', 'The call was cancelled before the patch was written; nothing was changed.');
  const committed = await commitPlan(plan.value, env);
  if (!committed.ok) return committed;
  const { ops, notes } = plan.value;
  return ok({ ops, notes, text: renderOutcome(ops, notes) });
}

/** Step 1: every file's final content, in memory. */
export async function planHunks(hunks: readonly Hunk[], env: PatchEnv): Promise<Result<Plan>> {
  const disk = new Map<SafePath, Disk>();
  const final = new Map<SafePath, State>();
  const ops: FileOp[] = [];
  const notes: string[] = [];

  const resolve = async (requested: string, hunk: Hunk): Promise<Result<SafePath>> => {
    const r = await env.resolve(requested);
    return r.ok ? r : fail(r.error.code, `${label(hunk)}: ${r.error.message}`, joinHints(r.error.hint, 'Nothing was changed.'));
  };
  const load = async (p: SafePath, hunk: Hunk): Promise<Result<State | Disk>> => {
    const known = final.get(p);
    if (known) return ok(known);
    let d = disk.get(p);
    if (!d) {
      const read = await readDisk(p, env.show(p));
      if (!read.ok) return fail(read.error.code, `${label(hunk)}: ${read.error.message}`, joinHints(read.error.hint, 'Nothing was changed.'));
      d = read.value;
      disk.set(p, d);
    }
    return ok(d);
  };
  /** The target of an add or move must not be a directory, a special file or a dangling link. */
  const writable = (s: State | Disk, shown: string, hunk: Hunk): Result<void> => {
    if (s.kind === 'dir') return fail('is_directory', `${label(hunk)}: ${shown} is a directory.`, 'Nothing was changed.');
    if (s.kind === 'other') return fail('not_a_file', `${label(hunk)}: ${shown} exists and is not a regular file.`, 'Nothing was changed.');
    if (s.kind === 'absent' && 'dangling' in s && s.dangling) {
      return fail('symlink_target', `${label(hunk)}: ${shown} is a symbolic link whose target does not exist.`, 'Nothing was changed. Remove the link or use a real path.');
    }
    return ok(undefined);
  };
  /** An update or delete source must be an existing regular file. */
  const existing = (s: State | Disk, shown: string, hunk: Hunk): Result<Extract<State | Disk, { kind: 'file' }>> => {
    if (s.kind === 'file') return ok(s);
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

  for (const hunk of hunks) {
    const src = await resolve(hunk.path, hunk);
    if (!src.ok) return src;
    const p = src.value;
    const shown = env.show(p);
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

    const file = existing(current.value, shown, hunk);
    if (!file.ok) return file;

    if (hunk.kind === 'delete') {
      final.set(p, { kind: 'absent' });
      ops.push({ code: 'D', path: shown, diff: deleteDiff(shown, textOf(file.value)) });
      continue;
    }

    // Update, possibly with a move.
    const text = textOf(file.value);
    if (text === undefined) {
      const decoded = file.value.bytes ? decodeText(file.value.bytes, shown) : undefined;
      const why = decoded && !decoded.ok ? decoded.error : { code: 'not_text', message: `${shown} is not a text file.` };
      return fail(why.code, `${label(hunk)}: ${why.message}`, 'Nothing was changed. Use write_file to replace it whole.');
    }
    let update: FileUpdate | undefined;
    if (hunk.chunks.length > 0) {
      const updated = applyChunks(text, hunk.chunks, shown);
      if (!updated.ok) return updated;
      update = updated.value;
      for (const l of update.loose) {
        notes.push(`Note: the chunk at patch line ${l.line} matched ${shown} only ${MATCH_LEVELS[l.level]}; check the diff.`);
      }
    }
    const base = { kind: 'file' as const, ...ownership(file.value), bom: bomOf(file.value) };
    const unchangedBytes = file.value.bytes;
    const next: State = update ? { ...base, text: update.text } : unchangedBytes ? { ...base, bytes: unchangedBytes } : { ...base, text };

    let target = p;
    let targetShown = shown;
    if (hunk.moveTo !== undefined) {
      const dst = await resolve(hunk.moveTo, hunk);
      if (!dst.ok) return dst;
      if (dst.value !== p) {
        target = dst.value;
        targetShown = env.show(target);
        const there = await load(target, hunk);
        if (!there.ok) return there;
        const w = writable(there.value, targetShown, hunk);
        if (!w.ok) return w;
        final.set(p, { kind: 'absent' });
      }
    }
    final.set(target, next);
    const diff = update ? diffReplacements(`a/${shown}`, `b/${targetShown}`, update.before, update.after, update.replacements) : '';
    ops.push(target === p ? { code: 'M', path: shown, diff } : { code: 'M', path: targetShown, from: shown, diff });
  }
  return ok({ ops, notes, disk, final });
}

/** Steps 2 and 3: writes the plan; on a failure, undoes what was done. */
export async function commitPlan(plan: Plan, env: PatchEnv): Promise<Result<void>> {
  const io = env.io ?? nodePatchIo;
  const unlinks: SafePath[] = [];
  const writes: Array<{ p: SafePath; data: Buffer; opts: AtomicWriteOptions }> = [];
  for (const [p, state] of plan.final) {
    const d = plan.disk.get(p)!;
    if (state.kind === 'absent') {
      if (d.kind === 'file') unlinks.push(p);
      continue;
    }
    const data = state.text !== undefined ? encodeText(state.text, state.bom) : state.bytes!;
    const mode = state.mode ?? (d.kind === 'file' ? d.mode : undefined);
    if (d.kind === 'file' && d.bytes.equals(data) && mode === d.mode) continue;
    const opts: AtomicWriteOptions = mode === undefined ? {} : { mode };
    const uid = state.uid ?? (d.kind === 'file' ? d.uid : undefined);
    const gid = state.gid ?? (d.kind === 'file' ? d.gid : undefined);
    if (uid !== undefined && gid !== undefined) Object.assign(opts, { uid, gid });
    writes.push({ p, data, opts });
  }

  const undo: Array<{ what: string; run: () => Promise<void> }> = [];
  const restore = (p: SafePath) => {
    const d = plan.disk.get(p) as Extract<Disk, { kind: 'file' }>;
    return { what: `restore ${env.show(p)}`, run: () => io.writeFile(p, d.bytes, { mode: d.mode, uid: d.uid, gid: d.gid }) };
  };
  let failedAt = '';
  try {
    for (const p of unlinks) {
      failedAt = env.show(p);
      await io.unlink(p);
      undo.push(restore(p));
    }
    for (const w of writes) {
      failedAt = env.show(w.p);
      const created = await io.makeParents(path.dirname(w.p));
      if (created.length > 0) {
        undo.push({
          what: `remove ${created.map((d) => env.show(d)).join(', ')}`,
          run: async () => {
            for (const dir of [...created].reverse()) await io.rmdir(dir);
          },
        });
      }
      await io.writeFile(w.p, w.data, w.opts);
      undo.push(plan.disk.get(w.p)!.kind === 'file' ? restore(w.p) : { what: `remove ${env.show(w.p)}`, run: () => io.unlink(w.p) });
    }
  } catch (err) {
    const cause = writeFailure(err, failedAt).error;
    const unrestored: string[] = [];
    for (const u of undo.reverse()) {
      try {
        await u.run();
      } catch (e) {
        unrestored.push(`${u.what} (${(e as Error).message})`);
      }
    }
    if (unrestored.length > 0) {
      return fail(
        'patch_partial',
        `${cause.message} Undoing the files already written failed for: ${unrestored.join('; ')}. The other files were restored.`,
        'Check those files (git_status / git_diff) before retrying.',
      );
    }
    return fail(cause.code, `${cause.message} The files already written were restored; nothing was changed.`, cause.hint);
  }
  return ok(undefined);
}

/** The Codex summary, any notes, then the diff. */
export function renderOutcome(ops: readonly FileOp[], notes: readonly string[]): string {
  const line = (op: FileOp) => `${op.code} ${op.path}${op.from ? ` (moved from ${op.from})` : ''}`;
  const order = ['A', 'M', 'D'] as const;
  const summary = order.flatMap((c) => ops.filter((o) => o.code === c).map(line));
  const diff = ops.map((o) => o.diff).join('');
  const parts = [`Success. Updated the following files:\n${summary.join('\n')}`];
  if (notes.length > 0) parts.push(notes.join('\n'));
  if (diff) parts.push(capDiff(diff, MAX_DIFF_CHARS, 'use git_diff or read_file to see the rest').trimEnd());
  return parts.join('\n\n');
}

async function readDisk(p: SafePath, shown: string): Promise<Result<Disk>> {
  let info;
  try {
    info = await stat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const link = await lstat(p).then((l) => l.isSymbolicLink(), () => false);
      return ok({ kind: 'absent', dangling: link });
    }
    return fail('io_error', `cannot read ${shown}: ${(err as Error).message}`);
  }
  if (info.isDirectory()) return ok({ kind: 'dir' });
  if (!info.isFile()) return ok({ kind: 'other' });
  if (info.size > MAX_EDIT_BYTES) {
    return fail('too_large', `${shown} is ${formatBytes(info.size)}; apply_patch changes files up to ${formatBytes(MAX_EDIT_BYTES)}.`, 'Use exec_command for files this large.');
  }
  try {
    return ok({ kind: 'file', bytes: await readFile(p), mode: info.mode & 0o7777, uid: info.uid, gid: info.gid });
  } catch (err) {
    return fail('io_error', `cannot read ${shown}: ${(err as Error).message}`);
  }
}

/** Decoded text of a file state, or undefined when it is not UTF-8 text. Caches the decoding. */
function textOf(s: State | Disk): string | undefined {
  if (s.kind !== 'file') return undefined;
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

function bomOf(s: State | Disk): boolean {
  if (s.kind !== 'file') return false;
  if ('bom' in s) return s.bom;
  return s.bytes[0] === 0xef && s.bytes[1] === 0xbb && s.bytes[2] === 0xbf;
}

function ownership(s: Extract<State | Disk, { kind: 'file' }>): { mode?: number; uid?: number; gid?: number } {
  const out: { mode?: number; uid?: number; gid?: number } = {};
  if (s.mode !== undefined) out.mode = s.mode;
  if (s.uid !== undefined) out.uid = s.uid;
  if (s.gid !== undefined) out.gid = s.gid;
  return out;
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

function label(hunk: Hunk): string {
  const kind = hunk.kind === 'add' ? 'Add' : hunk.kind === 'delete' ? 'Delete' : 'Update';
  return `*** ${kind} File: ${hunk.path} (patch line ${hunk.line})`;
}

function joinHints(...hints: Array<string | undefined>): string {
  return hints.filter(Boolean).join(' ');
}

