// Crash safety for the write tools: after a crash (SIGKILL, an OOM kill, a power cut) in the
// middle of apply_patch, write_file or edit_file, the next start leaves the workspace as it was
// before the call, never a mix of old and new files, and no temp or set-aside file behind.
//
// Records live in agentbox's home (<home>/journal/), never in the workspace, each named
// `<pid>-<start>-<id>.<kind>`. The owner's pid and start time (private-tmp.ts) tell a dead
// server's records from those of a server still running (several servers may share a home):
// only a dead owner's records are recovered.
//
// 1. apply_patch (commit.ts): before the commit's first change, one journal names every path's
//    old state (absent; the old bytes and mode when the plan holds them; set aside under a name)
//    and every name the commit may create (temp names, set-aside names, directories), chosen
//    beforehand. It is written (`.open`) and fsynced before the first change: one write and one
//    fsync per patch. Not to a temp name renamed after: the rename would need a second fsync (of
//    the directory), which doubles the cost. A journal cut short (killed while writing it, or a
//    power cut before the fsync returned) means the commit never started, and it is recognisable:
//    every strict prefix of a journal fails to decode (partialJournal); recovery deletes it. (The
//    new name itself is durable with the file's fsync on Linux's journaling filesystems, ext4, xfs
//    and btrfs, which log a new file's directory entry with its inode.) The old bytes follow a
//    JSON header raw, not in base64, to keep that write small. The caller never got an answer, so
//    recovery rolls an `.open` journal back. Once every step has succeeded, and
//    only when there are set-aside files to unlink, it is renamed `.done` (recovery then finishes
//    forward: it unlinks what is still set aside, since some of it may already be gone). Then
//    it is unlinked.
// 2. write_file and edit_file make one atomic write each, so all a crash can leave is the temp
//    file (and a write_file's new parent directories); so does an apply_patch whose commit is a
//    single write (one file updated or added), which is recorded the same way, not in a journal. Each server appends the temp name (and
//    the directories it may create) to its own list (`.temps`) with one write(2) before the temp
//    file exists, and a line when the write is over. A killed process cannot take back a
//    completed write(2), so after a kill at any moment the list names every temp file that may
//    exist. The list is not fsynced, which would double the cost of a small write: after a power
//    cut it may miss its last lines and a hidden `.agentbox-tmp` file may remain; the written
//    file itself is old or new either way (the temp file's data is fsynced before the rename).
//    This was chosen over one fsynced journal per write (the cost) and over scanning the
//    workspace for temp names at start (unbounded, and it would guess at names it did not make).
// 3. Recovery runs at server start (cli.ts, before serving) and before every write tool call that
//    finds a dead owner's record. Each record is first claimed by renaming it to this server's
//    name, so two servers never recover the same one and a crash during recovery leaves it to the
//    next server. A rollback checks what is at each path before acting, so running it again after
//    a crash in the middle ends at the same tree. It touches only the names the record lists,
//    through their own directory (rename, unlink, rmdir and lstat do not follow the last
//    component; old bytes are rewritten with the commit's own atomic write), only while that
//    directory is still the real path recorded (one swapped for a symlink since is skipped), and
//    it leaves alone a path that holds neither the old nor the new content (someone changed it
//    after the crash), saying so in the log. It holds the file locks of the paths it restores.
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, realpath, rename, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { confined, fileLocks, makeParents, tempNameFor, writeFileAtomic, type FileLocks, type TempRecord } from '../fs/index.js';
import type { Logger } from '../log.js';
import { startTime } from '../private-tmp.js';
import type { Runtime } from '../runtime.js';
import { fail, ok, type Result } from '../util/result.js';
import { nodePatchIo, type PatchIo } from './io.js';

/** What a path held before the patch, as the journal keeps it. */
export type OldState =
  | { kind: 'absent' }
  /** Renamed aside by the commit's first step, under the name `asides` gives it. */
  | { kind: 'aside' }
  | { kind: 'file'; bytes: Buffer; mode: number; uid: number; gid: number; undoTmp: string };

/** What commit.ts records before its first change. */
export interface CommitRecord {
  /** Step 1: files and symlinks renamed aside (deleted, or replaced without their bytes in memory). */
  asides: Array<{ path: string; aside: string }>;
  /** Step 2: large files moved unread, with the identity of the file moved. */
  renames: Array<{ from: string; to: string; ino: number; size: number }>;
  /** Step 3: atomic writes, with the temp name each uses and the bytes it writes. */
  writes: Array<{ path: string; tmp: string; data: Uint8Array; old: OldState }>;
}

