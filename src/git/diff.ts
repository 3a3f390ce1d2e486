// git_diff and git_show's core: a diff or an object as text for a model, capped at
// git.max_output_bytes. When the output is cut, the note lists the files the diff covers (from
// --numstat) so the model can ask again for fewer paths.
import { fail, ok, type Result } from '../util/result.js';
import { checkRevision, type Repo } from './repo.js';

/**
 * Flags that keep a diff git's own: no external diff program, no textconv filter, no colour, and
 * no git started in a submodule (to diff it, or to see whether its work tree is dirty): a
 * submodule's .git file lies in the work tree, where a command can point it at any config.
 */
export const PLAIN_DIFF = ['--no-ext-diff', '--no-textconv', '--no-color', '--submodule=short', '--ignore-submodules=dirty'];

export interface DiffRequest {
  staged?: boolean;
  ref?: string;
  ref2?: string;
  /** Pathspecs relative to the top level, already checked (see resolvePathspecs). */
  paths?: string[];
  contextLines?: number;
}

export interface TextOutcome {
  text: string;
  truncated: boolean;
}

/** A one-line description of what a diff request compares. */
export function describeDiff(req: DiffRequest): string {
  if (req.ref && req.ref2) return `${req.ref} vs ${req.ref2}`;
  if (req.staged) return `staged changes (index vs ${req.ref ?? 'HEAD'})`;
  if (req.ref) return `working tree vs ${req.ref}`;
  return 'unstaged changes (working tree vs index)';
}

export async function diffText(repo: Repo, req: DiffRequest): Promise<Result<TextOutcome>> {
  if (req.ref2 && !req.ref) return fail('invalid_arguments', 'ref2 needs ref: the diff is ref..ref2.');
  if (req.ref2 && req.staged) return fail('invalid_arguments', 'staged compares the index with ref; it cannot be combined with ref2.');
  const refs: string[] = [];
  for (const r of [req.ref, req.ref2]) {
    if (r === undefined) continue;
    const checked = checkRevision(r);
    if (!checked.ok) return checked;
    refs.push(r);
  }
  const select = [...(req.staged ? ['--cached'] : []), '--end-of-options', ...refs, '--', ...(req.paths ?? [])];
  const context = req.contextLines !== undefined ? [`-U${req.contextLines}`] : [];
  const max = repo.ctx.settings.maxOutputBytes;
  // -M here and in --numstat below, so the cut note lists the same files in the same order.
  const out = await repo.run(['diff', ...PLAIN_DIFF, '-M', ...context, ...select], { maxBytes: max });
  if (!out.ok) return out;
  const what = describeDiff(req);
  const worktree = !req.staged && !req.ref2;
  const untracked = worktree ? await untrackedNote(repo, req.paths ?? []) : '';

  if (out.value.stdout.length === 0) return ok({ text: `No differences: ${what}.${untracked}`, truncated: false });
  if (!out.value.truncated) return ok({ text: `Diff: ${what}.${untracked}\n${out.value.stdout}`, truncated: false });

  const shown = cutAtLine(out.value.stdout);
  const stat = await repo.run(['diff', '--numstat', '-z', ...PLAIN_DIFF, '-M', ...select], { maxBytes: 256 * 1024 });
  const files = stat.ok ? parseNumstat(stat.value.stdout) : [];
  const note = cutNote(shown, files, max, 'Narrow the request with paths (a few files at a time) or context_lines: 0.');
  return ok({ text: `Diff: ${what}.${untracked}\n${shown}\n${note}`, truncated: true });
}

