// Git tools: status, diff, log, show and branch list read; add, reset, commit, branch create,
// checkout and worktree change the repository. Each opens the repository through git/ (which
// checks it against the path policy and the sandbox mode), resolves its paths, and calls one core
// function. git_diff and git_show return text; status, log and branch list return data.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  addPaths,
  addWorktree,
  checkout,
  commit,
  createBranch,
  diffText,
  formatBranches,
  formatCommit,
  formatLog,
  formatStatus,
  formatWorktrees,
  getLog,
  getStatus,
  gitSettings,
  listBranches,
  listWorktrees,
  openRepo,
  removeWorktree,
  resetPaths,
  resolvePathspecs,
  showText,
  type Access,
  type Repo,
  type ResetResult,
  type StatusEntry,
  type RepoStatus,
  type BranchList,
  worktreePathOf,
} from '../git/index.js';
import { ConfinedView } from '../sandbox/index.js';
import type { SessionContext } from '../session.js';
import { fitLists } from '../util/budget.js';
import type { Result } from '../util/result.js';
import type { CallContext } from '../types/call.js';
import { defineTool, type AnyToolSpec } from './define.js';
import { dataResult, errorResult, textResult } from './result.js';

/** `args` without its undefined values (for a next-call hint). */
function definedOnly(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
}

/** git_status in one line: where HEAD is, and how many files of each kind. */
function statusSummary(s: RepoStatus): string {
  const where = s.branch ? `On branch ${s.branch}${s.head ? '' : ', no commits yet'}` : s.head ? `HEAD detached at ${s.head.slice(0, 12)}` : 'No commits yet';
  const track = s.upstream ? ` (${s.upstream}: ahead ${s.ahead}, behind ${s.behind})` : '';
  const op = s.operation ? `; a ${s.operation} is in progress` : '';
  if (s.clean) return `${where}${track}${op}; working tree clean.`;
  const counts = [
    [s.conflicted.length, 'conflicted'],
    [s.staged.length, 'staged'],
    [s.unstaged.length, 'unstaged'],
    [s.untracked.length, 'untracked'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, what]) => `${n} ${what}`);
  const omitted = s.omitted ? `; ${s.omitted} more not listed (git_diff with paths, or a narrower repo_path)` : '';
  return `${where}${track}${op}; ${counts.join(', ')}${omitted}.`;
}

// Defaults per MCP: destructiveHint true, idempotentHint false, openWorldHint true; the hints other
// than readOnlyHint mean nothing for a read-only tool.
const READ = { readOnlyHint: true, openWorldHint: false } as const;
const CHANGE = { readOnlyHint: false, destructiveHint: false, openWorldHint: false } as const;

const repoPath = z.string().optional().describe('Default: workspace root.');
const paths = z.array(z.string()).min(1).describe('Files, relative to the repo root.');

const Entry = z.object({ path: z.string(), change: z.string(), from: z.string().optional() });
const StatusOutput = {
  summary: z.string(),
  branch: z.string().nullable(),
  head: z.string().optional(),
  upstream: z.string().optional(),
  ahead: z.number(),
  behind: z.number(),
  operation: z.string().optional(),
  staged: z.array(Entry),
  unstaged: z.array(Entry),
  untracked: z.array(z.string()),
  conflicted: z.array(z.string()),
  clean: z.boolean(),
  omitted: z.number().optional(),
};
const LogOutput = {
  summary: z.string(),
  commits: z.array(
    z.object({
      hash: z.string(),
      author: z.string(),
      date: z.string(),
      subject: z.string(),
      body: z.string().optional(),
      parents: z.array(z.string()).optional(),
    }),
  ),
  more: z.boolean(),
  note: z.string().optional(),
  next: z.string().optional(),
};
const BranchOutput = {
  summary: z.string(),
  current: z.string().optional(),
  branches: z.array(
    z.object({
      name: z.string(),
      commit: z.string(),
      subject: z.string(),
      current: z.boolean().optional(),
      upstream: z.string().optional(),
      track: z.string().optional(),
      worktree: z.string().optional(),
    }),
  ),
  remotes: z.array(z.string()),
  omitted: z.number().optional(),
};

