// Applies a parsed patch to the filesystem: every file or none.
//
// 1. Resolve: every path, move targets included, goes through the caller's path check. A Delete,
//    or a Move's source, that names a symlink acts on the link itself (as in Codex): only its
//    directory is checked, and the link is removed, not what it points to. Updates and adds follow
//    links (and are refused when a link leads out of the workspace).
// 2. Lock: the lock of every path the patch touches is taken (in sorted order, so two patches
//    never deadlock) and held until the commit is over: no other write tool call of this server
//    changes these files between our read and our write.
// 3. Plan: the hunks run in order against an in-memory view of the files (the disk as first read,
//    overlaid with what earlier hunks did), so a later hunk sees an earlier one's result exactly
//    as if they had been written one by one. Update and delete sources must exist as files.
//    Nothing is written while planning, and any failure (parse, path, missing context) ends here.
// 4. Commit: deletions first, then each new or changed file, written atomically (temp file +
//    rename) with its mode kept, creating missing parent directories. Files whose final bytes equal
//    the disk's are not touched. Just before each unlink or rename, the path must still hold what
//    the plan read (another process may have changed it); if not, the commit stops there.
// 5. Restore: if a write fails midway, everything done so far is undone in reverse order (files
//    put back with their bytes and mode, new files and directories removed) and the error says so.
import { lstat, readFile, readlink, rmdir, stat, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import {
  assertUnchanged,
  CHANGED,
  decodeText,
  encodeText,
  makeParents,
  MAX_EDIT_BYTES,
  writeFailure,
  writeFileAtomic,
  type AtomicWriteOptions,
  type FileLocks,
  type OnDisk,
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
  /** Puts a removed symlink back (undo). */
  symlink(target: string, file: string): Promise<void>;
}

export const nodePatchIo: PatchIo = { writeFile: writeFileAtomic, unlink, makeParents, rmdir, symlink: (target, file) => symlink(target, file) };

export interface PatchEnv {
  /** The path check for a path named in the patch (resolveForWrite with the session's policy). */
  resolve(requested: string): Promise<Result<SafePath>>;
  /** The path check for a path removed rather than written (resolveEntryForWrite): a symlink there is the answer itself, not followed. */
  resolveEntry(requested: string): Promise<Result<SafePath>>;
  /** How a real path is shown to the model. */
  show(absolute: string): string;
  /** The server's per-file locks (fileLocks(runtime)), held from the first read to the last write. */
  locks: FileLocks;
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
  | { kind: 'absent' }
  | { kind: 'file'; bytes: Buffer; mode: number; uid: number; gid: number }
  /** A symlink itself (only ever at a path a Delete or Move removes). */
  | { kind: 'link'; target: string }
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

/** Where one hunk reads and writes, after the path check. */
export interface HunkPaths {
  /** The file the hunk adds, deletes or updates (for a Delete of a symlink: the link). */
  path: SafePath;
  /** An update's Move to destination. */
  moveTo?: SafePath;
  /** A Move whose source is a symlink: the link, removed once its target's content is moved. */
  link?: SafePath;
}

/** Resolves, locks, plans and commits `hunks`; on any failure nothing is left changed. */
export async function applyHunks(hunks: readonly Hunk[], env: PatchEnv): Promise<Result<PatchOutcome>> {
  const paths = await resolveHunks(hunks, env);
  if (!paths.ok) return paths;
  const touched = paths.value.flatMap((p) => [p.path, p.moveTo, p.link].filter((x): x is SafePath => x !== undefined));
  return env.locks.run(touched, async () => {
    const plan = await planHunks(hunks, paths.value, env);
    if (!plan.ok) return plan;
    if (env.signal?.aborted) return fail('cancelled', 'The call was cancelled before the patch was written; nothing was changed.');
    const committed = await commitPlan(plan.value, env);
    if (!committed.ok) return committed;
    const { ops, notes } = plan.value;
    return ok({ ops, notes, text: renderOutcome(ops, notes) });
  });
}

/** Step 1: every path of every hunk through the caller's path check. */
export async function resolveHunks(hunks: readonly Hunk[], env: PatchEnv): Promise<Result<HunkPaths[]>> {
  const resolve = async (requested: string, hunk: Hunk): Promise<Result<SafePath>> => {
    const r = await env.resolve(requested);
    return r.ok ? r : fail(r.error.code, `${label(hunk)}: ${r.error.message}`, joinHints(r.error.hint, 'Nothing was changed.'));
  };
  const resolveEntry = async (requested: string, hunk: Hunk): Promise<Result<SafePath>> => {
    const r = await env.resolveEntry(requested);
    return r.ok ? r : fail(r.error.code, `${label(hunk)}: ${r.error.message}`, joinHints(r.error.hint, 'Nothing was changed.'));
  };
  // Links this patch deletes: a later hunk naming the same path means the (then missing) link's
  // own name, as it would if the hunks ran one by one, not the link's old target.
  const removedLinks = new Set<SafePath>();
  const resolveAfterRemovals = async (requested: string, hunk: Hunk): Promise<Result<SafePath>> => {
    if (removedLinks.size > 0) {
      const entry = await env.resolveEntry(requested);
      if (entry.ok && removedLinks.has(entry.value)) return entry;
    }
    return resolve(requested, hunk);
  };

  const out: HunkPaths[] = [];
  for (const hunk of hunks) {
    if (hunk.kind === 'delete') {
      const entry = await resolveEntry(hunk.path, hunk);
      if (!entry.ok) return entry;
      const isLink = await lstat(entry.value).then((i) => i.isSymbolicLink(), () => false);
      if (isLink) removedLinks.add(entry.value);
      out.push({ path: entry.value });
      continue;
    }
    const src = await resolveAfterRemovals(hunk.path, hunk);
    if (!src.ok) return src;
    const paths: HunkPaths = { path: src.value };
    if (hunk.kind === 'update' && hunk.moveTo !== undefined) {
      const dst = await resolveAfterRemovals(hunk.moveTo, hunk);
      if (!dst.ok) return dst;
      paths.moveTo = dst.value;
      const entry = await resolveEntry(hunk.path, hunk);
      if (!entry.ok) return entry;
      if (entry.value !== src.value) {
        paths.link = entry.value;
        removedLinks.add(entry.value);
      }
    }
    out.push(paths);
  }
  return ok(out);
}

/** Step 3: every file's final content, in memory. `paths` are resolveHunks' answer for `hunks`. */
export async function planHunks(hunks: readonly Hunk[], paths: readonly HunkPaths[], env: PatchEnv): Promise<Result<Plan>> {
  const disk = new Map<SafePath, Disk>();
  const final = new Map<SafePath, State>();
  const ops: FileOp[] = [];
  const notes: string[] = [];

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
  /**
   * The target of an add or move must not be a directory or a special file. (The path check
   * followed every symlink, so a link is seen here only if one appeared since: refused too.)
   */
  const writable = (s: State | Disk, shown: string, hunk: Hunk): Result<void> => {
    if (s.kind === 'dir') return fail('is_directory', `${label(hunk)}: ${shown} is a directory.`, 'Nothing was changed.');
    if (s.kind === 'other' || s.kind === 'link') return fail('not_a_file', `${label(hunk)}: ${shown} exists and is not a regular file.`, 'Nothing was changed.');
    return ok(undefined);
  };
  /** An update or delete source must be an existing regular file (a Delete may name a symlink). */
  const existing = (s: State | Disk, shown: string, hunk: Hunk): Result<Extract<State | Disk, { kind: 'file' }>> => {
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

    if (hunk.kind === 'delete' && current.value.kind === 'link') {
      final.set(p, { kind: 'absent' });
      ops.push({ code: 'D', path: shown, diff: '' });
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

    // A move takes the source away: the file, or the symlink the patch named (its target stays).
    const { moveTo: dst, link } = paths[i]!;
    const source = link ?? p;
    const sourceShown = env.show(source);
    let target = p;
    if (dst !== undefined && dst !== source) {
      target = dst;
      if (dst !== p) {
        const there = await load(dst, hunk);
        if (!there.ok) return there;
        const w = writable(there.value, env.show(dst), hunk);
        if (!w.ok) return w;
      }
      if (link) {
        const l = await load(link, hunk);
        if (!l.ok) return l;
      }
      final.set(source, { kind: 'absent' });
    }
    final.set(target, next);
    const targetShown = env.show(target);
    const diff = update ? diffReplacements(`a/${sourceShown}`, `b/${targetShown}`, update.before, update.after, update.replacements) : '';
    ops.push(target === source ? { code: 'M', path: targetShown, diff } : { code: 'M', path: targetShown, from: sourceShown, diff });
  }
  return ok({ ops, notes, disk, final });
}

/** Steps 4 and 5: writes the plan; on a failure, undoes what was done. */
export async function commitPlan(plan: Plan, env: PatchEnv): Promise<Result<void>> {
  const io = env.io ?? nodePatchIo;
  const unlinks: SafePath[] = [];
  const writes: Array<{ p: SafePath; data: Buffer; opts: AtomicWriteOptions }> = [];
  for (const [p, state] of plan.final) {
    const d = plan.disk.get(p)!;
    if (state.kind === 'absent') {
      if (d.kind === 'file' || d.kind === 'link') unlinks.push(p);
      continue;
    }
    const data = state.text !== undefined ? encodeText(state.text, state.bom) : state.bytes!;
    const mode = state.mode ?? (d.kind === 'file' ? d.mode : undefined);
    if (d.kind === 'file' && d.bytes.equals(data) && mode === d.mode) continue;
    const opts: AtomicWriteOptions = { unchanged: seen(d) };
    if (mode !== undefined) opts.mode = mode;
    const uid = state.uid ?? (d.kind === 'file' ? d.uid : undefined);
    const gid = state.gid ?? (d.kind === 'file' ? d.gid : undefined);
    if (uid !== undefined && gid !== undefined) Object.assign(opts, { uid, gid });
    writes.push({ p, data, opts });
  }

  const undo: Array<{ what: string; run: () => Promise<void> }> = [];
  /** Puts back what the plan read at `p`: a file's bytes and mode, or a symlink. */
  const restore = (p: SafePath) => {
    const d = plan.disk.get(p)!;
    const run =
      d.kind === 'link'
        ? async () => {
            // The link was removed, or replaced by a file this patch added under its name.
            await io.unlink(p).catch(() => undefined);
            await io.symlink(d.target, p);
          }
        : d.kind === 'file'
          ? () => io.writeFile(p, d.bytes, { mode: d.mode, uid: d.uid, gid: d.gid })
          : () => io.unlink(p);
    return { what: `${d.kind === 'absent' ? 'remove' : 'restore'} ${env.show(p)}`, run };
  };
  let failedAt = '';
  try {
    for (const p of unlinks) {
      failedAt = env.show(p);
      await assertUnchanged(p, seen(plan.disk.get(p)!));
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
      undo.push(restore(w.p));
    }
  } catch (err) {
    const changed = (err as NodeJS.ErrnoException).code === CHANGED;
    const cause = writeFailure(err, failedAt).error;
    const undone = undo.length > 0;
    const unrestored: string[] = [];
    for (const u of undo.reverse()) {
      try {
        await u.run();
      } catch (e) {
        unrestored.push(`${u.what} (${(e as Error).message})`);
      }
    }
    const what = changed ? `${failedAt} changed since it was read (by another process).` : cause.message;
    if (unrestored.length > 0) {
      return fail(
        'patch_partial',
        `${what} Undoing the files already written failed for: ${unrestored.join('; ')}. The other files were restored.`,
        'Check those files (git_status / git_diff) before retrying.',
      );
    }
    if (changed && !undone) return fail(cause.code, cause.message, cause.hint);
    return fail(cause.code, `${what} The files already written were restored; nothing was changed.`, cause.hint);
  }
  return ok(undefined);
}

/** What the plan read at a path, for the check just before the commit replaces or removes it. */
function seen(d: Disk): OnDisk {
  if (d.kind === 'file') return { kind: 'file', bytes: d.bytes };
  if (d.kind === 'link') return { kind: 'link', target: d.target };
  return { kind: 'absent' };
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

/** What is at `p` itself (a symlink is not followed: paths that may be links are the ones the patch removes). */
async function readDisk(p: SafePath, shown: string): Promise<Result<Disk>> {
  let info;
  try {
    info = await lstat(p);
    if (info.isSymbolicLink()) return ok({ kind: 'link', target: await readlink(p) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return ok({ kind: 'absent' });
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

