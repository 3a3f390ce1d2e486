// git_status's core: branch, upstream, ahead/behind, an operation in progress, and the staged,
// unstaged, untracked and conflicted files, from `git status --porcelain=v2` (a stable format).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ok, type Result } from '../util/result.js';
import type { Repo } from './repo.js';

export type ChangeKind = 'added' | 'modified' | 'deleted' | 'renamed' | 'copied' | 'type-changed';

export interface StatusEntry {
  path: string;
  change: ChangeKind;
  /** The old path of a rename or copy. */
  from?: string;
}

export type Operation = 'merge' | 'rebase' | 'cherry-pick' | 'revert' | 'bisect' | 'am';

export interface RepoStatus {
  /** Branch name; null when HEAD is detached. */
  branch: string | null;
  /** Commit HEAD points at; absent before the first commit. */
  head?: string;
  upstream?: string;
  ahead: number;
  behind: number;
  /** A merge, rebase, … that is in progress and must be finished or aborted. */
  operation?: Operation;
  staged: StatusEntry[];
  unstaged: StatusEntry[];
  /** Untracked files; an untracked directory is listed once, with a trailing "/". */
  untracked: string[];
  conflicted: string[];
  clean: boolean;
  /** Entries left out of the lists above (each list holds at most `LIST_CAP`). */
  omitted?: number;
}

export const LIST_CAP = 300;

const KINDS: Record<string, ChangeKind> = { A: 'added', M: 'modified', D: 'deleted', R: 'renamed', C: 'copied', T: 'type-changed' };

/** Parses `git status --porcelain=v2 --branch -z` output. Pure. */
export function parseStatus(out: string, cap = LIST_CAP): Omit<RepoStatus, 'operation'> {
  const status: Omit<RepoStatus, 'operation'> = { branch: null, ahead: 0, behind: 0, staged: [], unstaged: [], untracked: [], conflicted: [], clean: true };
  let omitted = 0;
  const push = <T>(list: T[], item: T) => {
    if (list.length < cap) list.push(item);
    else omitted++;
  };
  const records = out.split('\0');
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    if (rec === '') continue;
    if (rec.startsWith('# ')) {
      const [, key, ...rest] = rec.split(' ');
      const value = rest.join(' ');
      if (key === 'branch.oid' && value !== '(initial)') status.head = value;
      else if (key === 'branch.head') status.branch = value === '(detached)' ? null : value;
      else if (key === 'branch.upstream') status.upstream = value;
      else if (key === 'branch.ab') {
        const m = /^\+(\d+) -(\d+)$/.exec(value);
        if (m) {
          status.ahead = Number(m[1]);
          status.behind = Number(m[2]);
        }
      }
      continue;
    }
    const type = rec[0];
    if (type === '?') {
      push(status.untracked, rec.slice(2));
      continue;
    }
    if (type === '!') continue;
    // Fixed fields before the path: 8 for "1", 9 for "2" (rename score), 10 for "u".
    const fields = type === '1' ? 8 : type === '2' ? 9 : type === 'u' ? 10 : -1;
    if (fields < 0) continue;
    const parts = splitFields(rec, fields);
    const xy = parts[1] ?? '..';
    const file = parts[fields] ?? '';
    if (type === 'u') {
      push(status.conflicted, file);
      continue;
    }
    const from = type === '2' ? records[++i] : undefined;
    const [x, y] = [xy[0] ?? '.', xy[1] ?? '.'];
    if (x !== '.' && KINDS[x]) push(status.staged, { path: file, change: KINDS[x]!, ...(from && (x === 'R' || x === 'C') ? { from } : {}) });
    if (y !== '.' && KINDS[y]) push(status.unstaged, { path: file, change: KINDS[y]! });
  }
  if (omitted > 0) status.omitted = omitted;
  status.clean = status.staged.length + status.unstaged.length + status.untracked.length + status.conflicted.length + omitted === 0;
  return status;
}

/** Splits off `n` space-separated fields; the rest (a path that may hold spaces) is field `n`. */
function splitFields(rec: string, n: number): string[] {
  const parts: string[] = [];
  let rest = rec;
  for (let k = 0; k < n; k++) {
    const sp = rest.indexOf(' ');
    if (sp < 0) break;
    parts.push(rest.slice(0, sp));
    rest = rest.slice(sp + 1);
  }
  parts.push(rest);
  return parts;
}

/** The operation in progress, from the marker files git leaves in its directory. */
export function operationInProgress(gitDir: string): Operation | undefined {
  const has = (name: string) => existsSync(path.join(gitDir, name));
  if (has('rebase-merge') || (has('rebase-apply') && !has('rebase-apply/applying'))) return 'rebase';
  if (has('rebase-apply')) return 'am';
  if (has('MERGE_HEAD')) return 'merge';
  if (has('CHERRY_PICK_HEAD')) return 'cherry-pick';
  if (has('REVERT_HEAD')) return 'revert';
  if (has('BISECT_LOG')) return 'bisect';
  return undefined;
}

export async function getStatus(repo: Repo): Promise<Result<RepoStatus>> {
  // A submodule counts as changed when its commit moved, never by asking a git inside it.
  const out = await repo.run(['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=normal', '--ignore-submodules=dirty']);
  if (!out.ok) return out;
  const operation = operationInProgress(repo.gitDir);
  return ok({ ...parseStatus(out.value.stdout), ...(operation ? { operation } : {}) });
}

/** The status as text for hosts that read text. */
export function formatStatus(s: RepoStatus): string {
  const lines: string[] = [];
  const where = s.branch ? `On branch ${s.branch}` : s.head ? `HEAD detached at ${s.head.slice(0, 12)}` : 'No commits yet';
  const track = s.upstream ? ` (upstream ${s.upstream}: ahead ${s.ahead}, behind ${s.behind})` : '';
  lines.push(`${where}${track}${s.branch && !s.head ? ', no commits yet' : ''}`);
  if (s.operation) lines.push(`A ${s.operation} is in progress.`);
  const section = (title: string, items: string[]) => {
    if (items.length > 0) lines.push(`${title}:`, ...items.map((i) => `  ${i}`));
  };
  const entry = (e: StatusEntry) => `${e.change}: ${e.from ? `${e.from} -> ` : ''}${e.path}`;
  section('Conflicted', s.conflicted);
  section('Staged', s.staged.map(entry));
  section('Unstaged', s.unstaged.map(entry));
  section('Untracked', s.untracked);
  if (s.omitted) lines.push(`(${s.omitted} more entries not listed; use git_diff with paths or narrow repo_path)`);
  if (s.clean) lines.push('Working tree clean.');
  return lines.join('\n');
}
