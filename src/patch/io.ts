// The filesystem operations a patch commit, and the recovery of a crashed one, make on the
// workspace: one object, so tests can replace it to fail midway.
import { confined, makeParents, writeFileAtomic, type AtomicWriteOptions } from '../fs/index.js';

/** The filesystem operations a commit uses; tests replace them to fail midway. */
export interface PatchIo {
  writeFile(file: string, data: Uint8Array, opts: AtomicWriteOptions): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  /** Creates missing parents of a file's directory; returns those it created, outermost first. */
  makeParents(dir: string): Promise<string[]>;
  rmdir(dir: string): Promise<void>;
}

/** Each operation through the verified parent directory of its path (fs/confined.ts), never by walking the path again. */
export const nodePatchIo: PatchIo = { writeFile: writeFileAtomic, rename: confined.rename, unlink: confined.unlink, makeParents, rmdir: confined.rmdir };
