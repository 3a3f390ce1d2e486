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
  /** True when more commits match than were returned. */
  more: boolean;
  /** What was left out to stay within the output budget, and how to see it. */
  note?: string;
}

export interface LogRequest {
  maxCount: number;
  /** Newest commits to pass over first (paging). */
  skip?: number;
  ref?: string;
  /** A pathspec relative to the top level, already checked. */
  path?: string;
  since?: string;
}

// Fields are separated by NUL, which no name or message can hold (\x1f can); with -z git ends
// each commit with one more NUL, so the output is a flat list of FIELDS.length-field groups.
const FIELDS = ['%H', '%an <%ae>', '%aI', '%P', '%s', '%b'];
const FORMAT = FIELDS.join('%x00');
/** A commit body longer than this is cut; the whole message is one git_show away. */
const MAX_BODY = 2000;

/** Parses `git log -z --format=FORMAT` output. Pure. */
export function parseLog(out: string): LogCommit[] {
  const commits: LogCommit[] = [];
  const parts = out.split('\0');
  for (let i = 0; i + FIELDS.length <= parts.length; i += FIELDS.length) {
    const [hash = '', author = '', date = '', parentList = '', subject = '', body = ''] = parts.slice(i, i + FIELDS.length);
    if (!/^[0-9a-f]{7,64}$/.test(hash)) break;
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
  const args = ['log', '--no-color', '-z', `--format=${FORMAT}`, `--max-count=${req.maxCount + 1}`, ...(req.skip ? [`--skip=${req.skip}`] : [])];
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
  return ok(fitLog(commits, more, repo.ctx.settings.maxOutputBytes));
}

/** Keeps the commits within `max` bytes of JSON: drops bodies (oldest first), then the oldest commits, and says so. Pure. */
export function fitLog(commits: LogCommit[], more: boolean, max: number): LogResult {
  const size = () => JSON.stringify(commits).length;
  let bodies = 0;
  for (let i = commits.length - 1; i >= 0 && size() > max; i--) {
    if (commits[i]!.body === undefined) continue;
    delete commits[i]!.body;
    bodies++;
  }
  let dropped = 0;
  while (commits.length > 1 && size() > max) {
    commits.pop();
    dropped++;
  }
  if (bodies === 0 && dropped === 0) return { commits, more };
  const cut = [
    ...(bodies > 0 ? [`the message bodies of the ${bodies} oldest commit${bodies === 1 ? '' : 's'} shown`] : []),
    ...(dropped > 0 ? [`${dropped} older commit${dropped === 1 ? '' : 's'}`] : []),
  ].join(' and ');
  const note =
    `Left out to stay within ${max} bytes: ${cut}. ` +
    `git_show <hash> shows a whole message; skip pages on, and path, since or a ref range (a..b) narrow the list.`;
  return { commits, more: more || dropped > 0, note };
}

/** The log as text; `next` is the call that shows the commits after these. */
export function formatLog(result: LogResult, next?: string): string {
  if (result.commits.length === 0) return 'No commits.';
  const lines = result.commits.map(
    (c) => `${c.hash.slice(0, 12)} ${c.date.slice(0, 10)} ${c.author}: ${c.subject}${c.body ? `\n    ${c.body.split('\n').join('\n    ')}` : ''}`,
  );
  if (result.note) lines.push(`(${result.note})`);
  if (next) lines.push(`(more commits: call ${next})`);
  else if (result.more) lines.push('(more commits; raise max_count or narrow with since, ref or path)');
  return lines.join('\n');
}