/** A journal as stored: the record, with the new bytes as size and digest, and the directories the commit may create. */
export interface Journal {
  /** Outermost first. */
  dirs: string[];
  asides: CommitRecord['asides'];
  renames: CommitRecord['renames'];
  writes: Array<{ path: string; tmp: string; size: number; sha256: string; old: OldState }>;
}

/** An open journal, for the commit's last steps. Neither method throws: failures are logged. */
export interface OpenJournal {
  /** Marks the commit as complete before the set-aside files are unlinked; false when that failed. */
  committed(): Promise<boolean>;
  /** Removes the journal: the commit is over (done, or undone in process). */
  end(): Promise<void>;
}

const MAGIC = 'agentbox-journal 1\n';
const NAME = /^(\d+)-(\d+)-([0-9a-f]+)\.(open|done|temps)$/;
/** A server's temp list is emptied when no write is running and it has grown past this. */
const TEMPS_TRUNCATE_BYTES = 64 * 1024;
/** The filesystem operations recovery makes: the commit's own (commit.ts nodePatchIo). */
const recoveryIo: PatchIo = nodePatchIo;

export interface WriteJournalOptions {
  /** Where the records live: <home>/journal. */
  dir: string;
  log: Logger;
  /** The server's file locks: recovery holds those of the paths it restores. */
  locks: FileLocks;
  /** This server's `<pid>-<start>` (tests give another to play a second server). */
  owner?: string;
  /** Whether the server `<pid>-<start>` still runs (tests replace it). */
  alive?: (pid: number, start: number) => boolean;
}

/** The runtime's journal: records in <home>/journal; this server's temp list is removed at shutdown. */
export function writeJournal(runtime: Pick<Runtime, 'home' | 'log' | 'shared' | 'onShutdown'>): WriteJournal {
  return runtime.shared('patch.journal', () => {
    const journal = new WriteJournal({ dir: path.join(runtime.home, 'journal'), log: runtime.log, locks: fileLocks(runtime) });
    runtime.onShutdown(() => journal.close());
    return journal;
  });
}

/** Records writes before they happen and recovers what a crashed server left (see the top of this file). */
export class WriteJournal implements TempRecord {
  readonly dir: string;
  readonly #log: Logger;
  readonly #locks: FileLocks;
  readonly #owner: string;
  readonly #alive: (pid: number, start: number) => boolean;
  #dirMade = false;
  #recovering: Promise<void> | undefined;
  // This server's temp list: every operation on it runs in order through #queue.
  #queue: Promise<unknown> = Promise.resolve();
  #list: FileHandle | undefined;
  #listBytes = 0;
  #inFlight = 0;
  readonly #listName: string;

  constructor(opts: WriteJournalOptions) {
    this.dir = opts.dir;
    this.#log = opts.log;
    this.#locks = opts.locks;
    this.#owner = opts.owner ?? `${process.pid}-${startTime(process.pid) ?? 0}`;
    this.#alive = opts.alive ?? running;
    this.#listName = path.join(this.dir, `${this.#owner}-${randomBytes(6).toString('hex')}.temps`);
  }

