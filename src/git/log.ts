// git_log's core: commits as data, newest first, within a count and a byte budget.
import { ok, type Result } from '../util/result.js';
import { checkRevision, type Repo } from './repo.js';

export interface LogCommit {
  hash: string;
  /** "Name <email>". */
  author: string;
  /** Author date, ISO 8601. */
  date: string;
  subject: string;
  /** The message after the subject, when there is one. */
  body?: string;
  /** Parent commits, listed for merges only. */
  parents?: string[];
}

export interface LogResult {
  commits: LogCommit[];
  /** True when more commits match than were returned (raise max_count or narrow with since/path). */
  more: boolean;
}

export interface LogRequest {
  maxCount: number;
  ref?: string;
  /** A pathspec relative to the top level, already checked. */
  path?: string;
  since?: string;
}

const FIELD = '\x1f';
const FORMAT = ['%H', '%an <%ae>', '%aI', '%P', '%s', '%b'].join('%x1f');
/** A commit body longer than this is cut; the whole message is one git_show away. */
const MAX_BODY = 2000;

/** Parses `git log -z --format=FORMAT` output. Pure. */
export function parseLog(out: string): LogCommit[] {
  const commits: LogCommit[] = [];
  for (const rec of out.split('\0')) {
    if (rec.trim() === '') continue;
    const [hash = '', author = '', date = '', parentList = '', subject = '', body = ''] = rec.replace(/^\n/, '').split(FIELD);
    const trimmed = body.trim();
    const parents = parentList.split(' ').filter(Boolean);
    const c: LogCommit = { hash, author, date, subject };
    if (trimmed) c.body = trimmed.length > MAX_BODY ? `${trimmed.slice(0, MAX_BODY)}… (cut; git_show ${hash.slice(0, 12)} for all)` : trimmed;
    if (parents.length > 1) c.parents = parents;
    commits.push(c);
  }
  return commits;
}

export async function getLog(repo: Repo, req: LogRequest): Promise<Result<LogResult>> {
  const args = ['log', '--no-color', '-z', `--format=${FORMAT}`, `--max-count=${req.maxCount + 1}`];
  if (req.since !== undefined) {
    const since = checkRevision(req.since, 'since value');
    if (!since.ok) return since;
    args.push(`--since=${req.since}`);
  }
  args.push('--end-of-options');
  if (req.ref !== undefined) {
    const ref = checkRevision(req.ref);
    if (!ref.ok) return ref;
    args.push(req.ref);
  }
  args.push('--', ...(req.path !== undefined ? [req.path] : []));
  const out = await repo.run(args);
  if (!out.ok) {
    // A branch with no commits yet has an empty history, not an error.
    if (req.ref === undefined && /does not have any commits yet/.test(out.error.message)) return ok({ commits: [], more: false });
    return out;
  }
  const all = parseLog(out.value.stdout);
  const more = all.length > req.maxCount;
  const commits = all.slice(0, req.maxCount);
  // Keep the data within the output budget: drop bodies first, then the oldest commits.
  const max = repo.ctx.settings.maxOutputBytes;
  const size = () => JSON.stringify(commits).length;
  for (let i = commits.length - 1; i >= 0 && size() > max; i--) delete commits[i]!.body;
  let dropped = false;
  while (commits.length > 1 && size() > max) {
    commits.pop();
    dropped = true;
  }
  return ok({ commits, more: more || dropped });
}

export function formatLog(result: LogResult): string {
  if (result.commits.length === 0) return 'No commits.';
  const lines = result.commits.map(
    (c) => `${c.hash.slice(0, 12)} ${c.date.slice(0, 10)} ${c.author}: ${c.subject}${c.body ? `\n    ${c.body.split('\n').join('\n    ')}` : ''}`,
  );
  if (result.more) lines.push('(more commits; raise max_count or narrow with since, ref or path)');
  return lines.join('\n');
}
