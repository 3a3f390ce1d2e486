// Per-file locks for the write tools, so that a read-modify-write of one file (edit_file,
// apply_patch, write_file) never runs beside another on the same file in this server: without
// them, two calls read the same bytes and the second rename drops the first call's change while
// both report success. Locks are keyed by real path and live in the Runtime (one table for every
// MCP session and the delegate's subagents). They do not stop other processes; the write itself
// checks that the file is unchanged just before it commits (write.ts, `unchanged`).
import type { Runtime } from '../runtime.js';

/** An async mutex per path. */
export class FileLocks {
  /** For each locked path, a promise that settles when the last caller queued on it is done. */
  readonly #tails = new Map<string, Promise<void>>();

  /**
   * Runs `fn` holding the lock of every path in `paths`. The locks are taken one at a time in
   * sorted order, so two callers that need overlapping sets can never wait on each other in a cycle.
   */
  async run<T>(paths: readonly string[], fn: () => Promise<T>): Promise<T> {
    const keys = [...new Set(paths)].sort();
    const releases: Array<() => void> = [];
    try {
      for (const key of keys) releases.push(await this.#acquire(key));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  /** Paths locked or waited for right now (for tests: an idle table is empty). */
  get size(): number {
    return this.#tails.size;
  }

  async #acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}

/** The runtime's one lock table. */
export function fileLocks(runtime: Pick<Runtime, 'shared'>): FileLocks {
  return runtime.shared('fs.file-locks', () => new FileLocks());
}