  /** Writes the journal of a commit durably; nothing in the workspace has changed when this fails. */
  async begin(record: CommitRecord): Promise<Result<OpenJournal>> {
    const [only] = record.writes;
    if (only && record.writes.length === 1 && record.asides.length === 0 && record.renames.length === 0) {
      // A commit of one atomic write and nothing else cannot leave a mix, only its temp file and
      // new directories: it is recorded in the temp list, as a write_file is, without an fsync.
      try {
        const over = await this.#listTemp(only.path, only.tmp);
        return ok({ committed: async () => true, end: over });
      } catch (err) {
        return fail('journal_failed', `Cannot record the patch before writing it: ${(err as Error).message}. Nothing was changed.`, "Check that agentbox's home directory is writable.");
      }
    }
    const base = path.join(this.dir, `${this.#owner}-${randomBytes(8).toString('hex')}`);
    try {
      const dirs = await missingDirs([...record.renames.map((r) => r.to), ...record.writes.map((w) => w.path)]);
      const bytes = encodeJournal(record, dirs);
      await this.#makeDir();
      const handle = await open(`${base}.open`, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      await unlink(`${base}.open`).catch(() => undefined);
      return fail(
        'journal_failed',
        `Cannot record the patch in ${this.dir} before writing it: ${(err as Error).message}. Nothing was changed.`,
        "Check that agentbox's home directory is writable and its disk has space.",
      );
    }
    let kind: 'open' | 'done' = 'open';
    return ok({
      committed: async () => {
        try {
          await rename(`${base}.open`, `${base}.done`);
          kind = 'done';
          await this.#syncDir();
          return true;
        } catch (err) {
          this.#log.error({ err, journal: `${base}.open` }, 'could not mark a patch journal done');
          return kind === 'done';
        }
      },
      end: async () => {
        await unlink(`${base}.${kind}`).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') this.#log.error({ err, journal: `${base}.${kind}` }, 'could not remove a patch journal; remove it by hand');
        });
      },
    });
  }

  /** Before a write tool call: recovers first when a dead server left a record. Cheap otherwise (one readdir). */
  async ready(): Promise<void> {
    if (this.#recovering) return this.#recovering;
    const names = await readdir(this.dir).catch(() => [] as string[]);
    if (names.some((n) => this.#leftover(n) !== undefined)) await this.recover();
  }

  /** Rolls back every journal, and removes every temp file, that a dead server left. Runs once at a time. */
  recover(): Promise<void> {
    this.#recovering ??= this.#recoverAll().finally(() => (this.#recovering = undefined));
    return this.#recovering;
  }

  async withTemp<T>(file: string, write: (tmp: string) => Promise<T>): Promise<T> {
    const tmp = tempNameFor(file);
    const over = await this.#listTemp(file, tmp);
    try {
      return await write(tmp);
    } finally {
      await over();
    }
  }

  /** Adds `tmp` (and the directories a write of `file` may create) to this server's temp list; answers what ends the entry. */
  async #listTemp(file: string, tmp: string): Promise<() => Promise<void>> {
    // Counted before the line is queued, so that no emptying of the list is queued after it.
    this.#inFlight++;
    const over = async () => {
      this.#inFlight--;
      const empty = this.#inFlight === 0 && this.#listBytes > TEMPS_TRUNCATE_BYTES;
      await this.#listOp(async (list) => {
        if (empty) {
          await list.truncate(0);
          this.#listBytes = 0;
        } else await this.#appendLine(list, { done: tmp });
      }).catch(() => undefined);
    };
    try {
      const dirs = await missingDirs([file]);
      await this.#listOp(async (list) => this.#appendLine(list, { tmp, dirs }));
    } catch (err) {
      await over();
      throw new Error(`cannot record the temp file's name in ${this.dir} first: ${(err as Error).message}`);
    }
    return over;
  }

  /** At shutdown: closes and removes this server's temp list (kept while a write is still running). */
  async close(): Promise<void> {
    await this.#queue.catch(() => undefined);
    const list = this.#list;
    this.#list = undefined;
    await list?.close().catch(() => undefined);
    if (list && this.#inFlight === 0) await unlink(this.#listName).catch(() => undefined);
  }

  /** The owner of a record name when it is a dead server's record, else undefined. */
  #leftover(name: string): { pid: number; start: number; id: string; kind: string } | undefined {
    const m = NAME.exec(name);
    if (!m) return undefined;
    const [, pid, start, id, kind] = m as unknown as [string, string, string, string, string];
    if (`${pid}-${start}` === this.#owner || this.#alive(Number(pid), Number(start))) return undefined;
    return { pid: Number(pid), start: Number(start), id, kind };
  }

  async #recoverAll(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const owner = this.#leftover(name);
      if (!owner) continue;
      try {
        await this.#recoverOne(name, owner.id, owner.kind);
      } catch (err) {
        this.#log.error({ err, journal: path.join(this.dir, name) }, 'could not recover a write journal left by a crashed agentbox; the next start retries');
      }
    }
  }

  async #recoverOne(name: string, id: string, kind: string): Promise<void> {
    // Claim it: the rename succeeds for one server only, and if this one dies now the record
    // carries its name, so the next server claims it in turn.
    const mine = path.join(this.dir, `${this.#owner}-${id}.${kind}`);
    try {
      await rename(path.join(this.dir, name), mine);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (kind === 'temps') {
      const removed = await removeTemps(await readFile(mine, 'utf8'), recoveryIo);
      await unlink(mine);
      if (removed.length > 0) this.#log.warn({ journal: name, removed }, 'removed the temp files of writes a crashed agentbox left unfinished');
      return;
    }
    const bytes = await readFile(mine);
    const journal = decodeJournal(bytes);
    if (!journal && partialJournal(bytes)) {
      // Cut short while it was written: the commit had not started.
      await unlink(mine);
      this.#log.warn({ journal: name }, 'removed the journal of an apply_patch a crash interrupted before its first change');
      return;
    }
    if (!journal) {
      await rename(mine, `${mine}.broken`);
      this.#log.error({ journal: `${mine}.broken` }, 'a write journal left by a crashed agentbox cannot be read; it was kept for a human to look at');
      return;
    }
    const paths = [...journal.writes.map((w) => w.path), ...journal.renames.flatMap((r) => [r.from, r.to]), ...journal.asides.map((a) => a.path)];
    const outcome = await this.#locks.run(paths, () => (kind === 'done' ? finishForward(journal, recoveryIo) : rollBack(journal, recoveryIo)));
    await unlink(mine);
    const what = kind === 'done' ? 'finished an apply_patch a crash interrupted after it was complete' : 'rolled back an apply_patch a crash interrupted';
    const detail = { journal: name, paths: [...new Set(paths)], ...(outcome.kept.length > 0 ? { kept: outcome.kept } : {}) };
    this.#log.warn(detail, outcome.kept.length > 0 ? `${what}; some paths were left as they are (see kept)` : what);
  }

  /** Runs `op` on this server's temp list (opened on first use), after every operation queued before it. */
  #listOp(op: (list: FileHandle) => Promise<void>): Promise<void> {
    const run = this.#queue.catch(() => undefined).then(async () => {
      if (!this.#list) {
        await this.#makeDir();
        this.#list = await open(this.#listName, 'a', 0o600);
      }
      await op(this.#list);
    });
    this.#queue = run;
    return run;
  }

  async #appendLine(list: FileHandle, entry: object): Promise<void> {
    const line = Buffer.from(`${JSON.stringify(entry)}\n`);
    await list.write(line);
    this.#listBytes += line.length;
  }

  async #makeDir(): Promise<void> {
    if (this.#dirMade) return;
    // Made durable once, by its parent's fsync, so that a journal's own fsync is enough afterwards.
    if (await mkdir(this.dir, { recursive: true, mode: 0o700 })) await syncDir(path.dirname(this.dir));
    this.#dirMade = true;
  }

  #syncDir(): Promise<void> {
    return syncDir(this.dir);
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Whether the process `pid` that started at `start` (clock ticks since boot) still runs. */
function running(pid: number, start: number): boolean {
  const now = startTime(pid);
  if (now !== undefined) return now === start;
  if (startTime(process.pid) !== undefined) return false; // /proc works and the pid is gone
  // No /proc: all that can be asked is whether some process has this pid.
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The directories (outermost first) that creating `files` would have to make: their missing ancestors. */
export async function missingDirs(files: readonly string[]): Promise<string[]> {
  const missing = new Set<string>();
  const known = new Set<string>();
  for (const file of files) {
    for (let dir = path.dirname(file); !known.has(dir) && !missing.has(dir); dir = path.dirname(dir)) {
      const info = await lstat(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
      if (info || path.dirname(dir) === dir) {
        known.add(dir);
        break;
      }
      missing.add(dir);
    }
  }
  return [...missing].sort((a, b) => a.length - b.length);
}

/** The journal file: a magic line, a JSON header line, then the old bytes, raw, at the offsets the header gives. */
export function encodeJournal(record: CommitRecord, dirs: readonly string[]): Buffer {
  const blobs: Buffer[] = [];
  let at = 0;
  const writes = record.writes.map((w) => {
    const sha256 = createHash('sha256').update(w.data).digest('hex');
    if (w.old.kind !== 'file') return { path: w.path, tmp: w.tmp, size: w.data.length, sha256, old: w.old };
    const { bytes, ...rest } = w.old;
    blobs.push(bytes);
    const old = { ...rest, at, length: bytes.length };
    at += bytes.length;
    return { path: w.path, tmp: w.tmp, size: w.data.length, sha256, old };
  });
  const header = JSON.stringify({ dirs, asides: record.asides, renames: record.renames, writes, bytes: at });
  return Buffer.concat([Buffer.from(`${MAGIC}${header}\n`), ...blobs]);
}

/** Whether `buf` is the beginning of a journal cut short (rather than a damaged one): its magic line and header only unfinished. */
export function partialJournal(buf: Buffer): boolean {
  const magic = Buffer.from(MAGIC);
  if (buf.length < magic.length) return magic.subarray(0, buf.length).equals(buf);
  if (!buf.subarray(0, magic.length).equals(magic)) return false;
  const end = buf.indexOf(0x0a, magic.length);
  if (end < 0) return !buf.includes(0, magic.length);
  try {
    const header = JSON.parse(buf.subarray(magic.length, end).toString('utf8')) as { bytes?: unknown };
    return typeof header.bytes === 'number' && buf.length - end - 1 < header.bytes;
  } catch {
    return false;
  }
}

/** Reads a journal file; undefined when it is not a complete one. */
export function decodeJournal(buf: Buffer): Journal | undefined {
  if (!buf.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) return undefined;
  const end = buf.indexOf(0x0a, MAGIC.length);
  if (end < 0) return undefined;
  let header: Omit<Journal, 'writes'> & { writes: Array<Journal['writes'][number] & { old: { at?: number; length?: number } }>; bytes: number };
  try {
    header = JSON.parse(buf.subarray(MAGIC.length, end).toString('utf8'));
  } catch {
    return undefined;
  }
  const blobs = buf.subarray(end + 1);
  if (blobs.length !== header.bytes) return undefined;
  const writes = header.writes.map((w) => {
    if (w.old.kind !== 'file') return w;
    const { at, length, ...rest } = w.old as { at: number; length: number } & Omit<Extract<OldState, { kind: 'file' }>, 'bytes'>;
    return { ...w, old: { ...rest, bytes: blobs.subarray(at, at + length) } };
  });
  return { dirs: header.dirs, asides: header.asides, renames: header.renames, writes };
}

/** What a rollback or finish could not do: paths left as they are, with why. */
export interface RecoveryOutcome {
  kept: string[];
}

/**
 * Puts back the old state of every path of an interrupted commit, undoing its steps last first.
 * Safe to run again after it was itself interrupted: each step looks before it acts.
 */
export async function rollBack(j: Journal, io: PatchIo): Promise<RecoveryOutcome> {
  const kept: string[] = [];
  const keep = (p: string, why: string) => kept.push(`${p} (${why})`);
  // 3. Writes: their temp files go, and each path gets its old content back.
  for (const w of [...j.writes].reverse()) {
    const where = await dirState(w.path);
    if (where !== 'ok') {
      if (where === 'moved') keep(w.path, 'its directory is not where it was');
      continue;
    }
    await removeIfThere(io, w.tmp);
    if (w.old.kind === 'file') await removeIfThere(io, w.old.undoTmp);
    const now = await entry(w.path);
    const isNew = await holds(w.path, now, w.size, w.sha256);
    if (w.old.kind === 'file') {
      const old = w.old;
      if (now && (await sameBytes(w.path, now, old.bytes))) continue;
      if (!now || isNew) await io.writeFile(w.path, old.bytes, { mode: old.mode, uid: old.uid, gid: old.gid, tmp: old.undoTmp });
      else keep(w.path, 'changed since the crash');
    } else if (w.old.kind === 'aside') {
      // Only while the old file is safe under its aside name; otherwise what is here is the old file.
      const aside = j.asides.find((a) => a.path === w.path)?.aside;
      if (isNew && aside && (await entry(aside))) await io.unlink(w.path);
    } else if (isNew) await io.unlink(w.path);
    else if (now) keep(w.path, 'changed since the crash');
  }
  // 2. Renames: a file moved unread goes back, if it is the very file that was moved.
  for (const r of [...j.renames].reverse()) {
    const where = [await dirState(r.to), await dirState(r.from)];
    if (where.includes('moved')) keep(r.from, 'its directory is not where it was');
    if (where.some((w) => w !== 'ok')) continue;
    const to = await entry(r.to);
    if (to?.isFile() && to.ino === r.ino && to.size === r.size && !(await entry(r.from))) await io.rename(r.to, r.from);
  }
  // 1. Set aside: renamed back to their own names.
  for (const a of [...j.asides].reverse()) {
    const where = await dirState(a.path);
    if (where !== 'ok' || !(await entry(a.aside))) {
      if (where === 'moved') keep(a.path, 'its directory is not where it was');
      continue;
    }
    if (await entry(a.path)) keep(a.path, `changed since the crash; the old file is ${path.basename(a.aside)}`);
    else await io.rename(a.aside, a.path);
  }
  // Directories the commit created, innermost first, if they are empty.
  for (const d of [...j.dirs].reverse()) {
    if ((await dirState(d)) !== 'ok') continue;
    await io.rmdir(d).catch((err: NodeJS.ErrnoException) => {
      if (!['ENOENT', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR'].includes(err.code ?? '')) throw err;
    });
  }
  return { kept };
}

/** A commit complete but for its last step: unlinks the files still set aside (and any temp file). */
export async function finishForward(j: Journal, io: PatchIo): Promise<RecoveryOutcome> {
  const kept: string[] = [];
  for (const name of [...j.asides.map((a) => a.aside), ...j.writes.flatMap((w) => (w.old.kind === 'file' ? [w.tmp, w.old.undoTmp] : [w.tmp]))]) {
    const where = await dirState(name);
    if (where === 'ok') await removeIfThere(io, name);
    else if (where === 'moved') kept.push(`${name} (its directory is not where it was)`);
  }
  return { kept };
}

/** Removes the unfinished entries of a dead server's temp list: temp files, then empty new directories. */
async function removeTemps(text: string, io: PatchIo): Promise<string[]> {
  const open = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    let entry: { tmp?: unknown; dirs?: unknown; done?: unknown };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof entry.done === 'string') open.delete(entry.done);
    else if (typeof entry.tmp === 'string' && Array.isArray(entry.dirs)) open.set(entry.tmp, entry.dirs.filter((d): d is string => typeof d === 'string'));
  }
  const removed: string[] = [];
  for (const [tmp, dirs] of open) {
    // Only names made by tempNameFor: a damaged list must not remove anything else.
    if (!tmp.endsWith('.agentbox-tmp') || (await dirState(tmp)) !== 'ok') continue;
    if (await entry(tmp)) {
      await removeIfThere(io, tmp);
      removed.push(tmp);
    }
    for (const d of [...dirs].reverse()) {
      if ((await dirState(d)) !== 'ok') continue;
      await io.rmdir(d).then(
        () => removed.push(`${d}/`),
        () => undefined,
      );
    }
  }
  return removed;
}

/** 'ok' when `p`'s directory is still the real path recorded; 'gone' when it no longer exists; 'moved' when a symlink now stands in the way. */
async function dirState(p: string): Promise<'ok' | 'gone' | 'moved'> {
  const dir = path.dirname(p);
  try {
    return (await realpath(dir)) === dir ? 'ok' : 'moved';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'gone';
    throw err;
  }
}

/** What is at `p` itself (a symlink is not followed), or undefined. */
async function entry(p: string): Promise<Stats | undefined> {
  // Through the verified directory (fs/confined.ts), as every effect on the workspace.
  return confined.lstat(p).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' || err.code === 'ENOTDIR' ? undefined : Promise.reject(err)));
}

async function removeIfThere(io: PatchIo, p: string): Promise<void> {
  await io.unlink(p).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Whether `p` is a regular file of `size` bytes whose SHA-256 is `sha256`. */
async function holds(p: string, now: Stats | undefined, size: number, sha256: string): Promise<boolean> {
  if (!now?.isFile() || now.size !== size) return false;
  return createHash('sha256').update(await confined.readFile(p)).digest('hex') === sha256;
}

async function sameBytes(p: string, now: Stats, bytes: Buffer): Promise<boolean> {
  return now.isFile() && now.size === bytes.length && (await confined.readFile(p)).equals(bytes);
}

/**
 * Test hook, for test/patch/crash.test.ts only: with AGENTBOX_TEST_CRASH_AT_STEP=k in its
 * environment, a commit kills its own process (SIGKILL) just before its k-th step (each filesystem
 * operation of the commit, marking its journal done, removing it), so that the test can crash it
 * at every step boundary. Unset (always, outside that test), there is no hook.
 */
export function crashTestHook(): (() => void) | undefined {
  const at = Number(process.env.AGENTBOX_TEST_CRASH_AT_STEP);
  if (!Number.isInteger(at) || at <= 0) return undefined;
  let step = 0;
  return () => {
    if (++step === at) process.kill(process.pid, 'SIGKILL');
  };
}

/** `io` with `before` called ahead of each operation (for crashTestHook). */
export function hookedIo(io: PatchIo, before: () => void): PatchIo {
  return {
    writeFile: async (file, data, opts) => (before(), io.writeFile(file, data, opts)),
    rename: async (from, to) => (before(), io.rename(from, to)),
    unlink: async (file) => (before(), io.unlink(file)),
    makeParents: async (dir) => (before(), io.makeParents(dir)),
    rmdir: async (dir) => (before(), io.rmdir(dir)),
  };
}
