// Writes files atomically: the new bytes go to a temporary file in the target's own directory,
// which is then renamed over the target, so a reader (or a crash) sees the old file or the new one,
// never half of either. The target keeps its permission bits (and, when we may, its owner).
// Paths arrive already checked (SafePath); this module does not decide what may be written.
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, open, rename, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { SafePath } from '../sandbox/index.js';
import { fail, ok, type Failure, type Result } from '../util/result.js';
import { refuseDanglingLink } from './text.js';

export interface AtomicWriteOptions {
  /** Permission bits for the file; default: the existing file's, or 0o666 minus the umask for a new one. */
  mode?: number;
  /** Owner to restore (best effort; only possible when running with the rights to do so). */
  uid?: number;
  gid?: number;
}

export interface WriteOutcome {
  bytes: number;
  created: boolean;
  /** Size of the file that was replaced. */
  previousBytes?: number;
}

/**
 * Writes `data` to `file` through a temp file in the same directory and a rename. The parent
 * directory must exist. Throws the underlying error (the temp file is removed first).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  // Keep the temp name within NAME_MAX (255) whatever the target's name length.
  const tmp = path.join(dir, `.${path.basename(file).slice(0, 120)}.${randomBytes(6).toString('hex')}.agentbox-tmp`);
  let mode = opts.mode;
  let uid = opts.uid;
  let gid = opts.gid;
  if (mode === undefined) {
    const existing = await stat(file).catch(() => undefined);
    if (existing?.isFile()) {
      mode = existing.mode & 0o7777;
      uid ??= existing.uid;
      gid ??= existing.gid;
    }
  }
  // 'wx' refuses to follow or reuse anything already at the temp name.
  const handle = await open(tmp, 'wx', mode ?? 0o666);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (mode !== undefined) await chmod(tmp, mode);
    if (uid !== undefined && gid !== undefined && (uid !== process.getuid?.() || gid !== process.getgid?.())) {
      await chown(tmp, uid, gid).catch(() => undefined);
      // chown clears set-id bits; put the mode back.
      if (mode !== undefined) await chmod(tmp, mode).catch(() => undefined);
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Creates `dir` and any missing parents; returns the directories it created, outermost first. */
export async function makeParents(dir: string): Promise<string[]> {
  const missing: string[] = [];
  let current = dir;
  for (;;) {
    const info = await stat(current).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (info) {
      if (!info.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', path: current });
      break;
    }
    missing.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  const toCreate = missing.reverse();
  const created: string[] = [];
  try {
    for (const d of toCreate) {
      await mkdir(d);
      created.push(d);
    }
  } catch (err) {
    // Leave nothing half-made behind.
    for (const d of created.reverse()) await rmdir(d).catch(() => undefined);
    throw err;
  }
  return toCreate;
}

/** write_file's core: writes `content` to `file`, creating parent directories. */
export async function writeTextFile(file: SafePath, shownPath: string, content: string): Promise<Result<WriteOutcome>> {
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory()) return fail('is_directory', `Cannot write ${shownPath}: it is a directory.`);
  if (existing && !existing.isFile()) return fail('not_a_file', `Cannot write ${shownPath}: it is not a regular file.`);
  if (!existing) {
    const link = await refuseDanglingLink(file, shownPath);
    if (!link.ok) return link;
  }
  const data = Buffer.from(content, 'utf8');
  try {
    await makeParents(path.dirname(file));
    await writeFileAtomic(file, data);
  } catch (err) {
    return writeFailure(err, shownPath);
  }
  return ok(existing ? { bytes: data.length, created: false, previousBytes: existing.size } : { bytes: data.length, created: true });
}

/** Maps an I/O error from a write to a failure a model can act on. */
export function writeFailure(err: unknown, shownPath: string): { ok: false; error: Failure } {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOTDIR':
      return fail('not_a_directory', `Cannot write ${shownPath}: a parent path is a file, not a directory.`);
    case 'EISDIR':
      return fail('is_directory', `Cannot write ${shownPath}: it is a directory.`);
    case 'EACCES':
    case 'EPERM':
      return fail('permission_denied', `Cannot write ${shownPath}: permission denied.`);
    case 'EROFS':
      return fail('read_only_fs', `Cannot write ${shownPath}: the file system is read-only.`);
    case 'ENOSPC':
    case 'EDQUOT':
      return fail('no_space', `Cannot write ${shownPath}: no space left on the device.`);
    default:
      return fail('io_error', `Cannot write ${shownPath}: ${e.message}`);
  }
}
