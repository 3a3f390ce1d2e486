// Turns what a failed git command printed into a failure a model can act on. git's messages are
// English here (LC_ALL=C, see settings.ts), so they are recognised by their text. What is not
// recognised comes back as git printed it, trimmed, never as a stack trace.
import { fail, type Result } from '../util/result.js';

/** Recognises git's error output; `output` is stderr followed by stdout. */
export function classifyGitError(output: string, exitCode: number | null): Result<never> {
  const text = output.replace(/\r/g, '').trim();
  const has = (re: RegExp) => re.test(text);

  if (has(/not a git repository/i)) {
    return fail('not_a_repository', 'Not a git repository.', 'Pass repo_path pointing at a repository inside the workspace.');
  }
  if (has(/detected dubious ownership/i)) {
    return fail(
      'dubious_ownership',
      'git refuses this repository: it is owned by another user (safe.directory).',
      'The user can trust it with `git config --global --add safe.directory <path>`.',
    );
  }
  if (has(/Author identity unknown|Committer identity unknown|Please tell me who you are|empty ident name|no email was given|unable to auto-detect email/i)) {
    // The sandbox keeps .git read-only, so the model cannot set one itself: the user has to.
    return fail(
      'no_identity',
      'Cannot commit: no git identity (user.name and user.email) is configured.',
      'Ask the user to set git.author = { name = "…", email = "…" } in ~/.agentbox/config.toml (or AGENTBOX_GIT_AUTHOR_NAME and ' +
        'AGENTBOX_GIT_AUTHOR_EMAIL), or to run `git config user.name "Name"` and `git config user.email "you@example.com"` outside agentbox.',
    );
  }
  const overwritten = overwrittenFiles(text);
  if (overwritten.changed.length + overwritten.untracked.length > 0) {
    return fail('dirty_worktree', `Checkout refused: it would overwrite ${describeOverwritten(overwritten)}.`, OVERWRITE_HINT);
  }
  if (has(/you need to resolve your current index first|unmerged files|Unmerged paths|is unmerged|needs merge|not possible because you have unmerged/i)) {
    return fail(
      'merge_conflict',
      'The repository has unresolved merge conflicts.',
      'Resolve the conflicted files (see git_status), git_add them, then git_commit.',
    );
  }
  if (has(/nothing to commit|no changes added to commit|nothing added to commit/i)) {
    return fail('nothing_to_commit', 'Nothing to commit: no changes are staged.', 'Stage changes with git_add first (git_status shows what changed).');
  }
  if (has(/You have nothing to amend/i)) {
    return fail('nothing_to_amend', 'Nothing to amend: the branch has no commits yet.', 'Commit without amend.');
  }
  const missing = /path '([^']*)' (?:does not exist|exists on disk, but not) in '([^']*)'/i.exec(text);
  if (missing) {
    return fail('not_found', `${missing[1]} does not exist at ${missing[2]}.`, 'git_log with path lists the commits that touched it.');
  }
  const ref = unknownRevision(text);
  if (ref !== undefined) {
    return fail('unknown_ref', `Unknown revision${ref ? ` '${ref}'` : ''}.`, 'Check the name with git_branch_list or git_log.');
  }
  const exists = /(?:a branch named|branch) '([^']+)' already exists/i.exec(text);
  if (exists) return fail('branch_exists', `A branch named '${exists[1]}' already exists.`, 'Choose another name, or git_checkout it.');
  const invalid = /'([^']*)' is not a valid branch name/i.exec(text);
  if (invalid) return fail('invalid_name', `'${invalid[1]}' is not a valid branch name.`, 'Use letters, digits, "-", "_", "/" and "."; no spaces, "..", "~", "^", ":" or a leading "-".');
  const inUse = /'([^']+)' is already (?:checked out|used by worktree) at '([^']+)'/i.exec(text);
  if (inUse) {
    return fail('branch_in_use', `Branch '${inUse[1]}' is already checked out in the worktree at ${inUse[2]}.`, 'Use another branch, or remove that worktree first.');
  }
  if (has(/index\.lock': File exists|Unable to create '[^']*\.lock'/i)) {
    return fail('locked', 'Another git process holds the repository lock (index.lock).', 'Wait for it to finish and try again; if none is running, the user can delete .git/index.lock.');
  }
  if (has(/lazy fetching disabled|could not fetch \S+ from promisor remote/i)) {
    return fail(
      'missing_object',
      'The object is not in the local repository (a partial clone left it on the remote), and git tools never fetch.',
      'Ask the user to fetch it outside agentbox, or look at another revision.',
    );
  }
  if (has(/transport '[^']*' not allowed|protocol '[^']*' is not allowed/i)) {
    return fail('network_disabled', 'git tried to reach a remote, and network access is off for git.', 'The user can allow it with git.allow_network = true.');
  }
  if (has(/paths are ignored by one of your \.gitignore files/i)) {
    return fail('ignored_path', firstLines(text, 6), 'These paths are in .gitignore; agentbox does not force-add ignored files.');
  }
  if (has(/pathspec '([^']*)' did not match any files/i)) {
    const m = /pathspec '([^']*)' did not match any files/i.exec(text)!;
    return fail('no_such_path', `No file matches '${m[1]}' in the repository.`, 'Check the path with git_status; paths are relative to the repository root.');
  }
  return fail('git_error', `git failed${exitCode !== null ? ` (exit ${exitCode})` : ''}: ${firstLines(text, 20) || 'no message'}`);
}

