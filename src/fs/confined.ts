// Every effect of a file tool lands on the object its path check saw.
//
// src/sandbox/paths.ts resolves a requested path to a real path and checks it against the roots.
// Using that path again by name would walk it again: in between, a process in the sandbox can
// swap a directory on the way for a symlink that leads out of the workspace (shown to read, write
// and delete outside the roots). So nothing here walks a checked path by name more than once:
//
// 1. The parent directory of the path is opened (O_PATH, the last component not followed) and the
//    kernel is asked what it opened (`/proc/self/fd/N`). Unless that is exactly the checked path,
//    the call fails with ERACED and nothing was touched.
// 2. The effect (open, create, rename, unlink, mkdir, lstat, readdir) then names the last
//    component relative to that descriptor, as `/proc/self/fd/N/<name>`, never following a link
//    there (O_NOFOLLOW; rename, unlink, lstat and readlink never follow the last component).
//
// Node has no openat(2); `/proc/self/fd/N/<name>` is how Linux offers the same lookup through a
// path: the kernel resolves the magic link to the open directory itself, then one name inside it.
// A process in the sandbox cannot move what was opened out of the roots afterwards: every writable
// root is a mount of its own there, and rename(2) never crosses mounts.
//
// Callers pass real, checked paths (SafePath): a path whose directories are symlinks fails with
// ERACED (the kernel names the directory by its real path), which is also what a swap looks like.
import { closeSync, constants, openSync, readlinkSync } from 'node:fs';
import { lstat as lstatAt, open as openAt, readdir as readdirAt, readlink as readlinkAt, rename as renameAt, rmdir as rmdirAt, unlink as unlinkAt } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import path from 'node:path';
import { fail, type Failure } from '../util/result.js';

/** The error code of an operation refused because a directory on the path changed after the check. */
export const RACED = 'ERACED';

/** O_PATH: a descriptor that only names a place (no read or write), fine for directories we may not list. (libuv adds O_CLOEXEC to every open.) */
const O_PATH = 0o10000000;
const { O_DIRECTORY, O_NOFOLLOW, O_RDONLY, O_NONBLOCK } = constants;

/** A directory held open after its path was verified; names inside it resolve relative to it. */
export class PinnedDir {
  private constructor(
    readonly real: string,
    private fd: number,
  ) {}

  /**
   * Opens the directory at the checked real path `real` and verifies it is that directory. `list`
   * opens it readable (for readdir); otherwise as O_PATH, which needs no read permission.
   */
  static open(real: string, list = false): PinnedDir {
    if (!path.isAbsolute(real)) throw new Error(`PinnedDir needs an absolute path, got ${real}`);
    const flags = (list ? O_RDONLY | O_NONBLOCK : O_PATH) | O_DIRECTORY | O_NOFOLLOW;
    const fd = openSync(path.normalize(real), flags);
    try {
      verify(fd, real);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new PinnedDir(path.normalize(real), fd);
  }

  /** A subdirectory `name` of this one, opened relative to it (so it is inside by construction). */
  child(name: string, list = false): PinnedDir {
    const flags = (list ? O_RDONLY | O_NONBLOCK : O_PATH) | O_DIRECTORY | O_NOFOLLOW;
    return new PinnedDir(path.join(this.real, name), openSync(this.at(name), flags));
  }

  /** `name` (one path component) inside this directory, as a path the kernel resolves through the descriptor. */
  at(name: string): string {
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw new Error(`not a single path component: ${JSON.stringify(name)}`);
    }
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  /** The directory itself, as a path through the descriptor (for readdir). */
  get self(): string {
    return `/proc/self/fd/${this.fd}`;
  }

  readdir(): Promise<Dirent[]> {
    return readdirAt(this.self, { withFileTypes: true });
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    closeSync(fd);
  }
}

/** Throws ERACED unless descriptor `fd` is open on exactly `real`. */
function verify(fd: number, real: string): void {
  const actual = readlinkSync(`/proc/self/fd/${fd}`);
  if (actual !== path.normalize(real)) throw raced(real);
}

function raced(real: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${real} changed while it was being used (a directory on the way was moved or replaced by a symbolic link)`), {
    code: RACED,
    path: real,
  });
}

/** Runs `fn` with `real`'s parent pinned and `real`'s last component resolved through it. */
async function inParent<T>(real: string, fn: (at: string, dir: PinnedDir) => Promise<T>): Promise<T> {
  const dir = PinnedDir.open(path.dirname(real));
  try {
    return await fn(dir.at(path.basename(real)), dir);
  } finally {
    dir.close();
  }
}

/** inParent, synchronous. */
function inParentSync<T>(real: string, fn: (at: string, dir: PinnedDir) => T): T {
  const dir = PinnedDir.open(path.dirname(real));
  try {
    return fn(dir.at(path.basename(real)), dir);
  } finally {
    dir.close();
  }
}

/** lstat of a checked path (the last component is not followed). */
export const lstat = (real: string): Promise<Stats> => inParent(real, (at) => lstatAt(at));

/** readlink of a checked path. */
export const readlink = (real: string): Promise<string> => inParent(real, (at) => readlinkAt(at));

export const unlink = (real: string): Promise<void> => inParent(real, (at) => unlinkAt(at));

export const rmdir = (real: string): Promise<void> => inParent(real, (at) => rmdirAt(at));

/** Renames one checked entry to another; neither last component is followed (rename(2) never does). */
export async function rename(from: string, to: string): Promise<void> {
  await inParent(from, (src) => inParent(to, (dst) => renameAt(src, dst)));
}

/**
 * Opens a checked path for reading without following a link at its last component (ELOOP if it is
 * one) and without blocking on a FIFO. Synchronous: a few microseconds of local work each.
 */
export function openForRead(real: string): number {
  return inParentSync(real, (at) => openSync(at, O_RDONLY | O_NONBLOCK | O_NOFOLLOW));
}

/** Reads a whole checked file (a link at its last component is refused with ELOOP). */
export function readFile(real: string): Promise<Buffer> {
  return inParent(real, readThrough);
}

/** Reads a whole file named through a pinned directory (`PinnedDir.at`), not following a link there. */
export async function readThrough(at: string): Promise<Buffer> {
  const handle = await openAt(at, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** A path that changed between its check and its use: nothing was read or written through it. */
export function changedMeanwhile(shownPath: string): { ok: false; error: Failure } {
  return fail(
    'path_changed',
    `${shownPath} changed while it was being used (a directory on the way, or the file itself, was moved or replaced by a symbolic link); nothing was done through it.`,
    'Another process is changing this path right now. Check it with list_dir and try again.',
  );
}
