// Writes a plan (plan.ts) to disk: every change or none.
//
// 1. Set aside: each file or symlink the patch deletes, and each existing file about to be
//    replaced whose old bytes are not in memory (a large file, a symlink), is renamed to a hidden
//    name in its own directory. Nothing is lost yet: undo renames it back.
// 2. Rename: a file moved unread (too large to hold) is renamed to its destination.
// 3. Write: each new or changed file, atomically (temp file + rename), mode kept, missing parent
//    directories created. A file whose final bytes equal the disk's is not touched.
// Just before each step the path must still hold what the plan read: another process may have
// changed it since, and then the commit stops there.
// 4. Undo: if a step fails, everything done so far is undone in reverse order (files set aside
//    renamed back, rewritten files restored from their bytes, new files and directories removed)
//    and the error says so.
// 5. Finish: once every step has succeeded, the files set aside are unlinked.
// Before step 1, every name the steps may create (set-aside and temp names, directories) is
// chosen and written with each path's old state to a journal in agentbox's home (journal.ts), so
// that a crash at any point is rolled back at the next start. It is marked done before step 5 and
// removed once the commit is over.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { assertUnchanged, CHANGED, confined, encodeText, makeParents, tempNameFor, writeFailure, writeFileAtomic, type AtomicWriteOptions, type OnDisk } from '../fs/index.js';
import type { SafePath } from '../sandbox/index.js';
import { fail, ok, type Result } from '../util/result.js';
import { nodePatchIo, type PatchIo } from './io.js';
import { crashTestHook, hookedIo, type OpenJournal, type WriteJournal } from './journal.js';
import type { Disk, Plan } from './plan.js';

export interface CommitEnv {
  /** How a real path is shown to the model. */
  show(absolute: string): string;
  io?: PatchIo;
  /** Where the commit is recorded before its first change, so that a crash is rolled back (journal.ts); none: not recorded. */
  journal?: WriteJournal;
}

interface Write {
  p: SafePath;
  data: Buffer;
  opts: AtomicWriteOptions;
  /** Undo rewrites these bytes (the old file was in memory); otherwise undo removes the new file. */
  restore?: Extract<Disk, { kind: 'file' }> & { bytes: Buffer };
  /** The temp name undo rewrites them through. */
  undoTmp?: string;
}

