// Staging and committing: git_add, git_reset (unstage only, the working tree is never touched)
// and git_commit. Hooks, signing and identity follow the settings (settings.ts).
//
// What is staged comes from `git diff --cached` (index against HEAD: no scan of the work tree).
// `git add` over a submodule asks a git inside it whether its work tree is dirty, and that git
// reads whatever config the submodule's .git file (in the work tree) points at; so submodules are
// left out of `git add` and their new commits recorded with `git update-index`, which asks no one.
// `git commit` runs a full status when there is nothing to commit, with the same effect; it only
// runs once the index is known to hold a change.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fail, ok, type Result } from '../util/result.js';
import type { Repo } from './repo.js';
import { getStatus, type StatusEntry } from './status.js';

/** Stages the given pathspecs (new, changed and deleted files); returns everything now staged. */
export async function addPaths(repo: Repo, pathspecs: string[]): Promise<Result<StatusEntry[]>> {
  if (pathspecs.length === 0) return fail('invalid_arguments', 'No paths given.', 'Pass paths, e.g. ["."] for everything.');
  const links = (await mayHaveGitlinks(repo.gitDir)) ? await gitlinksIn(repo, pathspecs) : ok([]);
  if (!links.ok) return links;
  if (links.value.length === 0) {
    const out = await repo.run(['add', '--', ...pathspecs]);
    if (!out.ok) return out;
  } else {
    const files = pathspecs.filter((p) => !links.value.includes(p));
    if (files.length > 0) {
      // Pathspec magic, for the exclusions only: every given path stays literal.
      const specs = [...files.map((p) => `:(literal)${p}`), ...links.value.map((l) => `:(exclude,literal)${l}`)];
      const out = await repo.run(['add', '--', ...specs], { env: { GIT_LITERAL_PATHSPECS: '0' } });
      if (!out.ok) return out;
    }
    const linked = await repo.run(['update-index', '--remove', '--', ...links.value]);
    if (!linked.ok) return linked;
  }
  const staged = await stagedChanges(repo);
  return staged.ok ? ok(staged.value.filter(isStaged)) : staged;
}

export interface ResetResult {
  /** Paths that were staged and no longer are (a rename counts by its new path). */
  unstaged: string[];
  /** Everything still staged. */
  staged: StatusEntry[];
}

/** Unstages the given pathspecs (the index entry goes back to HEAD); says what was unstaged and what stays staged. */
export async function resetPaths(repo: Repo, pathspecs: string[]): Promise<Result<ResetResult>> {
  if (pathspecs.length === 0) return fail('invalid_arguments', 'No paths given.', 'Pass paths, e.g. ["."] for everything.');
  const before = await stagedChanges(repo);
  if (!before.ok) return before;
  const covered = before.value.filter((e) => pathspecs.some((spec) => covers(spec, e.path) || (e.from !== undefined && covers(spec, e.from))));
  if (covered.length === 0) return ok({ unstaged: [], staged: before.value.filter(isStaged) });
  // Before the first commit git resets to the empty tree, which drops the entries.
  const out = await repo.run(['reset', '-q', '--', ...pathspecs]);
  if (!out.ok) return out;
  const after = await stagedChanges(repo);
  if (!after.ok) return after;
  return ok({ unstaged: covered.map((e) => e.path), staged: after.value.filter(isStaged) });
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
  if (repo.ctx.settings.signCommits && repo.repoSigningProgram) {
    return fail(
      'unsafe_config',
      `Cannot sign: the repository's own config sets ${repo.repoSigningProgram}, a program agentbox will not run from a repository's config.`,
      'Set the signing program in your global git config instead, or turn git.sign_commits off.',
    );
  }
  const staged = await stagedChanges(repo, amend ? 'HEAD' : undefined);
  if (!staged.ok) {
    return amend && staged.error.code === 'unknown_ref' ? fail('nothing_to_amend', 'Nothing to amend: the branch has no commits yet.', 'Commit without amend.') : staged;
  }
  const conflicted = staged.value.filter((e) => e.change === 'unmerged').map((e) => e.path);
  if (conflicted.length > 0) {
    return fail(
      'merge_conflict',
      `Cannot commit: ${conflicted.length} file${conflicted.length === 1 ? ' has' : 's have'} unresolved conflicts (${conflicted.slice(0, 10).join(', ')}).`,
      'Resolve the conflict markers, git_add the files, then commit.',
    );
  }
  if (!amend && staged.value.length === 0 && !existsIn(repo.gitDir, 'MERGE_HEAD')) return nothingToCommit(repo);
  // --allow-empty: the index was checked above; git's own check would run a full status.
  const out = await repo.run(['commit', '-q', '--no-edit', '--allow-empty', ...(amend ? ['--amend'] : []), `--message=${message}`]);
  if (!out.ok) return out;
  const info = await repo.run(['diff-tree', '-r', '-z', '-M', '--root', '--always', '--name-status', '--format=%H%x1f%h%x1f%s', 'HEAD']);
  if (!info.ok) return info;
  const { hash, short, subject, files } = parseCommitInfo(info.value.stdout);
  return ok({ hash, short, branch: await currentBranch(repo), subject, amended: amend, files });
}

