// Branches: list (git_branch_list), create (git_branch_create) and switch (git_checkout).
// Switching never overwrites uncommitted work: git refuses when a locally changed file differs
// between the branches, and --no-overwrite-ignore extends that to ignored files. A ref is always
// read as a ref, never as a file to restore (`git switch`, not `git checkout <path>`).
import { fail, ok, type Result } from '../util/result.js';
import { describeOverwritten, OVERWRITE_HINT, overwrittenFiles, type Overwritten } from './errors.js';
import { checkRevision, type Repo } from './repo.js';
import { getStatus, operationInProgress } from './status.js';

export interface BranchInfo {
  name: string;
  commit: string;
  subject: string;
  /** Present (true) on the checked-out branch. */
  current?: boolean;
  upstream?: string;
  /** Commits ahead of / behind the upstream; "gone" when the upstream branch was deleted. */
  track?: string;
  /** Where the branch is checked out, when in another worktree. */
  worktree?: string;
}

export interface BranchList {
  /** The checked-out branch; absent when HEAD is detached. */
  current?: string;
  branches: BranchInfo[];
  /** Remote-tracking branches, e.g. origin/main. */
  remotes: string[];
  omitted?: number;
}

const LIST_CAP = 300;
const REF_FORMAT = ['%(refname)', '%(objectname:short)', '%(HEAD)', '%(upstream:short)', '%(upstream:track,nobracket)', '%(worktreepath)', '%(symref)', '%(contents:subject)'].join('%00');

/** Parses `git for-each-ref --format=REF_FORMAT` output. Pure. */
export function parseBranches(out: string, top: string, cap = LIST_CAP): BranchList {
  const list: BranchList = { branches: [], remotes: [] };
  let omitted = 0;
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const [ref = '', commit = '', head = '', upstream = '', track = '', worktree = '', symref = '', subject = ''] = line.split('\0');
    if (ref.startsWith('refs/heads/')) {
      const name = ref.slice('refs/heads/'.length);
      const current = head === '*';
      if (current) list.current = name;
      if (list.branches.length >= cap) {
        omitted++;
        continue;
      }
      const b: BranchInfo = { name, commit, subject, ...(current ? { current } : {}) };
      if (upstream) b.upstream = upstream;
      if (upstream && track) b.track = track;
      if (worktree && !current && worktree !== top) b.worktree = worktree;
      list.branches.push(b);
    } else if (ref.startsWith('refs/remotes/') && !symref) {
      if (list.remotes.length >= cap) {
        omitted++;
        continue;
      }
      list.remotes.push(ref.slice('refs/remotes/'.length));
    }
  }
  if (omitted > 0) list.omitted = omitted;
  return list;
}

export async function listBranches(repo: Repo): Promise<Result<BranchList>> {
  const out = await repo.run(['for-each-ref', `--format=${REF_FORMAT}`, 'refs/heads', 'refs/remotes']);
  if (!out.ok) return out;
  const list = parseBranches(out.value.stdout, repo.top);
  if (list.current === undefined) {
    // Before the first commit the current branch has no ref yet.
    const head = await repo.run(['symbolic-ref', '--quiet', '--short', 'HEAD'], { okExit: [1] });
    if (head.ok && head.value.stdout.trim()) list.current = head.value.stdout.trim();
  }
  return ok(list);
}

export function formatBranches(list: BranchList): string {
  const lines = list.branches.map((b) => {
    const track = b.upstream ? ` [${b.upstream}${b.track ? `: ${b.track}` : ''}]` : '';
    return `${b.current ? '*' : ' '} ${b.name} ${b.commit}${track} ${b.subject}${b.worktree ? ` (worktree ${b.worktree})` : ''}`;
  });
  if (lines.length === 0) lines.push(list.current ? `* ${list.current} (no commits yet)` : 'No branches.');
  if (list.remotes.length > 0) lines.push(`Remote-tracking: ${list.remotes.join(', ')}`);
  if (list.omitted) lines.push(`(${list.omitted} more not listed)`);
  return lines.join('\n');
}

/** The commit a revision names, or undefined when it names none. */
export async function resolveCommit(repo: Repo, rev: string): Promise<string | undefined> {
  const out = await repo.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { okExit: [1, 128] });
  return out.ok && out.value.exitCode === 0 ? out.value.stdout.trim() || undefined : undefined;
}