/** Writes `plan`; on a failure, undoes what was done. Answers notes for the model (a leftover it could not remove). */
export async function commitPlan(plan: Plan, env: CommitEnv): Promise<Result<string[]>> {
  const crash = crashTestHook();
  const io = crash ? hookedIo(env.io ?? nodePatchIo, crash) : (env.io ?? nodePatchIo);
  const show = env.show;
  const renamedFrom = new Set<SafePath>();
  for (const s of plan.final.values()) if (s.kind === 'file' && s.renameFrom) renamedFrom.add(s.renameFrom);

  const setAside: Array<{ p: SafePath; verb: 'delete' | 'write' }> = [];
  const renames: Array<{ from: SafePath; to: SafePath }> = [];
  const writes: Write[] = [];
  for (const [p, state] of plan.final) {
    const d = plan.disk.get(p)!;
    const present = d.kind === 'file' || d.kind === 'link';
    if (state.kind === 'absent') {
      if (present && !renamedFrom.has(p)) setAside.push({ p, verb: 'delete' });
      continue;
    }
    if (state.renameFrom) {
      if (present) setAside.push({ p, verb: 'write' });
      renames.push({ from: state.renameFrom, to: p });
      continue;
    }
    const data = state.text !== undefined ? encodeText(state.text, state.bom) : state.bytes!;
    const mode = state.mode ?? (d.kind === 'file' ? d.mode : undefined);
    const inMemory = d.kind === 'file' && d.bytes !== undefined ? (d as Write['restore']) : undefined;
    if (inMemory?.bytes.equals(data) && mode === inMemory.mode) continue;
    if (present && !inMemory) setAside.push({ p, verb: 'write' });
    const opts: AtomicWriteOptions = { unchanged: inMemory ? seen(inMemory) : { kind: 'absent' } };
    if (mode !== undefined) opts.mode = mode;
    const uid = state.uid ?? (d.kind === 'file' ? d.uid : undefined);
    const gid = state.gid ?? (d.kind === 'file' ? d.gid : undefined);
    if (uid !== undefined && gid !== undefined) Object.assign(opts, { uid, gid });
    writes.push(inMemory ? { p, data, opts, restore: inMemory } : { p, data, opts });
  }

  // Every name the steps may create, chosen now for the journal.
  const asides = new Map(setAside.map((a) => [a.p, asideName(a.p)]));
  for (const w of writes) {
    w.opts.tmp = tempNameFor(w.p);
    if (w.restore) w.undoTmp = tempNameFor(w.p);
  }
  let journal: OpenJournal | undefined;
  if (env.journal && asides.size + renames.length + writes.length > 0) {
    const begun = await env.journal.begin({
      asides: setAside.map((a) => ({ path: a.p, aside: asides.get(a.p)! })),
      renames: renames.map((r) => {
        const d = plan.disk.get(r.from) as Extract<Disk, { kind: 'file' }>;
        return { from: r.from, to: r.to, ino: d.ino, size: d.size };
      }),
      writes: writes.map((w) => ({
        path: w.p,
        tmp: w.opts.tmp!,
        data: w.data,
        old: w.restore
          ? { kind: 'file' as const, bytes: w.restore.bytes, mode: w.restore.mode, uid: w.restore.uid, gid: w.restore.gid, undoTmp: w.undoTmp! }
          : asides.has(w.p)
            ? { kind: 'aside' as const }
            : { kind: 'absent' as const },
      })),
    });
    if (!begun.ok) return begun;
    journal = begun.value;
  }

  const undo: Array<{ what: string; run: () => Promise<void> }> = [];
  const asideNames: string[] = [];
  let failedAt = '';
  let verb: 'delete' | 'write' = 'write';
  const parentsOf = async (file: SafePath) => {
    const created = await io.makeParents(path.dirname(file));
    if (created.length === 0) return;
    undo.push({
      what: `remove ${created.map((d) => show(d)).join(', ')}`,
      run: async () => {
        for (const dir of [...created].reverse()) await io.rmdir(dir);
      },
    });
  };
  try {
    // 1. Set aside.
    for (const a of setAside) {
      failedAt = show(a.p);
      verb = a.verb;
      await assertUnchanged(a.p, seen(plan.disk.get(a.p)!));
      const aside = asides.get(a.p)!;
      await io.rename(a.p, aside);
      asideNames.push(aside);
      undo.push({ what: `restore ${show(a.p)}`, run: () => io.rename(aside, a.p) });
    }
    // 2. Rename.
    verb = 'write';
    for (const r of renames) {
      failedAt = show(r.to);
      await parentsOf(r.to);
      await assertUnchanged(r.to, { kind: 'absent' });
      failedAt = show(r.from);
      await assertUnchanged(r.from, seen(plan.disk.get(r.from)!));
      failedAt = show(r.to);
      await io.rename(r.from, r.to);
      undo.push({ what: `move ${show(r.to)} back to ${show(r.from)}`, run: () => io.rename(r.to, r.from) });
    }
    // 3. Write.
    for (const w of writes) {
      failedAt = show(w.p);
      await parentsOf(w.p);
      await io.writeFile(w.p, w.data, w.opts);
      const old = w.restore;
      undo.push(
        old
          ? { what: `restore ${show(w.p)}`, run: () => io.writeFile(w.p, old.bytes, { mode: old.mode, uid: old.uid, gid: old.gid, tmp: w.undoTmp! }) }
          : { what: `remove ${show(w.p)}`, run: () => io.unlink(w.p) },
      );
    }
  } catch (err) {
    // 4. Undo.
    const changed = (err as NodeJS.ErrnoException).code === CHANGED;
    const cause = writeFailure(err, failedAt, verb).error;
    const undone = undo.length > 0;
    const unrestored: string[] = [];
    for (const u of undo.reverse()) {
      try {
        await u.run();
      } catch (e) {
        unrestored.push(`${u.what} (${(e as Error).message})`);
      }
    }
    // The caller gets an answer now, which says what is left: nothing for recovery to do.
    crash?.();
    await journal?.end();
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

  // 5. Finish. Once the journal says done, a crash here completes the patch instead of undoing it.
  const leftovers: string[] = [];
  crash?.();
  if (asideNames.length > 0 && journal && !(await journal.committed())) leftovers.push(...asideNames.map(show));
  else for (const aside of asideNames) await io.unlink(aside).catch(() => leftovers.push(show(aside)));
  crash?.();
  await journal?.end();
  return ok(leftovers.length > 0 ? [`Note: the patch is applied, but what it removed is still there under a temporary name: ${leftovers.join(', ')}. Delete it.`] : []);
}

/** What the plan read at a path, for the check just before the commit replaces or removes it. */
function seen(d: Disk): OnDisk {
  if (d.kind === 'file') return d.bytes ? { kind: 'file', bytes: d.bytes } : { kind: 'same-file', ino: d.ino, size: d.size, mtimeMs: d.mtimeMs };
  if (d.kind === 'link') return { kind: 'link', target: d.target };
  return { kind: 'absent' };
}

/** A hidden name next to `file` for setting it aside (within NAME_MAX whatever the file's name). */
function asideName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file).slice(0, 120)}.${randomBytes(6).toString('hex')}.agentbox-del`);
}
