// The git tools as a host calls them: the built server over stdio, real repositories in a temp
// workspace. One server serves the happy paths and the refusals; servers with other settings
// (hooks allowed, read-only, a small output cap, no identity) are started where a test needs them.
// Each repository is a workspace root of its own (in workspace-write mode the git tools refuse a
// repository nested in a root; sandboxed.test.ts covers that), below the first root `ws`, so
// repo_path can name it relative to ws.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { tempDir, type TempDir } from '../support/workspace.js';
import { git } from './support.js';

/** A repository in `ws/name` with an initial commit of `files` and a local identity. */
function repoIn(ws: TempDir, name: string, files: Record<string, string> = { 'README.md': '# test\n' }, identity = true): string {
  const dir = ws.path(name);
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) ws.write(path.join(name, rel), content);
  git(dir, 'init', '-q', '-b', 'main');
  if (identity) {
    git(dir, 'config', 'user.name', 'Test');
    git(dir, 'config', 'user.email', 'test@example.com');
  }
  git(dir, 'add', '-A');
  git(dir, '-c', 'user.name=Setup', '-c', 'user.email=setup@example.com', 'commit', '-q', '-m', 'initial');
  return dir;
}

/** Environment that keeps the machine's own git config (identity, helpers) away from the server. */
function isolatedEnv(home: TempDir, extra: Record<string, string> = {}): Record<string, string> {
  return { HOME: home.dir, GIT_CONFIG_NOSYSTEM: '1', ...extra };
}

let ws: TempDir;
let outside: TempDir;
let home: TempDir;
let conn: Connected;

/** The repositories the tests make, each a root (created empty before the servers start). */
const REPOS = [
  'status', 'diff', 'log', 'show', 'branches', 'commit', 'checkout', 'dirty', 'ignored', 'literal', 'wt', 'hooked', 'hooked-allowed',
  'hookspath', 'paths', 'errors', 'conflict', 'readonly', 'huge', 'logcut', 'noident',
];

/** `--root ws` and one `--root` per repository. */
function rootArgs(): string[] {
  return ['--root', ws.dir, ...REPOS.flatMap((name) => ['--root', ws.path(name)])];
}

beforeAll(async () => {
  ws = tempDir('agentbox-gitws-');
  // Not under /tmp: a path given as /tmp/... means the private temp dir (sandbox/paths.ts).
  outside = tempDir('agentbox-outside-', '/var/tmp');
  home = tempDir('agentbox-home-');
  for (const name of REPOS) mkdirSync(ws.path(name));
  conn = await connectStdio({ args: rootArgs(), env: isolatedEnv(home) });
});
afterAll(async () => {
  await conn?.close();
  ws?.cleanup();
  outside?.cleanup();
  home?.cleanup();
});

const GIT_TOOLS = [
  'git_status',
  'git_diff',
  'git_log',
  'git_show',
  'git_branch_list',
  'git_add',
  'git_reset',
  'git_commit',
  'git_branch_create',
  'git_checkout',
  'git_worktree',
];

describe('tools/list', () => {
  it('publishes the git tools with annotations, and data schemas only for data tools', async () => {
    const { tools } = await conn.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of GIT_TOOLS) expect(byName.has(name), name).toBe(true);
    for (const name of ['git_status', 'git_diff', 'git_log', 'git_show', 'git_branch_list']) {
      expect(byName.get(name)!.annotations?.readOnlyHint, name).toBe(true);
    }
    // git_commit: amend rewrites history.
    for (const name of ['git_reset', 'git_commit', 'git_checkout', 'git_worktree']) {
      expect(byName.get(name)!.annotations?.readOnlyHint, name).toBe(false);
      expect(byName.get(name)!.annotations?.destructiveHint, name).toBe(true);
    }
    for (const name of ['git_add', 'git_branch_create']) {
      expect(byName.get(name)!.annotations?.destructiveHint, name).toBe(false);
    }
    for (const name of ['git_status', 'git_log', 'git_branch_list']) expect(byName.get(name)!.outputSchema, name).toBeDefined();
    for (const name of ['git_diff', 'git_show']) expect(byName.get(name)!.outputSchema, name).toBeUndefined();
    const size = JSON.stringify(tools.filter((t) => t.name.startsWith('git_'))).length;
    expect(size).toBeLessThan(8000);
  });
});

