// What a run changed: a unified diff and the list of files, taken from a snapshot before the run
// and one after it.
//
// - In a git repository, each snapshot is a git tree of the working directory (tracked and
//   untracked files, .gitignore respected) written through a private index and a private object
//   directory, so the user's index, HEAD and .git/objects are never touched; `git diff-tree -M`
//   between the two trees gives the diff with renames. Changes that were already there before the
//   run are in both trees and so not in the diff. Paths are relative to the repository root.
//   git runs through the git core (src/git/), with its safe settings (no hooks, no filters, …).
// - Elsewhere (or in a repository the caller may not open), the snapshot records every file under
//   the working directory (size, mtime, and the text of small text files); the diff is computed
//   for files whose content was captured. Paths are relative to the working directory.
import { copyFile, lstat, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { structuredPatch } from 'diff';
import { confined } from '../fs/index.js';
import { openRepo, parseChanges, type GitContext, type Repo } from '../git/index.js';
import { hiddenPaths, isInside } from '../sandbox/index.js';

export type ChangeKind = 'added' | 'modified' | 'deleted' | 'renamed';

export interface FileChange {
  path: string;
  kind: ChangeKind;
  /** The old path of a renamed file. */
  from?: string;
}

export interface ChangeSet {
  diff: string;
  files: FileChange[];
}

export interface ChangeTracker {
  /** Takes the after-snapshot and compares; frees the snapshot's temp files. */
  finish(): Promise<ChangeSet>;
}

/** The most diff a result carries (a run that generates huge files must not make a huge MCP message). */
export const MAX_DIFF_BYTES = 512 * 1024;

/**
 * Starts tracking `dir`. `git` opens the repository with the calling session's policy (the run's
 * own policy may be confined to a subdirectory of it); without it, or when that fails, the
 * directory is snapshotted instead.
 */
export async function trackChanges(dir: string, git: GitContext | undefined): Promise<ChangeTracker> {
  if (git?.settings.bin) {
    const repo = await openRepo(git, dir, 'read');
    if (repo.ok) return gitTracker(repo.value, dir);
  }
  return snapshotTracker(dir, git ? hiddenPaths(git.policy) : []);
}

// ---- git --------------------------------------------------------------------------------------

async function gitTracker(repo: Repo, dir: string): Promise<ChangeTracker> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'agentbox-changes-'));
  const env = {
    GIT_INDEX_FILE: path.join(scratch, 'index'),
    GIT_OBJECT_DIRECTORY: path.join(scratch, 'objects'),
    GIT_ALTERNATE_OBJECT_DIRECTORIES: path.join(repo.commonDir, 'objects'),
    // The pathspecs below are agentbox's own and use magic (top, exclude, glob).
    GIT_LITERAL_PATHSPECS: '0',
  };
  await mkdir(env.GIT_OBJECT_DIRECTORY);
  // git writes the private index and objects there from inside its confined view.
  const scratchDirs = [scratch];
  // Starting from a copy of the real index lets `git add` skip files whose stat is unchanged.
  await copyFile(path.join(repo.gitDir, 'index'), env.GIT_INDEX_FILE).catch(() => undefined);
  const rel = path.relative(repo.top, dir);
  const pathspec = [rel === '' ? ':(top)' : `:(top)${rel}`, ':(top,exclude,glob)**/.agentbox/**'];
  const tree = async () => {
    if (!(await repo.run(['add', '-A', '--ignore-errors', '--', ...pathspec], { env, scratch: scratchDirs })).ok) return undefined;
    const written = await repo.run(['write-tree'], { env, scratch: scratchDirs });
    return written.ok ? written.value.stdout.trim() : undefined;
  };
  const before = await tree();
  return {
    async finish() {
      try {
        const after = await tree();
        if (!before || !after || before === after) return { diff: '', files: [] };
        const names = await repo.run(['diff-tree', '-r', '-M', '-z', '--name-status', '--end-of-options', before, after], { env, scratch: scratchDirs });
        const files = names.ok ? parseChanges(names.value.stdout) : [];
        const out = await repo.run(['diff-tree', '-r', '-M', '-p', '--no-color', '--no-ext-diff', '--no-textconv', '--end-of-options', before, after], {
          env,
          scratch: scratchDirs,
          maxBytes: MAX_DIFF_BYTES,
        });
        if (!out.ok) return { diff: '', files };
        return { diff: out.value.truncated ? cutDiff(out.value.stdout, files.length) : out.value.stdout, files };
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  };
}

function cutDiff(diff: string, fileCount: number): string {
  const shown = diff.slice(0, diff.lastIndexOf('\n') + 1);
  return `${shown}[… diff cut at ${MAX_DIFF_BYTES} bytes; ${fileCount} files changed in all: see git diff in the workspace]\n`;
}

// ---- plain directories ------------------------------------------------------------------------

const SKIP_DIRS = new Set(['.git', 'node_modules', '.agentbox']);
const MAX_FILES = 20_000;
const MAX_FILE_BYTES = 256 * 1024;
const MAX_TOTAL_BYTES = 8 * 1024 * 1024;

interface Entry {
  size: number;
  mtimeMs: number;
  /** The text, when the file was small, textual and within the total budget. */
  text?: string;
}

async function snapshotTracker(dir: string, hidden: readonly string[]): Promise<ChangeTracker> {
  const before = await snapshot(dir, hidden);
  return {
    async finish() {
      const after = await snapshot(dir, hidden);
      const files: FileChange[] = [];
      const diffs: string[] = [];
      const names = [...new Set([...before.keys(), ...after.keys()])].sort();
      for (const name of names) {
        const a = before.get(name);
        const b = after.get(name);
        if (a && b && a.size === b.size && a.mtimeMs === b.mtimeMs) continue;
        if (a && b && a.text !== undefined && a.text === b.text) continue;
        const kind: ChangeKind = !a ? 'added' : !b ? 'deleted' : 'modified';
        files.push({ path: name, kind });
        diffs.push(fileDiff(name, kind, a, b));
      }
      const diff = diffs.join('');
      return { diff: Buffer.byteLength(diff) > MAX_DIFF_BYTES ? cutDiff(diff.slice(0, MAX_DIFF_BYTES), files.length) : diff, files };
    },
  };
}

/**
 * Every file below `root` with its size and time (and small text files' text). Directories are
 * entered through their parent's descriptor (fs/confined.ts), never by name, and agentbox's home
 * and sandbox.deny_read paths are skipped: a directory swapped for a link during the walk cannot
 * bring content from elsewhere into the diff a delegate returns.
 */
async function snapshot(root: string, hidden: readonly string[]): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  let budget = MAX_TOTAL_BYTES;
  const walk = async (dir: confined.PinnedDir): Promise<void> => {
    let entries;
    try {
      entries = await dir.readdir();
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (out.size >= MAX_FILES) return;
      const full = path.join(dir.real, entry.name);
      if (hidden.some((h) => isInside(h, full))) continue;
      if (entry.isDirectory()) {
        if (SKIP_DIRS.has(entry.name)) continue;
        let child: confined.PinnedDir;
        try {
          child = dir.child(entry.name, true);
        } catch {
          continue;
        }
        try {
          await walk(child);
        } finally {
          child.close();
        }
        continue;
      }
      if (!entry.isFile() && !entry.isSymbolicLink()) continue;
      const st = await lstat(dir.at(entry.name)).catch(() => undefined);
      if (!st) continue;
      const item: Entry = { size: st.size, mtimeMs: st.mtimeMs };
      if (st.isFile() && st.size <= MAX_FILE_BYTES && st.size <= budget) {
        const buf = await confined.readThrough(dir.at(entry.name)).catch(() => undefined);
        if (buf && !buf.subarray(0, 8000).includes(0)) {
          item.text = buf.toString('utf8');
          budget -= st.size;
        }
      }
      out.set(path.relative(root, full), item);
    }
  };
  let top: confined.PinnedDir;
  try {
    top = confined.PinnedDir.open(root, true);
  } catch {
    return out;
  }
  try {
    await walk(top);
  } finally {
    top.close();
  }
  return out;
}