async function branchExists(repo: Repo, name: string): Promise<boolean> {
  const out = await repo.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `refs/heads/${name}`], { okExit: [1, 128] });
  return out.ok && out.value.exitCode === 0 && out.value.stdout.trim() !== '';
}

export interface CreatedBranch {
  name: string;
  commit: string;
}

export async function createBranch(repo: Repo, name: string, startPoint?: string): Promise<Result<CreatedBranch>> {
  const checked = checkRevision(name, 'branch name');
  if (!checked.ok) return checked;
  if (startPoint !== undefined) {
    const sp = checkRevision(startPoint, 'start point');
    if (!sp.ok) return sp;
  }
  const target = startPoint ?? 'HEAD';
  const commit = await resolveCommit(repo, target);
  if (!commit) {
    return startPoint === undefined
      ? fail('no_commits', 'The repository has no commits yet, so there is nothing to branch from.', 'Commit first (git_add, git_commit).')
      : fail('unknown_ref', `Unknown revision '${startPoint}'.`, 'Check the name with git_branch_list or git_log.');
  }
  const out = await repo.run(['branch', '--no-track', '--end-of-options', name, commit]);
  if (!out.ok) return out;
  return ok({ name, commit });
}

export interface CheckoutResult {
  /** The branch now checked out; null when HEAD is detached. */
  branch: string | null;
  head: string;
  created: boolean;
  /** Files with uncommitted changes that were carried over to the new HEAD. */
  carried: string[];
}

export async function checkout(repo: Repo, ref: string, create = false): Promise<Result<CheckoutResult>> {
  const checked = checkRevision(ref);
  if (!checked.ok) return checked;
  const op = operationInProgress(repo.gitDir);
  if (op) return fail('merge_conflict', `A ${op} is in progress; finish or abort it before switching.`, 'See git_status for the conflicted files.');
  // -q: without it git lists the local changes it carries over, asking a git in each submodule.
  const base = ['switch', '-q', '--no-overwrite-ignore'];
  let args: string[];
  let branch: string | null = ref;
  if (create) {
    args = [...base, '--no-track', '-c', ref];
  } else if (await branchExists(repo, ref)) {
    args = [...base, '--end-of-options', ref];
  } else if (await resolveCommit(repo, ref)) {
    args = [...base, '--detach', '--end-of-options', ref];
    branch = null;
  } else {
    // Not a local branch or a commit: let git create a tracking branch from a unique remote one.
    args = [...base, '--end-of-options', ref];
  }
  let output = '';
  const out = await repo.run(args, { onFailure: (o) => (output = o) });
  if (!out.ok) {
    if (create && out.error.code === 'git_error' && /already exists/.test(out.error.message)) {
      return fail('branch_exists', `A branch named '${ref}' already exists.`, 'Check it out without create.');
    }
    if (out.error.code === 'dirty_worktree') return refuseOverwrite(repo, overwrittenFiles(output));
    return out;
  }
  const status = await getStatus(repo);
  if (!status.ok) return status;
  const s = status.value;
  const carried = [...new Set([...s.staged, ...s.unstaged].map((e) => e.path))];
  return ok({ branch: branch === null ? null : s.branch, head: s.head ?? '', created: create, carried });
}

/** The refusal of a checkout that would overwrite files, saying which of the untracked ones are ignored. */
async function refuseOverwrite(repo: Repo, files: Overwritten): Promise<Result<never>> {
  let ignored: string[] = [];
  if (files.untracked.length > 0) {
    // check-ignore takes plain paths (it refuses the literal pathspec switch), and -z only with
    // --stdin: a name git has to quote is then simply not recognised as ignored.
    const out = await repo.run(['check-ignore', '--', ...files.untracked], { okExit: [1], env: { GIT_LITERAL_PATHSPECS: '0' } });
    if (out.ok) ignored = out.value.stdout.split('\n').filter((f) => files.untracked.includes(f));
  }
  const hint = ignored.length > 0 ? `${OVERWRITE_HINT} Ignored files are never overwritten either: move ${ignored.length === 1 ? 'it' : 'them'} aside (or delete ${ignored.length === 1 ? 'it' : 'them'} if ${ignored.length === 1 ? 'it is' : 'they are'} generated).` : OVERWRITE_HINT;
  return fail('dirty_worktree', `Checkout refused: it would overwrite ${describeOverwritten({ ...files, ignored })}.`, hint);
}
