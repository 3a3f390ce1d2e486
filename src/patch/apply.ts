// Applies a parsed patch to the filesystem: every file or none.
//
// 1. Resolve: every path, move targets included, goes through the caller's path check. A Delete,
//    or a Move's source, that names a symlink acts on the link itself (as in Codex): only its
//    directory is checked, and the link is removed, not what it points to. Updates and adds follow
//    links (and are refused when a link leads out of the workspace).
// 2. Lock: the lock of every path the patch touches is taken (in sorted order, so two patches
//    never deadlock) and held until the commit is over: no other write tool call of this server
//    changes these files between our read and our write.
// 3. Plan (plan.ts): every file's final state in memory; nothing is written, and any failure
//    (missing context, a directory, a binary file to edit) ends here.
// 4. Commit (commit.ts): the plan is written; a step that fails undoes the ones before it. With a
//    journal (journal.ts) it is recorded first, so that a crash is rolled back at the next start.
import { confined, type FileLocks } from '../fs/index.js';
import type { SafePath } from '../sandbox/index.js';
import { capDiff, MAX_DIFF_CHARS } from '../util/diff.js';
import { fail, ok, type Result } from '../util/result.js';
import { commitPlan } from './commit.js';
import type { PatchIo } from './io.js';
import type { WriteJournal } from './journal.js';
import type { Hunk } from './parse.js';
import { label, planHunks, type FileOp, type HunkPaths } from './plan.js';

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
  /** The server's journal (writeJournal(runtime)): a crashed server's leftovers are recovered first, and the commit is recorded. */
  journal?: WriteJournal;
}

export interface PatchOutcome {
  ops: FileOp[];
  /** Remarks for the model (chunks that matched only loosely). */
  notes: string[];
  /** The Codex summary, notes, then the unified diff (cut when long). */
  text: string;
}

/** Resolves, locks, plans and commits `hunks`; on any failure nothing is left changed. */
export async function applyHunks(hunks: readonly Hunk[], env: PatchEnv): Promise<Result<PatchOutcome>> {
  const paths = await resolveHunks(hunks, env);
  if (!paths.ok) return paths;
  const touched = paths.value.flatMap((p) => [p.path, p.moveTo, p.link].filter((x): x is SafePath => x !== undefined));
  // Before the locks: recovery takes the locks of the paths it restores.
  await env.journal?.ready();
  return env.locks.run(touched, async () => {
    const plan = await planHunks(hunks, paths.value, env.show);
    if (!plan.ok) return plan;
    if (env.signal?.aborted) return fail('cancelled', 'The call was cancelled before the patch was written; nothing was changed.');
    const committed = await commitPlan(plan.value, env);
    if (!committed.ok) return committed;
    const ops = plan.value.ops;
    const notes = [...plan.value.notes, ...committed.value];
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
      const isLink = await confined.lstat(entry.value).then((i) => i.isSymbolicLink(), () => false);
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

function joinHints(...hints: Array<string | undefined>): string {
  return hints.filter(Boolean).join(' ');
}