function fileDiff(name: string, kind: ChangeKind, a: Entry | undefined, b: Entry | undefined): string {
  const header = `diff --git a/${name} b/${name}\n${kind === 'added' ? 'new file mode 100644\n' : kind === 'deleted' ? 'deleted file mode 100644\n' : ''}`;
  const oldText = a?.text ?? (a ? undefined : '');
  const newText = b?.text ?? (b ? undefined : '');
  if (oldText === undefined || newText === undefined) return `${header}Binary or large files a/${name} and b/${name} differ (content not captured)\n`;
  const patch = structuredPatch(`a/${name}`, `b/${name}`, oldText, newText, '', '', { context: 3 });
  const lines = [`--- ${a ? `a/${name}` : '/dev/null'}`, `+++ ${b ? `b/${name}` : '/dev/null'}`];
  for (const h of patch.hunks) {
    // Unified diff numbers an empty side from the line before it (git shows -0,0 for a new file).
    const oldStart = h.oldLines === 0 ? h.oldStart - 1 : h.oldStart;
    const newStart = h.newLines === 0 ? h.newStart - 1 : h.newStart;
    lines.push(`@@ -${oldStart},${h.oldLines} +${newStart},${h.newLines} @@`, ...h.lines);
  }
  return `${header}${lines.join('\n')}\n`;
}