/** Files a checkout refused to overwrite: tracked ones with local changes, and untracked (or ignored) ones. */
export interface Overwritten {
  changed: string[];
  untracked: string[];
  /** The untracked files that are ignored, when the caller found out (git's message does not say). */
  ignored?: string[];
}

export const OVERWRITE_HINT = 'Commit them (git_add, git_commit) or move them aside first; nothing was changed.';

/** The files git names in "would be overwritten by checkout" errors. Pure. */
export function overwrittenFiles(text: string): Overwritten {
  const tail = ' would be (?:overwritten|removed) by (?:checkout|switch)[^\\n]*:\\n';
  return {
    changed: filesAfter(text, new RegExp(`Your local changes to the following files${tail}`, 'i')),
    untracked: filesAfter(text, new RegExp(`The following untracked working tree files${tail}`, 'i')),
  };
}

/** "uncommitted changes in a.txt; the untracked file n.txt; the ignored file build.log". Pure. */
export function describeOverwritten(o: Overwritten): string {
  const ignored = new Set(o.ignored ?? []);
  const untracked = o.untracked.filter((f) => !ignored.has(f));
  const list = (what: string, files: string[]) => `the ${what} file${files.length === 1 ? '' : 's'} ${files.join(', ')}`;
  const parts: string[] = [];
  if (o.changed.length > 0) parts.push(`uncommitted changes in ${o.changed.join(', ')}`);
  if (untracked.length > 0) parts.push(list('untracked', untracked));
  if (ignored.size > 0) parts.push(list('ignored', [...ignored]));
  return parts.join('; ');
}

/** The revision git could not resolve ('' when it does not say which), or undefined for another error. */
function unknownRevision(text: string): string | undefined {
  const named = [
    /ambiguous argument '([^']*)': unknown revision/i,
    /bad revision '([^']*)'/i,
    /invalid reference: (\S+)/i,
    /not a valid object name:? '?([^'\s]+?)'?\.?$/im,
    /invalid object name '([^']*)'/i,
    /bad object (\S+)/i,
    /'([^']*)' is not a commit/i,
  ];
  for (const re of named) {
    const m = re.exec(text);
    if (m) return m[1];
  }
  return /unknown revision|Needed a single revision|not a valid object name|not a tree object/i.test(text) ? '' : undefined;
}

/** The tab- or space-indented file names git lists after `heading`. */
function filesAfter(text: string, heading: RegExp): string[] {
  const files: string[] = [];
  let rest = text;
  for (;;) {
    const m = heading.exec(rest);
    if (!m) break;
    rest = rest.slice(m.index + m[0].length);
    for (const line of rest.split('\n')) {
      if (!/^\s+\S/.test(line)) break;
      files.push(line.trim());
    }
  }
  return [...new Set(files)];
}

function firstLines(text: string, n: number): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !/^hint: /.test(l));
  return lines.slice(0, n).join('\n') + (lines.length > n ? `\n… (${lines.length - n} more lines)` : '');
}