/** The failure for a commit with nothing staged, counting what could be staged. */
async function nothingToCommit(repo: Repo): Promise<Result<never>> {
  const status = await getStatus(repo);
  const unstaged = status.ok ? status.value.unstaged.length + status.value.untracked.length : 0;
  return fail(
    'nothing_to_commit',
    'Nothing to commit: no changes are staged.',
    unstaged > 0 ? `${unstaged} changed or untracked file${unstaged === 1 ? ' is' : 's are'} not staged; stage them with git_add first.` : 'The working tree is clean.',
  );
}

/** What the index holds against `base` (default HEAD, or the empty tree before the first commit). */
async function stagedChanges(repo: Repo, base?: string): Promise<Result<Array<{ path: string; change: string; from?: string }>>> {
  const out = await repo.run(['diff', '--cached', '--name-status', '-z', '-M', '--no-ext-diff', '--end-of-options', ...(base ? [base] : []), '--']);
  return out.ok ? ok(parseNameStatus(out.value.stdout)) : out;
}

const isStaged = (e: { change: string }): e is StatusEntry => e.change !== 'unmerged';

/** True when the literal pathspec `spec` names `file` or a directory holding it. */
function covers(spec: string, file: string): boolean {
  return spec === '.' || file === spec || file.startsWith(`${spec}/`);
}

/** True when the index may hold a submodule (a gitlink): its mode 0160000 appears in the index bytes. */
async function mayHaveGitlinks(gitDir: string): Promise<boolean> {
  const gitlinkMode = Buffer.from([0, 0, 0xe0, 0]);
  const index = await readFile(path.join(gitDir, 'index')).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? Buffer.alloc(0) : undefined));
  if (index === undefined || index.includes(gitlinkMode)) return true;
  // A split index keeps most entries in a shared file, named by the "link" extension.
  if (!index.includes(Buffer.from('link'))) return false;
  const shared = (await readdir(gitDir).catch(() => [] as string[])).filter((n) => n.startsWith('sharedindex.'));
  for (const name of shared) {
    const bytes = await readFile(path.join(gitDir, name)).catch(() => undefined);
    if (bytes === undefined || bytes.includes(gitlinkMode)) return true;
  }
  return false;
}

/** The submodules (gitlinks) in the index that the pathspecs cover. */
async function gitlinksIn(repo: Repo, pathspecs: string[]): Promise<Result<string[]>> {
  const out = await repo.run(['ls-files', '--stage', '-z', '--', ...pathspecs]);
  if (!out.ok) return out;
  const links = out.value.stdout
    .split('\0')
    .filter((rec) => rec.startsWith('160000 '))
    .map((rec) => rec.slice(rec.indexOf('\t') + 1));
  return ok([...new Set(links)]);
}

/** The branch HEAD names, or null when detached (read from HEAD, which confine.ts checked). */
async function currentBranch(repo: Repo): Promise<string | null> {
  const head = await readFile(path.join(repo.gitDir, 'HEAD'), 'utf8').catch(() => '');
  const m = /^ref: refs\/heads\/(.+)$/m.exec(head);
  return m ? m[1]!.trim() : null;
}

function existsIn(dir: string, name: string): boolean {
  return existsSync(path.join(dir, name));
}

/** Parses `git diff-tree -z --format=%H%x1f%h%x1f%s --name-status` output for one commit. Pure. */
export function parseCommitInfo(out: string): { hash: string; short: string; subject: string; files: Array<{ path: string; change: string; from?: string }> } {
  const end = out.indexOf('\0');
  const header = end < 0 ? out.trim() : out.slice(0, end);
  const [hash = '', short = '', ...subject] = header.replace(/^\n+/, '').split('\x1f');
  const files = end < 0 ? [] : parseNameStatus(out.slice(end + 1).replace(/^\n/, ''));
  return { hash, short, subject: subject.join('\x1f'), files };
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
