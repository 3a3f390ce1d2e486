// What changed in a work tree since a base commit, untracked files included: the unified diff and
// the changed files with their kind. The delegate reports both after a run.
//
// 1. A temporary index starts as a copy of the real one (its stat cache keeps this fast) or, when
//    there is none, as the base tree. The real index is never touched.
// 2. Untracked, non-ignored files are added to it as intent-to-add entries: no blob is written to
//    the object store, yet `git diff <base>` shows them as new files.
// 3. `git diff <base>` (the work tree against the base, through the temporary index) gives the
//    diff; `--name-status` the files.
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fail, ok, type Result } from '../util/result.js';
import { resolveCommit } from './branch.js';
import { cutAtLine, cutNote, parseNumstat, PLAIN_DIFF } from './diff.js';
import { checkRevision, type Repo } from './repo.js';

export type ChangeKind = 'added' | 'modified' | 'deleted' | 'renamed';

export interface ChangedFile {
  path: string;
  kind: ChangeKind;
  /** The old path of a rename. */
  from?: string;
}

export interface WorkingTreeChanges {
  /** The commit compared against (the empty tree's id before the first commit). */
  base: string;
  files: ChangedFile[];
  /** Unified diff; present when asked for. */
  diff?: string;
  /** True when the diff was cut at maxBytes (a note at its end lists what was left out). */
  truncated?: boolean;
}

export interface ChangesOptions {
  /** Commit to compare with; default HEAD (the empty tree when there is no commit yet). */
  base?: string;
  /** Also return the unified diff. */
  diff?: boolean;
  /** Cap for the diff; default git.max_output_bytes. */
  maxBytes?: number;
  /** Emit binary files as applicable `GIT binary patch` hunks. */
  binary?: boolean;
}

/** The work tree's changes since `base`, untracked files included; ignored files are left out. */
export async function workingTreeChanges(repo: Repo, opts: ChangesOptions = {}): Promise<Result<WorkingTreeChanges>> {
  const baseRev = opts.base ?? 'HEAD';
  const checked = checkRevision(baseRev, 'base');
  if (!checked.ok) return checked;
  let base = await resolveCommit(repo, baseRev);
  if (!base) {
    if (opts.base !== undefined) return fail('unknown_ref', `Unknown revision '${opts.base}'.`, 'Give a commit, branch or tag.');
    const empty = await repo.run(['hash-object', '-t', 'tree', '/dev/null']);
    if (!empty.ok) return empty;
    base = empty.value.stdout.trim();
  }

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'agentbox-git-'));
  try {
    const index = path.join(tmp, 'index');
    const env = { GIT_INDEX_FILE: index };
    // The temporary index (in the server's own temp dir, which sandboxed commands cannot see) is written by git in its view.
    const scratch = [tmp];
    const copied = await copyFile(path.join(repo.gitDir, 'index'), index).then(() => true, () => false);
    if (!copied) {
      const read = await repo.run(['read-tree', base], { env, scratch });
      if (!read.ok) return read;
    }
    const others = await repo.run(['ls-files', '-z', '--others', '--exclude-standard'], { env, scratch });
    if (!others.ok) return others;
    if (others.value.stdout !== '') {
      const list = path.join(tmp, 'untracked');
      await writeFile(list, others.value.stdout);
      const added = await repo.run(['add', '--intent-to-add', `--pathspec-from-file=${list}`, '--pathspec-file-nul'], { env, scratch });
      if (!added.ok) return added;
    }
    const names = await repo.run(['diff', '--name-status', '-z', '-M', ...PLAIN_DIFF, '--end-of-options', base, '--'], { env, scratch });
    if (!names.ok) return names;
    const files = parseChanges(names.value.stdout);
    if (!opts.diff) return ok({ base, files });

    const max = opts.maxBytes ?? repo.ctx.settings.maxOutputBytes;
    const select = ['-M', ...PLAIN_DIFF, ...(opts.binary ? ['--binary'] : []), '--end-of-options', base, '--'];
    const out = await repo.run(['diff', ...select], { env, scratch, maxBytes: max });
    if (!out.ok) return out;
    if (!out.value.truncated) return ok({ base, files, diff: out.value.stdout, truncated: false });
    const stat = await repo.run(['diff', '--numstat', '-z', ...select], { env, scratch, maxBytes: 256 * 1024 });
    const shown = cutAtLine(out.value.stdout);
    const note = cutNote(shown, stat.ok ? parseNumstat(stat.value.stdout) : [], max, 'See each file in the worktree.');
    return ok({ base, files, diff: `${shown}\n${note}`, truncated: true });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The changed files alone (see workingTreeChanges). */
export async function changedFiles(repo: Repo, base?: string): Promise<Result<ChangedFile[]>> {
  const r = await workingTreeChanges(repo, base !== undefined ? { base } : {});
  return r.ok ? ok(r.value.files) : r;
}

/** Parses `git diff --name-status -z` into change kinds; copies count as added. Pure. */
export function parseChanges(out: string): ChangedFile[] {
  const parts = out.split('\0');
  const files: ChangedFile[] = [];
  for (let i = 0; i < parts.length; i++) {
    const code = parts[i]!;
    if (code === '') continue;
    const letter = code[0];
    if (letter === 'R' || letter === 'C') {
      const from = parts[++i] ?? '';
      const to = parts[++i] ?? '';
      files.push(letter === 'R' ? { path: to, kind: 'renamed', from } : { path: to, kind: 'added' });
      continue;
    }
    const file = parts[++i] ?? '';
    files.push({ path: file, kind: letter === 'A' ? 'added' : letter === 'D' ? 'deleted' : 'modified' });
  }
  return files;
}
