// Writes files atomically: the new bytes go to a temporary file in the target's own directory,
// which is then renamed over the target, so a reader (or a crash) sees the old file or the new one,
// never half of either. The target keeps its permission bits (and, when we may, its owner).
// Just before the rename, a caller that read the file first can have the write check that the
// file still holds what it read (`unchanged`), so a change made meanwhile by another process is
// never silently overwritten. Paths arrive already checked (SafePath); this module does not decide
// what may be written.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { SafePath } from '../sandbox/index.js';
import { fail, ok, type Failure, type Result } from '../util/result.js';
import * as confined from './confined.js';
import { changedMeanwhile, PinnedDir, RACED, readThrough } from './confined.js';
import type { FileLocks } from './lock.js';

export interface AtomicWriteOptions {
  /** Permission bits for the file; default: the existing file's, or 0o666 minus the umask for a new one. */
  mode?: number;
  /** Owner to restore (best effort; only possible when running with the rights to do so). */
  uid?: number;
  gid?: number;
  /** What the target must still be just before the rename; otherwise the write fails with code ECHANGED. */
  unchanged?: OnDisk;
  /** The temp file's name (from tempNameFor), when the caller recorded it beforehand; default: a fresh one. */
  tmp?: string;
}

/**
 * Where write_file and edit_file record a temp name (and the parent directories a write may
 * create) before they exist, so that a crash in the middle leaves nothing behind: the next start
 * removes them (patch/journal.ts).
 */
export interface TempRecord {
  /** Settles what a crashed server left (call before taking file locks: it takes them itself). */
  ready(): Promise<void>;
  /** Runs `write` (which may create `file`'s missing parents) with a temp name for `file`, recorded until `write` settles. */
  withTemp<T>(file: string, write: (tmp: string) => Promise<T>): Promise<T>;
}

/** What a caller saw at a path when it read it: nothing, a file's bytes (or, for a file not read, its identity), a symlink. */
export type OnDisk =
  | { kind: 'absent' }
  | { kind: 'file'; bytes: Uint8Array }
  | { kind: 'same-file'; ino: number; size: number; mtimeMs: number }
  | { kind: 'link'; target: string };

/** The error code of a write refused because the target changed since it was read. */
export const CHANGED = 'ECHANGED';

export interface WriteOutcome {
  bytes: number;
  created: boolean;
  /** Size of the file that was replaced. */
  previousBytes?: number;
}

/**
 * Writes `data` to `file` through a temp file in the same directory and a rename. The parent
 * directory must exist. Throws the underlying error (the temp file is removed first). Every step
 * goes through the parent directory's verified descriptor (confined.ts): the temp file, its mode
 * and owner, the unchanged check and the rename all act on that directory, whatever happens to
 * the path meanwhile.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const name = path.basename(file);
  // A temp name the caller chose (and recorded, journal.ts) or a fresh one; always in the file's own directory.
  const tmpName = path.basename(opts.tmp ?? tempNameFor(file));
  const dir = PinnedDir.open(path.dirname(file));
  try {
    let mode = opts.mode;
    let uid = opts.uid;
    let gid = opts.gid;
    if (mode === undefined) {
      // lstat: a symlink being replaced (a patch deleting a link, then adding a file by its name) gives no mode.
      const existing = await lstat(dir.at(name)).catch(() => undefined);
      if (existing?.isFile()) {
        mode = existing.mode & 0o7777;
        uid ??= existing.uid;
        gid ??= existing.gid;
      }
    }
    // O_EXCL | O_NOFOLLOW: nothing already at the temp name is followed or reused.
    const handle = await open(dir.at(tmpName), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode ?? 0o666);
    try {
      try {
        await handle.writeFile(data);
        // On the descriptor, not the name: another process may have put something else there.
        if (mode !== undefined) await handle.chmod(mode);
        if (uid !== undefined && gid !== undefined && (uid !== process.getuid?.() || gid !== process.getgid?.())) {
          await handle.chown(uid, gid).catch(() => undefined);
          // chown clears set-id bits; put the mode back.
          if (mode !== undefined) await handle.chmod(mode).catch(() => undefined);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (opts.unchanged) await assertUnchangedAt(dir, name, opts.unchanged, file);
      await rename(dir.at(tmpName), dir.at(name));
    } catch (err) {
      await unlink(dir.at(tmpName)).catch(() => undefined);
      throw err;
    }
  } finally {
    dir.close();
  }
}

/** A fresh hidden temp name next to `file` for an atomic write of it. */
export function tempNameFor(file: string): string {
  // Keep the temp name within NAME_MAX (255) whatever the target's name length.
  return path.join(path.dirname(file), `.${path.basename(file).slice(0, 120)}.${randomBytes(6).toString('hex')}.agentbox-tmp`);
}

/** Throws an ECHANGED error unless `file` is still what `seen` describes (compared byte for byte; links are not followed). */
export async function assertUnchanged(file: string, seen: OnDisk): Promise<void> {
  const dir = PinnedDir.open(path.dirname(file));
  try {
    await assertUnchangedAt(dir, path.basename(file), seen, file);
  } finally {
    dir.close();
  }
}

async function assertUnchangedAt(dir: PinnedDir, name: string, seen: OnDisk, file: string): Promise<void> {
  if (!(await isUnchanged(dir.at(name), seen))) {
    throw Object.assign(new Error(`${file} changed since it was read`), { code: CHANGED, path: file });
  }
}

