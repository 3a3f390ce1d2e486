// Staging and committing: git_add, git_reset (unstage only, the working tree is never touched)
// and git_commit. Hooks, signing and identity follow the settings (settings.ts).
import { fail, ok, type Result } from '../util/result.js';
import type { Repo } from './repo.js';
import { getStatus, type StatusEntry } from './status.js';

/** Stages the given pathspecs (new, changed and deleted files); returns everything now staged. */
export async function addPaths(repo: Repo, pathspecs: string[]): Promise<Result<StatusEntry[]>> {
  if (pathspecs.length === 0) return fail('invalid_arguments', 'No paths given.', 'Pass paths, e.g. ["."] for everything.');
  const out = await repo.run(['add', '--', ...pathspecs]);
  if (!out.ok) return out;
  const status = await getStatus(repo);
  return status.ok ? ok(status.value.staged) : status;
}

/** Unstages the given pathspecs (the index entry goes back to HEAD); returns what stays staged. */
export async function resetPaths(repo: Repo, pathspecs: string[]): Promise<Result<StatusEntry[]>> {
  if (pathspecs.length === 0) return fail('invalid_arguments', 'No paths given.', 'Pass paths, e.g. ["."] for everything.');
  const head = await repo.run(['rev-parse', '--verify', '--quiet', 'HEAD'], { okExit: [1] });
  if (!head.ok) return head;
  const out = head.value.exitCode === 0
    ? await repo.run(['reset', '-q', '--', ...pathspecs])
    : // Before the first commit there is no HEAD to reset to: drop the entries from the index.
      await repo.run(['rm', '--cached', '-r', '-q', '--ignore-unmatch', '--', ...pathspecs]);
  if (!out.ok) return out;
  const status = await getStatus(repo);
  return status.ok ? ok(status.value.staged) : status;
}

export interface CommitResult {
  hash: string;
  short: string;
  branch: string | null;
  subject: string;
  amended: boolean;
  files: Array<{ path: string; change: string; from?: string }>;
}

export async function commit(repo: Repo, message: string, amend = false): Promise<Result<CommitResult>> {
  if (message.trim() === '') return fail('invalid_arguments', 'The commit message is empty.');
  const status = await getStatus(repo);
  if (!status.ok) return status;
  const s = status.value;
  if (s.conflicted.length > 0) {
    return fail(
      'merge_conflict',
      `Cannot commit: ${s.conflicted.length} file${s.conflicted.length === 1 ? ' has' : 's have'} unresolved conflicts (${s.conflicted.slice(0, 10).join(', ')}).`,
      'Resolve the conflict markers, git_add the files, then commit.',
    );
  }
  if (!amend && s.staged.length === 0 && s.operation !== 'merge') {
    const unstaged = s.unstaged.length + s.untracked.length;
    return fail(
      'nothing_to_commit',
      'Nothing to commit: no changes are staged.',
      unstaged > 0 ? `${unstaged} changed or untracked file${unstaged === 1 ? ' is' : 's are'} not staged; stage them with git_add first.` : 'The working tree is clean.',
    );
  }
  if (amend && !s.head) return fail('nothing_to_amend', 'Nothing to amend: the branch has no commits yet.', 'Commit without amend.');
  if (repo.ctx.settings.signCommits && repo.repoSigningProgram) {
    return fail(
      'unsafe_config',
      `Cannot sign: the repository's own config sets ${repo.repoSigningProgram}, a program agentbox will not run from a repository's config.`,
      'Set the signing program in your global git config instead, or turn git.sign_commits off.',
    );
  }
  const out = await repo.run(['commit', '-q', '--no-edit', ...(amend ? ['--amend'] : []), `--message=${message}`]);
  if (!out.ok) return out;
  const info = await repo.run(['log', '-1', '--no-color', '--format=%H%x1f%h%x1f%s']);
  if (!info.ok) return info;
  const [hash = '', short = '', subject = ''] = info.value.stdout.trim().split('\x1f');
  const tree = await repo.run(['diff-tree', '--no-commit-id', '--name-status', '-r', '-z', '-M', '--root', 'HEAD']);
  const files = tree.ok ? parseNameStatus(tree.value.stdout) : [];
  return ok({ hash, short, branch: s.branch, subject, amended: amend, files });
}

const NAME_KINDS: Record<string, string> = { A: 'added', M: 'modified', D: 'deleted', R: 'renamed', C: 'copied', T: 'type-changed', U: 'unmerged' };

/** Parses `--name-status -z` output (`X\0path\0`, renames `R100\0old\0new\0`). Pure. */
export function parseNameStatus(out: string): Array<{ path: string; change: string; from?: string }> {
  const parts = out.split('\0');
  const files: Array<{ path: string; change: string; from?: string }> = [];
  for (let i = 0; i < parts.length; i++) {
    const code = parts[i]!;
    if (code === '') continue;
    const kind = NAME_KINDS[code[0]!] ?? 'modified';
    if (code[0] === 'R' || code[0] === 'C') {
      const from = parts[++i] ?? '';
      const to = parts[++i] ?? '';
      files.push({ path: to, change: kind, from });
    } else {
      files.push({ path: parts[++i] ?? '', change: kind });
    }
  }
  return files;
}

export function formatCommit(c: CommitResult): string {
  const lines = [`${c.amended ? 'Amended' : 'Committed'} ${c.short}${c.branch ? ` on ${c.branch}` : ' (detached HEAD)'}: ${c.subject}`];
  for (const f of c.files.slice(0, 50)) lines.push(`  ${f.change}: ${f.from ? `${f.from} -> ` : ''}${f.path}`);
  if (c.files.length > 50) lines.push(`  … and ${c.files.length - 50} more files`);
  return lines.join('\n');
}
