// What a run changed: a unified diff and the list of files, taken from a snapshot before the run
// and one after it.
//
// - In a git repository, each snapshot is a git tree of the working directory (tracked and
//   untracked files, .gitignore respected) written through a private index and a private object
//   directory, so the user's index, HEAD and .git/objects are never touched; `git diff-tree -M`
//   between the two trees gives the diff with renames. Changes that were already there before the
//   run are in both trees and so not in the diff. Paths are relative to the repository root.
// - Elsewhere, the snapshot records every file under the working directory (size, mtime, and the
//   text of small text files); the diff is computed for files whose content was captured.
//   Paths are relative to the working directory.
//
// Until the shared git core lands (src/git/), the few git commands are run here with execa.
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { structuredPatch } from 'diff';

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

/** Safe options for every git command agentbox runs itself: no hooks, no fsmonitor, no pager, no prompts. */
export const GIT_SAFE = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'core.quotepath=false', '--no-pager'];
export const GIT_ENV = { GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', GIT_EDITOR: 'true', LC_ALL: 'C' };

/** Runs git in `cwd`; resolves stdout, or undefined when git fails. */
export async function git(bin: string, cwd: string, args: string[], env: Record<string, string> = {}): Promise<string | undefined> {
  const r = await execa(bin, [...GIT_SAFE, ...args], { cwd, env: { ...GIT_ENV, ...env }, reject: false, stripFinalNewline: false, maxBuffer: 256 * 1024 * 1024 });
  return r.exitCode === 0 ? String(r.stdout) : undefined;
}

export async function trackChanges(dir: string, gitBin: string | undefined): Promise<ChangeTracker> {
  if (gitBin) {
    const info = await git(gitBin, dir, ['rev-parse', '--show-toplevel', '--git-path', 'index', '--git-path', 'objects']);
    if (info) {
      const [top, index, objects] = info.trim().split('\n');
      if (top && index && objects) return gitTracker(gitBin, dir, top, path.resolve(dir, index), path.resolve(dir, objects));
    }
  }
  return snapshotTracker(dir);
}

// ---- git --------------------------------------------------------------------------------------

async function gitTracker(bin: string, dir: string, top: string, realIndex: string, realObjects: string): Promise<ChangeTracker> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'agentbox-changes-'));
  const env = {
    GIT_INDEX_FILE: path.join(scratch, 'index'),
    GIT_OBJECT_DIRECTORY: path.join(scratch, 'objects'),
    GIT_ALTERNATE_OBJECT_DIRECTORIES: realObjects,
  };
  await mkdir(env.GIT_OBJECT_DIRECTORY);
  // Starting from a copy of the real index lets `git add` skip files whose stat is unchanged.
  await copyFile(realIndex, env.GIT_INDEX_FILE).catch(() => undefined);
  const rel = path.relative(top, dir);
  const pathspec = [rel === '' ? ':(top)' : `:(top)${rel}`, ':(top,exclude,glob)**/.agentbox/**'];
  const tree = async () => {
    if ((await git(bin, top, ['add', '-A', '--ignore-errors', '--', ...pathspec], env)) === undefined) return undefined;
    return (await git(bin, top, ['write-tree'], env))?.trim();
  };
  const before = await tree();
  return {
    async finish() {
      try {
        const after = await tree();
        if (!before || !after) return { diff: '', files: [] };
        if (before === after) return { diff: '', files: [] };
        const diff = (await git(bin, top, ['diff-tree', '-r', '-M', '-p', '--no-color', '--no-ext-diff', before, after], env)) ?? '';
        const status = (await git(bin, top, ['diff-tree', '-r', '-M', '-z', '--name-status', before, after], env)) ?? '';
        return { diff, files: parseNameStatus(status) };
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  };
}

/** Parses `git diff-tree -z --name-status` output. */
export function parseNameStatus(out: string): FileChange[] {
  const parts = out.split('\0').filter((p) => p !== '');
  const files: FileChange[] = [];
  for (let i = 0; i < parts.length; ) {
    const code = parts[i++]!;
    if (code.startsWith('R') || code.startsWith('C')) {
      const from = parts[i++]!;
      const to = parts[i++]!;
      files.push(code.startsWith('R') ? { path: to, kind: 'renamed', from } : { path: to, kind: 'added' });
    } else {
      const p = parts[i++]!;
      files.push({ path: p, kind: code === 'A' ? 'added' : code === 'D' ? 'deleted' : 'modified' });
    }
  }
  return files;
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

async function snapshotTracker(dir: string): Promise<ChangeTracker> {
  const before = await snapshot(dir);
  return {
    async finish() {
      const after = await snapshot(dir);
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
      return { diff: diffs.join(''), files };
    },
  };
}

async function snapshot(root: string): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  let budget = MAX_TOTAL_BYTES;
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (out.size >= MAX_FILES) return;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) await walk(full);
        continue;
      }
      if (!entry.isFile() && !entry.isSymbolicLink()) continue;
      const st = await lstat(full).catch(() => undefined);
      if (!st) continue;
      const item: Entry = { size: st.size, mtimeMs: st.mtimeMs };
      if (st.isFile() && st.size <= MAX_FILE_BYTES && st.size <= budget) {
        const buf = await readFile(full).catch(() => undefined);
        if (buf && !buf.subarray(0, 8000).includes(0)) {
          item.text = buf.toString('utf8');
          budget -= st.size;
        }
      }
      out.set(path.relative(root, full), item);
    }
  };
  await walk(root);
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