export function gitTools(ctx: SessionContext): AnyToolSpec[] {
  const budget = ctx.runtime.config.output.max_chars;
  // Room for the header and the note that lists what a cut diff left out (up to 40 files).
  const base = gitSettings(ctx.runtime.config.git, ctx.runtime.bin.git);
  const settings = { ...base, maxOutputBytes: Math.min(base.maxOutputBytes, Math.max(1000, budget - 5000)) };
  const view = ConfinedView.of(ctx.runtime);

  /** Opens the repository for this call (policy and mode as in force now) and runs `fn` on it. */
  async function withRepo(
    call: CallContext,
    dir: string | undefined,
    access: Access,
    fn: (repo: Repo) => Promise<CallToolResult>,
  ): Promise<CallToolResult> {
    const repo = await openRepo({ policy: ctx.policy(), settings, view, signal: call.signal }, dir, access);
    return repo.ok ? fn(repo.value) : errorResult(repo.error);
  }
  const text = <T>(r: Result<T>, render: (v: T) => string) => (r.ok ? textResult(render(r.value)) : errorResult(r.error));

  const status = defineTool({
    name: 'git_status',
    title: 'Git status',
    group: 'git',
    description: 'Branch, upstream ahead/behind, operation in progress, and staged, unstaged, untracked and conflicted files.',
    input: { repo_path: repoPath },
    output: StatusOutput,
    annotations: READ,
    run: (args, call) =>
      withRepo(call, args.repo_path, 'read', async (repo) => {
        const r = await getStatus(repo);
        if (!r.ok) return errorResult(r.error);
        const data: Record<string, unknown> = { summary: '', ...r.value };
        const dropped = fitLists(data, ['staged', 'unstaged', 'untracked', 'conflicted'], budget - 500);
        if (dropped > 0) data.omitted = ((data.omitted as number | undefined) ?? 0) + dropped;
        data.summary = statusSummary(data as unknown as RepoStatus);
        return dataResult(data, formatStatus(data as unknown as RepoStatus));
      }),
  });

  const diff = defineTool({
    name: 'git_diff',
    title: 'Git diff',
    group: 'git',
    description:
      'Unified diff. Default: unstaged changes (working tree vs index).',
    input: {
      repo_path: repoPath,
      staged: z.boolean().optional().describe('Index vs HEAD (or ref). Default false.'),
      ref: z.string().optional().describe('Compare the working tree (or index) with this commit.'),
      ref2: z.string().optional().describe('With ref: between two commits.'),
      paths: paths.optional().describe('Only these files, relative to the repo root.'),
      context_lines: z.number().int().min(0).max(100).optional().describe('Default 3.'),
    },
    annotations: READ,
    run: (args, call) =>
      withRepo(call, args.repo_path, 'read', async (repo) => {
        const specs = args.paths ? await resolvePathspecs(repo, args.paths) : undefined;
        if (specs && !specs.ok) return errorResult(specs.error);
        const r = await diffText(repo, {
          staged: args.staged,
          ref: args.ref,
          ref2: args.ref2,
          paths: specs?.value,
          contextLines: args.context_lines,
        });
        return text(r, (v) => v.text);
      }),
  });

  const log = defineTool({
    name: 'git_log',
    title: 'Git log',
    group: 'git',
    description: 'Commits, newest first.',
    input: {
      repo_path: repoPath,
      max_count: z.number().int().min(1).max(500).optional().describe('Default 20.'),
      skip: z.number().int().min(0).optional().describe('Newest commits to skip (paging). Default 0.'),
      ref: z.string().optional().describe('Branch, commit or range (a..b). Default HEAD.'),
      path: z.string().optional().describe('Only commits touching this path.'),
      since: z.string().optional().describe('Only newer commits, e.g. "2 weeks ago", "2024-01-31".'),
    },
    output: LogOutput,
    annotations: READ,
    run: (args, call) =>
      withRepo(call, args.repo_path, 'read', async (repo) => {
        const spec = args.path !== undefined ? await resolvePathspecs(repo, [args.path]) : undefined;
        if (spec && !spec.ok) return errorResult(spec.error);
        const skip = args.skip ?? 0;
        const r = await getLog(repo, { maxCount: args.max_count ?? 20, skip, ref: args.ref, path: spec?.value[0], since: args.since });
        if (!r.ok) return errorResult(r.error);
        const { commits, more } = r.value;
        const next = more ? `git_log ${JSON.stringify(definedOnly({ ...args, skip: skip + commits.length }))}` : undefined;
        const range = commits.length === 0 ? 'No commits' : `${commits.length} commit${commits.length === 1 ? '' : 's'}${skip > 0 ? ` after the newest ${skip}` : ''}, newest first`;
        const summary = `${range}${more ? `; more follow: call ${next}` : ''}.`;
        return dataResult({ summary, ...r.value, ...(next ? { next } : {}) }, formatLog(r.value, next));
      }),
  });

  const show = defineTool({
    name: 'git_show',
    title: 'Git show',
    group: 'git',
    description: "A commit's message, stat and patch; with path, that file's content at ref.",
    input: {
      repo_path: repoPath,
      ref: z.string().describe('Commit, branch or tag.'),
      path: z.string().optional().describe("A file: show its content at ref instead."),
    },
    annotations: READ,
    run: (args, call) =>
      withRepo(call, args.repo_path, 'read', async (repo) => {
        const spec = args.path !== undefined ? await resolvePathspecs(repo, [args.path]) : undefined;
        if (spec && !spec.ok) return errorResult(spec.error);
        return text(await showText(repo, args.ref, spec?.value[0]), (v) => v.text);
      }),
  });

  const branchList = defineTool({
    name: 'git_branch_list',
    title: 'Git branches',
    group: 'git',
    description: 'Local branches (upstream, ahead/behind, worktree) and remote-tracking branches.',
    input: { repo_path: repoPath },
    output: BranchOutput,
    annotations: READ,
    run: (args, call) =>
      withRepo(call, args.repo_path, 'read', async (repo) => {
        const r = await listBranches(repo);
        if (!r.ok) return errorResult(r.error);
        const data: Record<string, unknown> = { summary: '', ...r.value };
        const dropped = fitLists(data, ['branches', 'remotes'], budget - 500);
        if (dropped > 0) data.omitted = ((data.omitted as number | undefined) ?? 0) + dropped;
        const list = data as unknown as BranchList;
        data.summary = `${list.branches.length} local branch${list.branches.length === 1 ? '' : 'es'}${list.current ? `, on ${list.current}` : ''}; ${list.remotes.length} remote-tracking${list.omitted ? `; ${list.omitted} more not listed` : ''}.`;
        return dataResult(data, formatBranches(list));
      }),
  });

  const staged = (entries: StatusEntry[], title = 'Staged') =>
    entries.length === 0 ? 'Nothing is staged.' : `${title} (${entries.length}):\n${entries.map((e) => `  ${e.change}: ${e.from ? `${e.from} -> ` : ''}${e.path}`).join('\n')}`;
  const unstaged = (specs: string[], r: ResetResult) => {
    if (r.unstaged.length > 0) return `Unstaged: ${r.unstaged.join(', ')}.\n${staged(r.staged, 'Still staged')}`;
    if (specs.includes('.')) return 'Nothing is staged; nothing to unstage.';
    return `${specs.join(', ')} ${specs.length === 1 ? 'was' : 'were'} not staged; nothing to unstage.${r.staged.length > 0 ? `\n${staged(r.staged)}` : ''}`;
  };

  const add = defineTool({
    name: 'git_add',
    title: 'Git add',
    group: 'git',
    description: 'Stage new, modified and deleted files.',
    input: { repo_path: repoPath, paths },
    annotations: { ...CHANGE, idempotentHint: true },
    run: (args, call) =>
      withRepo(call, args.repo_path, 'write', async (repo) => {
        const specs = await resolvePathspecs(repo, args.paths);
        if (!specs.ok) return errorResult(specs.error);
        return text(await addPaths(repo, specs.value), staged);
      }),
  });

  const reset = defineTool({
    name: 'git_reset',
    title: 'Git unstage',
    group: 'git',
    description: 'Unstage files. The working tree is not touched.',
    input: { repo_path: repoPath, paths },
    annotations: { ...CHANGE, destructiveHint: true, idempotentHint: true },
    run: (args, call) =>
      withRepo(call, args.repo_path, 'write', async (repo) => {
        const specs = await resolvePathspecs(repo, args.paths);
        if (!specs.ok) return errorResult(specs.error);
        return text(await resetPaths(repo, specs.value), (r) => unstaged(specs.value, r));
      }),
  });

  const commitTool = defineTool({
    name: 'git_commit',
    title: 'Git commit',
    group: 'git',
    description: 'Commit the staged changes.',
    input: {
      repo_path: repoPath,
      message: z.string().min(1).describe('Commit message.'),
      amend: z.boolean().optional().describe('Replace the last commit. Default false.'),
    },
    // amend rewrites history.
    annotations: { ...CHANGE, destructiveHint: true },
    run: (args, call) => withRepo(call, args.repo_path, 'write', async (repo) => text(await commit(repo, args.message, args.amend), formatCommit)),
  });

  const branchCreate = defineTool({
    name: 'git_branch_create',
    title: 'Git branch create',
    group: 'git',
    description: 'Create a branch without switching to it.',
    input: {
      repo_path: repoPath,
      name: z.string().describe('New branch name.'),
      start_point: z.string().optional().describe('Default HEAD.'),
    },
    annotations: CHANGE,
    run: (args, call) =>
      withRepo(call, args.repo_path, 'write', async (repo) =>
        text(await createBranch(repo, args.name, args.start_point), (b) => `Created branch ${b.name} at ${b.commit.slice(0, 12)}.`),
      ),
  });

  const checkoutTool = defineTool({
    name: 'git_checkout',
    title: 'Git checkout',
    group: 'git',
    description: 'Switch to a branch or commit. Refuses if uncommitted changes would be overwritten.',
    input: {
      repo_path: repoPath,
      ref: z.string().describe('Branch or commit.'),
      create: z.boolean().optional().describe('Create branch ref from HEAD. Default false.'),
    },
    annotations: { ...CHANGE, destructiveHint: true },
    run: (args, call) =>
      withRepo(call, args.repo_path, 'write', async (repo) =>
        text(await checkout(repo, args.ref, args.create), (c) => {
          const where = c.branch ? `${c.created ? 'a new branch ' : 'branch '}${c.branch}` : `detached HEAD`;
          const carried = c.carried.length > 0 ? `\nUncommitted changes kept: ${c.carried.join(', ')}` : '';
          return `Switched to ${where} at ${c.head.slice(0, 12)}.${carried}`;
        }),
      ),
  });

  const worktree = defineTool({
    name: 'git_worktree',
    title: 'Git worktree',
    group: 'git',
    description:
      'List, add or remove worktrees. add checks out branch (created from HEAD if new) at path.',
    input: {
      repo_path: repoPath,
      action: z.enum(['list', 'add', 'remove']).describe('What to do.'),
      path: z.string().optional().describe('The worktree. add: default .agentbox/worktrees/<branch>.'),
      branch: z.string().optional().describe('add: default a new agentbox/<id>.'),
      force: z.boolean().optional().describe('remove even with uncommitted files (lost). Default false.'),
    },
    annotations: { ...CHANGE, destructiveHint: true },
    run: (args, call) =>
      withRepo(call, args.repo_path, args.action === 'list' ? 'read' : 'write', async (repo) => {
        if (args.action === 'list') return text(await listWorktrees(repo), formatWorktrees);
        if (args.action === 'add') {
          return text(
            await addWorktree(repo, { path: args.path, branch: args.branch }),
            (w) => `Added worktree ${w.path} on ${w.createdBranch ? 'new ' : ''}branch ${w.branch} at ${w.head.slice(0, 12)}.`,
          );
        }
        const where = args.path ?? (args.branch !== undefined ? await worktreePathOf(repo, args.branch) : undefined);
        if (where === undefined) return errorResult('remove needs path (or branch) of the worktree; git_worktree list shows them.');
        return text(
          await removeWorktree(repo, where, { force: args.force }),
          (w) => `Removed worktree ${w.path}${w.branch ? `; branch ${w.branch} is kept` : ''}.`,
        );
      }),
  });

  return [status, diff, log, show, branchList, add, reset, commitTool, branchCreate, checkoutTool, worktree];
}