describe('read-only tools', () => {
  it('git_status lists staged, unstaged and untracked files and ahead/behind', async () => {
    const dir = repoIn(ws, 'status', { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    git(dir, 'branch', 'base');
    git(dir, 'branch', '--set-upstream-to=base', 'main');
    ws.write('status/c.txt', 'c\n');
    git(dir, 'add', 'c.txt');
    git(dir, 'commit', '-q', '-m', 'c');
    ws.write('status/a.txt', 'a changed\n');
    ws.write('status/b.txt', 'b staged\n');
    git(dir, 'add', 'b.txt');
    ws.write('status/new/n.txt', 'n\n');
    const r = await conn.call('git_status', { repo_path: 'status' });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({
      branch: 'main',
      upstream: 'base',
      ahead: 1,
      behind: 0,
      staged: [{ path: 'b.txt', change: 'modified' }],
      unstaged: [{ path: 'a.txt', change: 'modified' }],
      untracked: ['new/'],
      conflicted: [],
      clean: false,
    });
    expect(r.text).toContain('On branch main (upstream base: ahead 1, behind 0)');
  });

  it('git_diff shows unstaged, staged, against a ref and between refs, as text only', async () => {
    const dir = repoIn(ws, 'diff', { 'a.txt': 'one\ntwo\nthree\nfour\nfive\nsix\nseven\n', 'b.txt': 'b\n' });
    const first = git(dir, 'rev-parse', 'HEAD').trim();
    ws.write('diff/b.txt', 'b2\n');
    git(dir, 'commit', '-q', '-am', 'b2');
    ws.write('diff/a.txt', 'one\ntwo\nthree\nFOUR\nfive\nsix\nseven\n');
    ws.write('diff/staged.txt', 'staged\n');
    git(dir, 'add', 'staged.txt');
    ws.write('diff/untracked.txt', 'u\n');

    const unstaged = await conn.call('git_diff', { repo_path: 'diff' });
    expect(unstaged.structuredContent).toBeUndefined();
    expect(unstaged.text).toContain('Diff: unstaged changes (working tree vs index).');
    expect(unstaged.text).toContain('-four\n+FOUR');
    expect(unstaged.text).not.toContain('staged.txt\n');
    expect(unstaged.text).toContain('Untracked files are not shown (untracked.txt)');

    const staged = await conn.call('git_diff', { repo_path: 'diff', staged: true });
    expect(staged.text).toContain('+++ b/staged.txt');
    expect(staged.text).not.toContain('FOUR');

    const vsRef = await conn.call('git_diff', { repo_path: 'diff', ref: first, paths: ['b.txt'] });
    expect(vsRef.text).toContain('-b\n+b2');
    expect(vsRef.text).not.toContain('a.txt');

    const between = await conn.call('git_diff', { repo_path: 'diff', ref: first, ref2: 'HEAD', context_lines: 0 });
    expect(between.text).toContain(`Diff: ${first} vs HEAD.`);
    expect(between.text).toContain('@@ -1 +1 @@');

    const none = await conn.call('git_diff', { repo_path: 'diff', paths: ['b.txt'] });
    expect(none.text).toBe('No differences: unstaged changes (working tree vs index).');
  });

  it('git_log returns commits as data, newest first, with max_count, path and since', async () => {
    const dir = repoIn(ws, 'log', { 'a.txt': 'a\n' });
    for (let i = 1; i <= 3; i++) {
      ws.write(`log/f${i}.txt`, `${i}\n`);
      git(dir, 'add', '-A');
      // Commit 1 is dated 2001, the others now.
      const date = i === 1 ? { GIT_COMMITTER_DATE: '2001-01-01T00:00:00Z', GIT_AUTHOR_DATE: '2001-01-01T00:00:00Z' } : {};
      execFileSync('git', ['commit', '-q', '-m', `commit ${i}`, '-m', `body of ${i}`], { cwd: dir, env: { ...process.env, ...date } });
    }
    const r = await conn.call('git_log', { repo_path: 'log', max_count: 2 });
    expect(r.isError).toBeFalsy();
    const data = r.structuredContent as { commits: Array<Record<string, unknown>>; more: boolean };
    expect(data.commits.map((c) => c.subject)).toEqual(['commit 3', 'commit 2']);
    expect(data.commits[0]).toMatchObject({ author: 'Test <test@example.com>', body: 'body of 3' });
    expect(data.commits[0]!.hash).toMatch(/^[0-9a-f]{40}$/);
    expect(data.more).toBe(true);
    const byPath = await conn.call('git_log', { repo_path: 'log', path: 'f2.txt' });
    expect((byPath.structuredContent as typeof data).commits.map((c) => c.subject)).toEqual(['commit 2']);
    const recent = await conn.call('git_log', { repo_path: 'log', since: '2020-01-01', max_count: 10 });
    // git stops walking at the first commit older than since.
    expect((recent.structuredContent as typeof data).commits.map((c) => c.subject)).toEqual(['commit 3', 'commit 2']);
  });

  it('git_show shows a commit, and a file as it was at a ref', async () => {
    const dir = repoIn(ws, 'show', { 'a.txt': 'old content\n' });
    ws.write('show/a.txt', 'new content\n');
    git(dir, 'commit', '-q', '-am', 'change a');
    const commit = await conn.call('git_show', { repo_path: 'show', ref: 'HEAD' });
    expect(commit.structuredContent).toBeUndefined();
    expect(commit.text).toContain('change a');
    expect(commit.text).toContain('-old content\n+new content');
    const file = await conn.call('git_show', { repo_path: 'show', ref: 'HEAD~1', path: 'a.txt' });
    expect(file.text).toBe('old content\n');
  });

  it('git_branch_list lists branches with the current one marked', async () => {
    const dir = repoIn(ws, 'branches');
    git(dir, 'branch', 'feature');
    const r = await conn.call('git_branch_list', { repo_path: 'branches' });
    const data = r.structuredContent as { current: string; branches: Array<{ name: string; current?: boolean }> };
    expect(data.current).toBe('main');
    expect(data.branches.map((b) => b.name).sort()).toEqual(['feature', 'main']);
    expect(data.branches.find((b) => b.name === 'main')!.current).toBe(true);
    expect(r.text).toContain('* main');
  });
});

describe('changing tools', () => {
  it('git_add, git_reset and git_commit stage, unstage and commit', async () => {
    const dir = repoIn(ws, 'commit', { 'a.txt': 'a\n', 'gone.txt': 'x\n' });
    ws.write('commit/a.txt', 'a2\n');
    ws.write('commit/n.txt', 'n\n');
    git(dir, 'rm', '-q', '--cached', 'gone.txt');
    const added = await conn.call('git_add', { repo_path: 'commit', paths: ['a.txt', 'n.txt'] });
    expect(added.isError).toBeFalsy();
    expect(added.text).toContain('modified: a.txt');
    expect(added.text).toContain('added: n.txt');
    const reset = await conn.call('git_reset', { repo_path: 'commit', paths: ['n.txt'] });
    expect(reset.text).toBe('Unstaged: n.txt.\nStill staged (2):\n  modified: a.txt\n  deleted: gone.txt');
    const notStaged = await conn.call('git_reset', { repo_path: 'commit', paths: ['n.txt'] });
    expect(notStaged.isError).toBeFalsy();
    expect(notStaged.text).toBe('n.txt was not staged; nothing to unstage.\nStaged (2):\n  modified: a.txt\n  deleted: gone.txt');
    expect(readFileSync(path.join(dir, 'n.txt'), 'utf8')).toBe('n\n');
    const committed = await conn.call('git_commit', { repo_path: 'commit', message: 'Change a\n\nAnd remove gone.' });
    expect(committed.isError).toBeFalsy();
    expect(committed.text).toMatch(/^Committed [0-9a-f]{7,} on main: Change a/);
    expect(committed.text).toContain('deleted: gone.txt');
    expect(git(dir, 'log', '-1', '--format=%an %s')).toBe('Test Change a\n');
    expect(git(dir, 'status', '--porcelain')).toBe('?? gone.txt\n?? n.txt\n');

    const amended = await conn.call('git_commit', { repo_path: 'commit', message: 'Change a, amended', amend: true });
    expect(amended.text).toContain('Amended');
    expect(git(dir, 'log', '--format=%s')).toBe('Change a, amended\ninitial\n');
  });

  it('git_branch_create and git_checkout create and switch branches', async () => {
    const dir = repoIn(ws, 'checkout', { 'a.txt': 'a\n' });
    const first = git(dir, 'rev-parse', 'HEAD').trim();
    const created = await conn.call('git_branch_create', { repo_path: 'checkout', name: 'feature' });
    expect(created.text).toContain('Created branch feature');
    expect(git(dir, 'branch', '--show-current')).toBe('main\n');
    const switched = await conn.call('git_checkout', { repo_path: 'checkout', ref: 'feature' });
    expect(switched.text).toContain('Switched to branch feature');
    expect(git(dir, 'branch', '--show-current')).toBe('feature\n');
    const made = await conn.call('git_checkout', { repo_path: 'checkout', ref: 'topic', create: true });
    expect(made.text).toContain('a new branch topic');
    const detached = await conn.call('git_checkout', { repo_path: 'checkout', ref: first });
    expect(detached.text).toContain('detached HEAD');
    const exists = await conn.call('git_branch_create', { repo_path: 'checkout', name: 'feature' });
    expect(exists.isError).toBe(true);
    expect(exists.text).toContain("already exists");
  });

  it('git_checkout refuses to overwrite uncommitted changes and names the files', async () => {
    const dir = repoIn(ws, 'dirty', { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    git(dir, 'switch', '-q', '-c', 'other');
    ws.write('dirty/a.txt', 'a on other\n');
    ws.write('dirty/b.txt', 'b on other\n');
    git(dir, 'commit', '-q', '-am', 'other');
    git(dir, 'switch', '-q', 'main');
    ws.write('dirty/a.txt', 'local edit\n');
    ws.write('dirty/b.txt', 'local edit\n');
    const r = await conn.call('git_checkout', { repo_path: 'dirty', ref: 'other' });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('would overwrite uncommitted changes in a.txt, b.txt');
    expect(git(dir, 'branch', '--show-current')).toBe('main\n');
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('local edit\n');
  });

  it('git_checkout refuses to overwrite an ignored file, and says it is ignored', async () => {
    const dir = repoIn(ws, 'ignored', { 'a.txt': 'a\n', '.gitignore': 'build.log\n' });
    git(dir, 'switch', '-q', '-c', 'other');
    ws.write('ignored/build.log', 'tracked on other\n');
    git(dir, 'add', '-f', 'build.log');
    git(dir, 'commit', '-q', '-m', 'track build.log');
    git(dir, 'switch', '-q', 'main');
    ws.write('ignored/build.log', 'my local build output\n');
    const r = await conn.call('git_checkout', { repo_path: 'ignored', ref: 'other' });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('Checkout refused: it would overwrite the ignored file build.log.');
    expect(r.text).toContain('Ignored files are never overwritten either');
    expect(readFileSync(path.join(dir, 'build.log'), 'utf8')).toBe('my local build output\n');
    expect(git(dir, 'branch', '--show-current')).toBe('main\n');
  });

  it('treats paths literally: "*.txt" names that one file, never a pattern', async () => {
    const dir = repoIn(ws, 'literal', { 'keep.txt': 'k\n' });
    ws.write('literal/*.txt', 'star\n');
    ws.write('literal/a.txt', 'a\n');
    ws.write('literal/keep.txt', 'changed\n');
    const added = await conn.call('git_add', { repo_path: 'literal', paths: ['*.txt'] });
    expect(added.text).toBe('Staged (1):\n  added: *.txt');
    const diff = await conn.call('git_diff', { repo_path: 'literal', paths: ['*.txt'], ref: 'HEAD' });
    expect(diff.text).toContain('+++ b/*.txt');
    expect(diff.text).not.toContain('keep.txt');
    expect(git(dir, 'status', '--porcelain')).toBe('A  *.txt\n M keep.txt\n?? a.txt\n');
  });

  it('git_worktree adds, lists and removes a worktree', async () => {
    const dir = repoIn(ws, 'wt');
    const added = await conn.call('git_worktree', { repo_path: 'wt', action: 'add', branch: 'task-1' });
    expect(added.isError).toBeFalsy();
    const wtPath = path.join(dir, '.agentbox', 'worktrees', 'task-1');
    expect(added.text).toContain(`Added worktree ${wtPath} on new branch task-1`);
    expect(existsSync(path.join(wtPath, 'README.md'))).toBe(true);
    const list = await conn.call('git_worktree', { repo_path: 'wt', action: 'list' });
    expect(list.text).toBe(`${dir}  main  (main worktree)\n${wtPath}  task-1`);
    const status = await conn.call('git_status', { repo_path: 'wt' });
    expect((status.structuredContent as { clean: boolean }).clean).toBe(true);
    // The new worktree is itself a repository the git tools accept (its git dir is in wt/.git).
    ws.write('wt/.agentbox/worktrees/task-1/new.txt', 'new\n');
    const inWorktree = await conn.call('git_add', { repo_path: wtPath, paths: ['new.txt'] });
    expect(inWorktree.text).toBe('Staged (1):\n  added: new.txt');
    const dirty = await conn.call('git_worktree', { repo_path: 'wt', action: 'remove', branch: 'task-1' });
    expect(dirty.isError).toBe(true);
    expect(dirty.text).toContain('has uncommitted or untracked files');
    await conn.call('git_commit', { repo_path: wtPath, message: 'new' });
    const removed = await conn.call('git_worktree', { repo_path: 'wt', action: 'remove', branch: 'task-1' });
    expect(removed.text).toContain('Removed worktree');
    expect(existsSync(wtPath)).toBe(false);
  });
});

describe('safety', () => {
  function hookRepo(name: string): { dir: string; mark: string } {
    const dir = repoIn(ws, name);
    const mark = outside.path(`${name}-hook-ran`);
    const hook = ws.write(`${name}/.git/hooks/pre-commit`, `#!/bin/sh\necho pwned > ${mark}\n`);
    chmodSync(hook, 0o755);
    ws.write(`${name}/x.txt`, 'x\n');
    git(dir, 'add', 'x.txt');
    return { dir, mark };
  }

  it('git_commit does not run a pre-commit hook that writes outside the workspace', async () => {
    const { mark } = hookRepo('hooked');
    const r = await conn.call('git_commit', { repo_path: 'hooked', message: 'x' });
    expect(r.isError).toBeFalsy();
    expect(existsSync(mark)).toBe(false);
  });

  it('runs hooks when git.allow_hooks is true (so the test above can fail), inside git\'s view of the workspace', async () => {
    const { mark } = hookRepo('hooked-allowed');
    // The hook also leaves a mark in the workspace; the one outside it cannot be written from the view.
    const inside = ws.path('hooked-allowed-ran');
    const hook = ws.write('hooked-allowed/.git/hooks/pre-commit', `#!/bin/sh\necho pwned > ${inside}\necho pwned > ${mark} 2>/dev/null\nexit 0\n`);
    chmodSync(hook, 0o755);
    const c = await connectStdio({ args: rootArgs(), env: isolatedEnv(home, { AGENTBOX_GIT_ALLOW_HOOKS: 'true' }) });
    try {
      const r = await c.call('git_commit', { repo_path: 'hooked-allowed', message: 'x' });
      expect(r.isError).toBeFalsy();
      expect(readFileSync(inside, 'utf8')).toBe('pwned\n');
      expect(existsSync(mark)).toBe(false);
    } finally {
      await c.close();
    }
  });

  it('ignores a core.hooksPath set in the repository config', async () => {
    const dir = repoIn(ws, 'hookspath');
    const mark = outside.path('hookspath-ran');
    const hook = ws.write('hookspath/myhooks/pre-commit', `#!/bin/sh\necho pwned > ${mark}\n`);
    chmodSync(hook, 0o755);
    git(dir, 'config', 'core.hooksPath', path.join(dir, 'myhooks'));
    await conn.call('git_add', { repo_path: 'hookspath', paths: ['myhooks'] });
    const r = await conn.call('git_commit', { repo_path: 'hookspath', message: 'x' });
    expect(r.isError).toBeFalsy();
    expect(existsSync(mark)).toBe(false);
  });

  it('refuses a repo_path outside the workspace, directly or through a symlink', async () => {
    const outRepo = outside.path('repo');
    mkdirSync(outRepo);
    git(outRepo, 'init', '-q');
    symlinkSync(outRepo, ws.path('link-out'));
    for (const repo_path of [outRepo, 'link-out', '..']) {
      for (const tool of ['git_status', 'git_log']) {
        const r = await conn.call(tool, { repo_path });
        expect(r.isError, `${tool} ${repo_path}`).toBe(true);
        expect(r.text).toMatch(/outside/);
      }
      const c = await conn.call('git_commit', { repo_path, message: 'x' });
      expect(c.isError).toBe(true);
    }
  });

  it('refuses paths outside the repository, directly or through a symlinked directory', async () => {
    const dir = repoIn(ws, 'paths');
    outside.write('secret.txt', 'secret\n');
    symlinkSync(outside.dir, path.join(dir, 'out'));
    for (const p of ['../status/a.txt', 'out/secret.txt', outside.path('secret.txt')]) {
      const r = await conn.call('git_add', { repo_path: 'paths', paths: [p] });
      expect(r.isError, p).toBe(true);
      const d = await conn.call('git_diff', { repo_path: 'paths', paths: [p] });
      expect(d.isError, p).toBe(true);
    }
    expect(git(dir, 'status', '--porcelain')).toBe('?? out\n');
  });
});

describe('errors', () => {
  it('says what is wrong: not a repository, unknown ref, nothing to commit', async () => {
    ws.write('plain/file.txt', 'x\n');
    const notRepo = await conn.call('git_status', { repo_path: 'plain' });
    expect(notRepo.isError).toBe(true);
    expect(notRepo.text).toContain('plain is not in a git repository');

    repoIn(ws, 'errors');
    for (const [tool, args] of [
      ['git_show', { ref: 'nope' }],
      ['git_diff', { ref: 'nope' }],
      ['git_log', { ref: 'nope' }],
      ['git_checkout', { ref: 'nope' }],
      ['git_branch_create', { name: 'x', start_point: 'nope' }],
    ] as const) {
      const r = await conn.call(tool, { repo_path: 'errors', ...args });
      expect(r.isError, tool).toBe(true);
      expect(r.text, tool).toMatch(/Unknown revision 'nope'|invalid reference: nope/i);
      expect(r.text, tool).not.toMatch(/\n\s+at /);
    }
    const option = await conn.call('git_show', { repo_path: 'errors', ref: '--output=/tmp/x' });
    expect(option.isError).toBe(true);
    expect(option.text).toContain('starts with "-"');

    const nothing = await conn.call('git_commit', { repo_path: 'errors', message: 'x' });
    expect(nothing.isError).toBe(true);
    expect(nothing.text).toContain('Nothing to commit');
  });

  it('reports a merge conflict in progress and refuses to commit or switch', async () => {
    const dir = repoIn(ws, 'conflict', { 'a.txt': 'base\n' });
    git(dir, 'switch', '-q', '-c', 'other');
    ws.write('conflict/a.txt', 'other\n');
    git(dir, 'commit', '-q', '-am', 'other');
    git(dir, 'switch', '-q', 'main');
    ws.write('conflict/a.txt', 'main\n');
    git(dir, 'commit', '-q', '-am', 'main');
    expect(() => git(dir, 'merge', 'other')).toThrow();
    const status = await conn.call('git_status', { repo_path: 'conflict' });
    expect(status.structuredContent).toMatchObject({ operation: 'merge', conflicted: ['a.txt'] });
    const commit = await conn.call('git_commit', { repo_path: 'conflict', message: 'merge' });
    expect(commit.isError).toBe(true);
    expect(commit.text).toContain('unresolved conflicts (a.txt)');
    const checkout = await conn.call('git_checkout', { repo_path: 'conflict', ref: 'other' });
    expect(checkout.isError).toBe(true);
    expect(checkout.text).toContain('A merge is in progress');
  });
});

describe('other settings', () => {
  let c: Connected | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it('read-only mode publishes no git tool that changes a repository, and still reads', async () => {
    const dir = repoIn(ws, 'readonly');
    ws.write('readonly/README.md', 'changed\n');
    c = await connectStdio({ args: [...rootArgs(), '--sandbox', 'read-only'], env: isolatedEnv(home) });
    const names = (await c.client.listTools()).tools.map((t) => t.name).filter((n) => n.startsWith('git_'));
    expect(names.sort()).toEqual(['git_branch_list', 'git_diff', 'git_log', 'git_show', 'git_status']);
    expect((await c.call('git_status', { repo_path: 'readonly' })).isError).toBeFalsy();
    expect((await c.call('git_diff', { repo_path: 'readonly' })).text).toContain('+changed');
    for (const tool of ['git_add', 'git_reset', 'git_commit', 'git_branch_create', 'git_checkout', 'git_worktree']) {
      const r = await c.call(tool, { repo_path: 'readonly', paths: ['README.md'] });
      expect(r.isError, tool).toBe(true);
      expect(r.text, tool).toContain(`Tool ${tool} not found`);
    }
    expect(git(dir, 'status', '--porcelain')).toBe(' M README.md\n');
    expect(git(dir, 'branch', '--list')).toBe('* main\n');
  });

  it('cuts a huge diff at git.max_output_bytes and says how to narrow it', async () => {
    const dir = repoIn(ws, 'huge');
    for (let i = 0; i < 30; i++) ws.write(`huge/file${String(i).padStart(2, '0')}.txt`, `${'y'.repeat(100)}\n`.repeat(50));
    git(dir, 'add', '-A');
    c = await connectStdio({ args: rootArgs(), env: isolatedEnv(home, { AGENTBOX_GIT_MAX_OUTPUT_BYTES: '4000' }) });
    const r = await c.call('git_diff', { repo_path: 'huge', staged: true });
    expect(r.isError).toBeFalsy();
    expect(r.text.length).toBeLessThan(4000 + 3000);
    expect(r.text).toContain('[Output cut at 4000 bytes. The diff covers 30 files; shown in full: 0; cut inside file00.txt.');
    expect(r.text).toContain('file29.txt (+50 -0)');
    expect(r.text).toContain('Narrow the request with paths');
    git(dir, 'commit', '-q', '-m', 'thirty files');
    const show = await c.call('git_show', { repo_path: 'huge', ref: 'HEAD' });
    expect(show.isError).toBeFalsy();
    expect(show.text).toMatch(/^commit [0-9a-f]{40}\n/);
    expect(show.text).toContain(' 30 files changed, 1500 insertions(+)');
    expect(show.text).toContain('+++ b/file00.txt');
    expect(show.text).not.toContain('file29.txt\n+');
    expect(show.text).toMatch(/\n\[Output cut at 4000 bytes\. Use git_show with path to see one file at HEAD, or git_diff with ref and paths to see part of the change\.\]$/);
    expect(show.text.length).toBeLessThan(4000 + 200);
    const file = await c.call('git_show', { repo_path: 'huge', ref: 'HEAD', path: 'file00.txt' });
    expect(file.text.length).toBeLessThan(4000 + 300);
    expect(file.text).toMatch(/^y{100}\n/);
    expect(file.text).toContain('[Output cut at 4000 bytes. Read the file in the working tree with read_file');
  });

  it('cuts a long log at git.max_output_bytes, saying what was left out and how to narrow it', async () => {
    const dir = repoIn(ws, 'logcut');
    for (let i = 1; i <= 6; i++) {
      ws.write(`logcut/f${i}.txt`, `${i}\n`);
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '-m', `commit ${i}`, '-m', `body ${i} ${'b'.repeat(1500)}`);
    }
    c = await connectStdio({ args: rootArgs(), env: isolatedEnv(home, { AGENTBOX_GIT_MAX_OUTPUT_BYTES: '4000' }) });
    const r = await c.call('git_log', { repo_path: 'logcut', max_count: 5 });
    const data = r.structuredContent as { commits: Array<{ subject: string; body?: string }>; more: boolean; note?: string };
    expect(data.commits.map((x) => x.subject)).toEqual(['commit 6', 'commit 5', 'commit 4', 'commit 3', 'commit 2']);
    expect(data.commits.filter((x) => x.body !== undefined).map((x) => x.subject)).toEqual(['commit 6', 'commit 5']);
    expect(data.more).toBe(true);
    expect(data.note).toBe(
      'Left out to stay within 4000 bytes: the message bodies of the 3 oldest commits shown. ' +
        'git_show <hash> shows a whole message; skip pages on, and path, since or a ref range (a..b) narrow the list.',
    );
    expect(r.text).toContain(`(${data.note})`);
    expect(r.text).not.toContain('raise max_count');
    // The next page starts after the last commit shown, and the structured result names that call.
    expect((r.structuredContent as { next?: string }).next).toBe('git_log {"repo_path":"logcut","max_count":5,"skip":5}');
    const next = (await c.call('git_log', { repo_path: 'logcut', max_count: 5, skip: 5 })).structuredContent as { commits: Array<{ subject: string }>; more: boolean; next?: string; summary: string };
    expect(next.commits.map((x) => x.subject)).toEqual(['commit 1', 'initial']);
    expect(next).toMatchObject({ more: false, summary: '2 commits after the newest 5, newest first.' });
    expect(next.next).toBeUndefined();
  });

  it('a commit without an identity fails saying how to set one; git.author supplies one', async () => {
    const dir = repoIn(ws, 'noident', { 'a.txt': 'a\n' }, false);
    ws.write('noident/a.txt', 'a2\n');
    git(dir, 'add', 'a.txt');
    c = await connectStdio({ args: rootArgs(), env: isolatedEnv(home) });
    const r = await c.call('git_commit', { repo_path: 'noident', message: 'x' });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('no git identity');
    expect(r.text).toContain('Ask the user to set git.author');
    expect(r.text).toContain('`git config user.name "Name"`');
    expect(r.text).toContain('outside agentbox');
    await c.close();
    c = await connectStdio({
      args: rootArgs(),
      env: isolatedEnv(home, { AGENTBOX_GIT_AUTHOR_NAME: 'Agent Box', AGENTBOX_GIT_AUTHOR_EMAIL: 'agent@example.com' }),
    });
    const ok = await c.call('git_commit', { repo_path: 'noident', message: 'x' });
    expect(ok.isError).toBeFalsy();
    expect(git(dir, 'log', '-1', '--format=%an <%ae> / %cn')).toBe('Agent Box <agent@example.com> / Agent Box\n');
  });
});