/** `at` is a name inside a pinned directory (PinnedDir.at). */
async function isUnchanged(at: string, seen: OnDisk): Promise<boolean> {
  const info = await lstat(at).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
  if (seen.kind === 'absent') return info === undefined;
  if (seen.kind === 'link') return info?.isSymbolicLink() === true && (await readlink(at)) === seen.target;
  if (seen.kind === 'same-file') return info?.isFile() === true && info.ino === seen.ino && info.size === seen.size && info.mtimeMs === seen.mtimeMs;
  if (!info?.isFile() || info.size !== seen.bytes.length) return false;
  return Buffer.from(seen.bytes.buffer, seen.bytes.byteOffset, seen.bytes.length).equals(await readThrough(at));
}

/**
 * Creates `dir` and any missing parents; returns the directories it created, outermost first.
 * The deepest existing ancestor is opened and verified, and each missing directory is made and
 * entered relative to the one before (never through a link), so none can land outside.
 */
export async function makeParents(dir: string): Promise<string[]> {
  const missing: string[] = [];
  let current = dir;
  let base: PinnedDir | undefined;
  for (;;) {
    try {
      base = PinnedDir.open(current);
      break;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOTDIR' || e.code === 'ELOOP') throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', path: current });
      if (e.code !== 'ENOENT') throw err;
    }
    missing.push(path.basename(current));
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  if (!base) return [];
  const created: string[] = [];
  let at = base;
  try {
    for (const name of missing.reverse()) {
      await mkdir(at.at(name));
      created.push(path.join(at.real, name));
      const next = at.child(name);
      at.close();
      at = next;
    }
  } catch (err) {
    // Leave nothing half-made behind.
    at.close();
    for (const d of [...created].reverse()) await confined.rmdir(d).catch(() => undefined);
    throw err;
  }
  at.close();
  return created;
}

/**
 * write_file's core: writes `content` to `file`, creating parent directories. It holds the file's
 * lock, so it never lands in the middle of an edit_file or apply_patch of the same file. (The path
 * check has already followed every symlink, dangling ones included, so `file` is not a link.)
 */
export async function writeTextFile(file: SafePath, shownPath: string, content: string, locks: FileLocks, temps?: TempRecord): Promise<Result<WriteOutcome>> {
  await temps?.ready();
  return locks.run([file], async () => {
    const existing = await confined.lstat(file).catch(() => undefined);
    if (existing?.isDirectory()) return fail('is_directory', `Cannot write ${shownPath}: it is a directory.`);
    if (existing && !existing.isFile()) return fail('not_a_file', `Cannot write ${shownPath}: it is not a regular file.`);
    const data = Buffer.from(content, 'utf8');
    try {
      // The mode and owner to keep are the ones just read: no second stat.
      const opts: AtomicWriteOptions = existing ? { mode: existing.mode & 0o7777, uid: existing.uid, gid: existing.gid } : {};
      const write = async (tmp?: string) => {
        await makeParents(path.dirname(file));
        await writeFileAtomic(file, data, tmp ? { ...opts, tmp } : opts);
      };
      await (temps ? temps.withTemp(file, write) : write());
    } catch (err) {
      return writeFailure(err, shownPath);
    }
    return ok(existing ? { bytes: data.length, created: false, previousBytes: existing.size } : { bytes: data.length, created: true });
  });
}

/**
 * True when a path written for a file names a directory (`dir/`, `dir/.`, `..`): path checks
 * normalise it, which would turn `dir/` into a file named `dir`.
 */
export function namesDirectory(requested: string): boolean {
  return requested !== '' && /(^|\/)(\.\.?)?$/.test(requested);
}

/** Refuses a file path that names a directory (see namesDirectory). */
export function refuseDirectoryPath(requested: string): Result<void> {
  if (namesDirectory(requested)) {
    return fail('is_directory', `Cannot write ${requested}: it names a directory, not a file.`, "Give the file's own path, e.g. dir/name.txt (no trailing slash).");
  }
  return ok(undefined);
}

/** Maps an I/O error from a write (or, with `verb`, a delete) to a failure a model can act on. */
export function writeFailure(err: unknown, shownPath: string, verb: 'write' | 'delete' = 'write'): { ok: false; error: Failure } {
  const e = err as NodeJS.ErrnoException;
  const cannot = `Cannot ${verb} ${shownPath}`;
  switch (e.code) {
    case CHANGED:
      return fail('changed', `${shownPath} changed since it was read; nothing was changed.`, 'Another tool call or process changed it meanwhile: read it again and redo the change.');
    case RACED:
      return changedMeanwhile(shownPath);
    case 'ENOTDIR':
      return fail('not_a_directory', `${cannot}: a parent path is a file, not a directory.`);
    case 'EISDIR':
      return fail('is_directory', `${cannot}: it is a directory.`);
    case 'EACCES':
    case 'EPERM':
      return fail('permission_denied', `${cannot}: permission denied.`);
    case 'EROFS':
      return fail('read_only_fs', `${cannot}: the file system is read-only.`);
    case 'ENOSPC':
    case 'EDQUOT':
      return fail('no_space', `${cannot}: no space left on the device.`);
    default:
      return fail('io_error', `${cannot}: ${e.message}`);
  }
}