export async function showText(repo: Repo, ref: string, pathspec?: string): Promise<Result<TextOutcome>> {
  const checked = checkRevision(ref);
  if (!checked.ok) return checked;
  const max = repo.ctx.settings.maxOutputBytes;
  const object = pathspec !== undefined ? `${ref}:${pathspec === '.' ? '' : pathspec}` : ref;
  const args = pathspec !== undefined
    ? ['show', ...PLAIN_DIFF, '--end-of-options', object]
    : ['show', ...PLAIN_DIFF, '--format=fuller', '--stat', '--patch', '--end-of-options', object];
  const out = await repo.run(args, { maxBytes: max });
  if (!out.ok) return out;
  const { stdout, truncated } = out.value;
  if (pathspec !== undefined && stdout.slice(0, 8000).includes('\0')) {
    return ok({ text: `${object} is a binary file; git_show shows text only.`, truncated: false });
  }
  if (!truncated) return ok({ text: stdout.length > 0 ? stdout : `${object} is empty.`, truncated: false });
  const shown = cutAtLine(stdout);
  const hint = pathspec !== undefined
    ? 'Read the file in the working tree with read_file (offset/limit) if it is unchanged, or ask for a smaller file.'
    : `Use git_show with path to see one file at ${ref}, or git_diff with ref and paths to see part of the change.`;
  return ok({ text: `${shown}\n[Output cut at ${max} bytes. ${hint}]`, truncated: true });
}

/** A note saying how many untracked files a working-tree diff leaves out. */
async function untrackedNote(repo: Repo, paths: string[]): Promise<string> {
  const out = await repo.run(['ls-files', '--others', '--exclude-standard', '--directory', '--no-empty-directory', '-z', '--', ...paths], { maxBytes: 64 * 1024 });
  if (!out.ok) return '';
  const names = out.value.stdout.split('\0').filter(Boolean);
  if (names.length === 0) return '';
  const listed = names.slice(0, 10).join(', ') + (names.length > 10 || out.value.truncated ? ', …' : '');
  return ` Untracked files are not shown (${listed}); git_add them to diff them with staged: true.`;
}

export interface NumstatEntry {
  path: string;
  from?: string;
  added: number | null;
  deleted: number | null;
}

/** Parses `git diff --numstat -z`; binary files have null counts. Pure. */
export function parseNumstat(out: string): NumstatEntry[] {
  const parts = out.split('\0');
  const files: NumstatEntry[] = [];
  for (let i = 0; i < parts.length; i++) {
    const rec = parts[i]!;
    if (rec === '') continue;
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(rec);
    if (!m) continue;
    const added = m[1] === '-' ? null : Number(m[1]);
    const deleted = m[2] === '-' ? null : Number(m[2]);
    if (m[3] === '') {
      // A rename: the old and new paths follow as their own fields.
      const from = parts[++i] ?? '';
      const to = parts[++i] ?? '';
      files.push({ path: to, from, added, deleted });
    } else {
      files.push({ path: m[3]!, added, deleted });
    }
  }
  return files;
}

/** The text up to its last complete line. */
export function cutAtLine(text: string): string {
  const nl = text.lastIndexOf('\n');
  return nl > 0 ? text.slice(0, nl) : text;
}

/** The note after a cut diff: which files were shown in full, which were cut, how to narrow. */
export function cutNote(shown: string, files: NumstatEntry[], max: number, hint: string): string {
  const headers = [...shown.matchAll(/^diff --git a\/(.*) b\/(.*)$/gm)].map((m) => m[2]!);
  const full = Math.max(0, headers.length - 1);
  const partly = headers.at(-1);
  const rest = files.slice(headers.length);
  const count = (f: NumstatEntry) => (f.added === null ? 'binary' : `+${f.added} -${f.deleted}`);
  const lines = [`[Output cut at ${max} bytes.${files.length > 0 ? ` The diff covers ${files.length} file${files.length === 1 ? '' : 's'}` : ''}${files.length > 0 ? `; shown in full: ${full}` : ''}${partly ? `; cut inside ${partly}` : ''}${files.length > 0 ? '.' : ''}`];
  if (rest.length > 0) {
    lines.push(`Not shown (${rest.length}):`);
    for (const f of rest.slice(0, 40)) lines.push(`  ${f.from ? `${f.from} -> ` : ''}${f.path} (${count(f)})`);
    if (rest.length > 40) lines.push(`  … and ${rest.length - 40} more`);
  }
  lines.push(`${hint}]`);
  return lines.join('\n');
}
