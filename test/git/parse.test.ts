// Pure parts of the git core, as tables: the safe environment and config, git's output formats,
// and the error messages git prints (captured from git 2.39 with LC_ALL=C).
import { describe, expect, it } from 'vitest';
import {
  classifyGitError,
  gitEnv,
  includedFiles,
  parseBranches,
  parseChanges,
  fitLog,
  formatLog,
  formatWorktrees,
  parseCommitInfo,
  parseLog,
  parseNameStatus,
  parseNumstat,
  parseScopedConfig,
  parseStatus,
  parseWorktrees,
  repoConfigOverrides,
  safeConfig,
} from '../../src/git/index.js';

describe('gitEnv', () => {
  const env = {
    PATH: '/usr/bin',
    HOME: '/home/u',
    GIT_DIR: '/elsewhere/.git',
    GIT_WORK_TREE: '/elsewhere',
    GIT_EXTERNAL_DIFF: 'evil',
    GIT_SSH_COMMAND: 'evil',
    GIT_CONFIG_PARAMETERS: "'core.hookspath'='/evil'",
    GIT_CONFIG_COUNT: '1',
    GIT_INDEX_FILE: '/x',
    OPENAI_API_KEY: 'secret',
    SSH_AUTH_SOCK: '/agent.sock',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Env Author',
  };

  it('passes only allow-listed variables and adds no pager, no editor, no prompt', () => {
    const out = gitEnv({ env, allowNetwork: false });
    expect(out).toMatchObject({
      PATH: '/usr/bin',
      HOME: '/home/u',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Env Author',
      GIT_TERMINAL_PROMPT: '0',
      GIT_EDITOR: 'true',
      GIT_PAGER: 'cat',
      LC_ALL: 'C',
      GIT_LITERAL_PATHSPECS: '1',
      GIT_NO_LAZY_FETCH: '1',
      GIT_ALLOW_PROTOCOL: 'none',
      GIT_OPTIONAL_LOCKS: '0',
    });
    expect(gitEnv({ env, allowNetwork: false }, { optionalLocks: true })).not.toHaveProperty('GIT_OPTIONAL_LOCKS');
    expect(gitEnv({ env, allowNetwork: true })).not.toHaveProperty('GIT_ALLOW_PROTOCOL');
    for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_EXTERNAL_DIFF', 'GIT_SSH_COMMAND', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT', 'GIT_INDEX_FILE', 'OPENAI_API_KEY', 'SSH_AUTH_SOCK']) {
      expect(out, name).not.toHaveProperty(name);
    }
  });

  it('passes the ssh agent only when the network is allowed, and sets git.author for both roles', () => {
    expect(gitEnv({ env, allowNetwork: true }).SSH_AUTH_SOCK).toBe('/agent.sock');
    const out = gitEnv({ env, allowNetwork: false, author: { name: 'Bot', email: 'bot@x' } });
    expect(out).toMatchObject({ GIT_AUTHOR_NAME: 'Bot', GIT_AUTHOR_EMAIL: 'bot@x', GIT_COMMITTER_NAME: 'Bot', GIT_COMMITTER_EMAIL: 'bot@x' });
  });
});

describe('safeConfig', () => {
  it('turns hooks, signing and transports off unless allowed', () => {
    const strict = safeConfig({ allowHooks: false, allowNetwork: false, signCommits: false });
    expect(strict).toEqual(
      expect.arrayContaining([
        'core.hooksPath=/dev/null',
        'protocol.allow=never',
        'commit.gpgSign=false',
        'core.fsmonitor=false',
        'user.useConfigOnly=true',
        'diff.submodule=short',
        'status.submoduleSummary=false',
      ]),
    );
    const loose = safeConfig({ allowHooks: true, allowNetwork: true, signCommits: true });
    for (const s of ['core.hooksPath=/dev/null', 'protocol.allow=never', 'commit.gpgSign=false']) expect(loose).not.toContain(s);
    expect(loose).toContain('core.fsmonitor=false');
  });
});

describe('repoConfigOverrides', () => {
  it('empties filter drivers defined by the repository, keeping the name case, and leaves global ones', () => {
    const entries = parseScopedConfig(
      'local\0file:.git/config\0filter.Evil.clean\ntouch /x; cat\0worktree\0file:.git/config.worktree\0filter.w.process\nrun\0' +
        'global\0file:/home/u/.gitconfig\0filter.lfs.process\ngit-lfs filter-process\0local\0file:.git/config\0gpg.program\nevil\0',
    );
    expect(entries[0]).toEqual({ scope: 'local', origin: 'file:.git/config', key: 'filter.Evil.clean', value: 'touch /x; cat' });
    const r = repoConfigOverrides(entries);
    expect(r).toEqual({
      ok: true,
      overrides: [
        'filter.Evil.clean=',
        'filter.Evil.smudge=',
        'filter.Evil.process=',
        'filter.Evil.required=false',
        'filter.w.clean=',
        'filter.w.smudge=',
        'filter.w.process=',
        'filter.w.required=false',
      ],
    });
  });

  it('refuses a driver name with "=" in it', () => {
    expect(repoConfigOverrides([{ scope: 'local', origin: 'file:.git/config', key: 'filter.a=b.clean', value: 'x' }])).toEqual({ ok: false, key: 'filter.a=b.clean' });
  });

  it('lists the files config includes read, with the file that includes them', () => {
    const entries = parseScopedConfig(
      'local\0file:.git/config\0include.path\n../shared.gitconfig\0global\0file:/home/u/.gitconfig\0includeif.gitdir:~/work/.path\n~/work.gitconfig\0' +
        'local\0file:.git/config\0filter.x.clean\ncat\0',
    );
    expect(includedFiles(entries)).toEqual([
      { file: '../shared.gitconfig', from: '.git/config' },
      { file: '~/work.gitconfig', from: '/home/u/.gitconfig' },
    ]);
  });
});

describe('parseStatus', () => {
  it('reads branch, upstream, ahead/behind and every kind of entry', () => {
    const out = [
      '# branch.oid 1234567890abcdef1234567890abcdef12345678',
      '# branch.head main',
      '# branch.upstream origin/main',
      '# branch.ab +2 -1',
      '1 M. N... 100644 100644 100644 aaa bbb staged file.txt',
      '1 .M N... 100644 100644 100644 aaa aaa with space.txt',
      '1 MD N... 100644 100644 000000 aaa bbb both.txt',
      '2 R. N... 100644 100644 100644 aaa aaa R100 new name.txt',
      'old name.txt',
      'u UU N... 100644 100644 100644 100644 a b c conflict.txt',
      '? untracked dir/',
      '! ignored.log',
      '',
    ].join('\0');
    expect(parseStatus(out)).toEqual({
      branch: 'main',
      head: '1234567890abcdef1234567890abcdef12345678',
      upstream: 'origin/main',
      ahead: 2,
      behind: 1,
      staged: [
        { path: 'staged file.txt', change: 'modified' },
        { path: 'both.txt', change: 'modified' },
        { path: 'new name.txt', change: 'renamed', from: 'old name.txt' },
      ],
      unstaged: [
        { path: 'with space.txt', change: 'modified' },
        { path: 'both.txt', change: 'deleted' },
      ],
      untracked: ['untracked dir/'],
      conflicted: ['conflict.txt'],
      clean: false,
    });
  });

  it('knows an unborn or detached HEAD and caps long lists', () => {
    const unborn = parseStatus('# branch.oid (initial)\0# branch.head main\0');
    expect(unborn).toMatchObject({ branch: 'main', clean: true });
    expect(unborn.head).toBeUndefined();
    const detached = parseStatus(`# branch.oid abc\0# branch.head (detached)\0${'? f\0'.repeat(5)}`, 3);
    expect(detached).toMatchObject({ branch: null, head: 'abc', untracked: ['f', 'f', 'f'], omitted: 2, clean: false });
  });
});

describe('output parsers', () => {
  it('parseLog reads NUL-separated fields, keeps bodies, lists parents of merges only', () => {
    const rec = (hash: string, parents: string, subject: string, body: string) =>
      [hash, 'A <a@x>', '2024-01-02T03:04:05+00:00', parents, subject, body].join('\0');
    // \x1f in a message is just text; each commit ends with one more NUL (-z).
    const [h2, h1] = ['2'.repeat(40), '1'.repeat(40)];
    const out = `${rec(h2, 'p1 p2', 'Merge \x1f x', '')}\0${rec(h1, 'p0', 'Fix it', 'Because.\x1f\n')}\0`;
    expect(parseLog(out)).toEqual([
      { hash: h2, author: 'A <a@x>', date: '2024-01-02T03:04:05+00:00', subject: 'Merge \x1f x', parents: ['p1', 'p2'] },
      { hash: h1, author: 'A <a@x>', date: '2024-01-02T03:04:05+00:00', subject: 'Fix it', body: 'Because.\x1f' },
    ]);
  });

  it('fitLog drops the oldest bodies, then the oldest commits, and says what it left out', () => {
    const commit = (i: number) => ({ hash: `${i}`.repeat(40), author: 'A <a@x>', date: '2024-01-02', subject: `c${i}`, body: 'b'.repeat(500) });
    const fits = fitLog([commit(1), commit(2)], false, 10_000);
    expect(fits).toEqual({ commits: [commit(1), commit(2)], more: false });
    const bodies = fitLog([commit(1), commit(2), commit(3)], false, 1300);
    expect(bodies.commits.map((c) => c.body !== undefined)).toEqual([true, false, false]);
    expect(bodies.more).toBe(false);
    expect(bodies.note).toContain('Left out to stay within 1300 bytes: the message bodies of the 2 oldest commits shown.');
    const dropped = fitLog([commit(1), commit(2), commit(3)], false, 200);
    expect(dropped.commits.map((c) => c.subject)).toEqual(['c1']);
    expect(dropped.more).toBe(true);
    expect(dropped.note).toContain('the message bodies of the 3 oldest commits shown and 2 older commits.');
    expect(formatLog(dropped)).toContain(`(${dropped.note})`);
  });

  it('parseCommitInfo reads diff-tree\'s header and files', () => {
    expect(parseCommitInfo(`${'a'.repeat(40)}\x1faaaaaaa\x1fSubject \x1f too\0\nM\0a.txt\0R100\0old\0new\0`)).toEqual({
      hash: 'a'.repeat(40),
      short: 'aaaaaaa',
      subject: 'Subject \x1f too',
      files: [
        { path: 'a.txt', change: 'modified' },
        { path: 'new', change: 'renamed', from: 'old' },
      ],
    });
  });

  it('parseBranches reads local and remote branches, tracking and worktrees', () => {
    const line = (...f: string[]) => f.join('\0');
    const out = [
      line('refs/heads/main', 'abc1234', '*', 'origin/main', 'ahead 1, behind 2', '/repo', '', 'Subject one'),
      line('refs/heads/wt', 'def5678', ' ', '', '', '/repo/.agentbox/worktrees/wt', '', 'Two'),
      line('refs/heads/old', 'aaa1111', ' ', 'origin/old', 'gone', '', '', 'Three'),
      line('refs/remotes/origin/HEAD', 'abc1234', ' ', '', '', '', 'refs/remotes/origin/main', 'x'),
      line('refs/remotes/origin/main', 'abc1234', ' ', '', '', '', '', 'x'),
      '',
    ].join('\n');
    expect(parseBranches(out, '/repo')).toEqual({
      current: 'main',
      branches: [
        { name: 'main', commit: 'abc1234', subject: 'Subject one', current: true, upstream: 'origin/main', track: 'ahead 1, behind 2' },
        { name: 'wt', commit: 'def5678', subject: 'Two', worktree: '/repo/.agentbox/worktrees/wt' },
        { name: 'old', commit: 'aaa1111', subject: 'Three', upstream: 'origin/old', track: 'gone' },
      ],
      remotes: ['origin/main'],
    });
  });

  it('parseNumstat, parseNameStatus and parseChanges read -z output with renames', () => {
    expect(parseNumstat('3\t1\ta.txt\0-\t-\tbin.dat\x000\t0\t\0old.txt\0new.txt\0')).toEqual([
      { path: 'a.txt', added: 3, deleted: 1 },
      { path: 'bin.dat', added: null, deleted: null },
      { path: 'new.txt', from: 'old.txt', added: 0, deleted: 0 },
    ]);
    const nameStatus = 'M\0a.txt\0A\0n.txt\0D\0gone.txt\0R097\0old.txt\0new.txt\0C100\0src.txt\0copy.txt\0T\0link\0';
    expect(parseNameStatus(nameStatus)).toEqual([
      { path: 'a.txt', change: 'modified' },
      { path: 'n.txt', change: 'added' },
      { path: 'gone.txt', change: 'deleted' },
      { path: 'new.txt', change: 'renamed', from: 'old.txt' },
      { path: 'copy.txt', change: 'copied', from: 'src.txt' },
      { path: 'link', change: 'type-changed' },
    ]);
    expect(parseChanges(nameStatus)).toEqual([
      { path: 'a.txt', kind: 'modified' },
      { path: 'n.txt', kind: 'added' },
      { path: 'gone.txt', kind: 'deleted' },
      { path: 'new.txt', kind: 'renamed', from: 'old.txt' },
      { path: 'copy.txt', kind: 'added' },
      { path: 'link', kind: 'modified' },
    ]);
  });

  it('parseWorktrees reads the porcelain list', () => {
    const out = 'worktree /repo\nHEAD aaa\nbranch refs/heads/main\n\nworktree /repo/.agentbox/worktrees/x\nHEAD bbb\ndetached\nlocked reason\n\n';
    expect(parseWorktrees(out)).toEqual([
      { path: '/repo', head: 'aaa', branch: 'main', main: true },
      { path: '/repo/.agentbox/worktrees/x', head: 'bbb', branch: null, main: false, locked: true },
    ]);
  });
  it('parseWorktrees reads the -z list, where a path may hold a newline', () => {
    const out = 'worktree /r\0HEAD abc\0branch refs/heads/main\0\0worktree /r/odd\nname\0HEAD def\0detached\0locked\0\0';
    expect(parseWorktrees(out)).toEqual([
      { path: '/r', branch: 'main', head: 'abc', main: true },
      { path: '/r/odd\nname', branch: null, head: 'def', main: false, locked: true },
    ]);
    expect(formatWorktrees(parseWorktrees(out))).toBe('/r  main  (main worktree)\n/r/odd\nname  (detached def)  (locked)');
  });

});

describe('classifyGitError', () => {
  const cases: Array<[string, string, string]> = [
    ['fatal: not a git repository (or any of the parent directories): .git', 'not_a_repository', 'Not a git repository.'],
    ["fatal: ambiguous argument 'nope': unknown revision or path not in the working tree.\nUse '--' to separate paths", 'unknown_ref', "Unknown revision 'nope'."],
    ['fatal: invalid reference: nope', 'unknown_ref', "Unknown revision 'nope'."],
    ["fatal: not a valid object name: 'nope'", 'unknown_ref', "Unknown revision 'nope'."],
    ['fatal: Needed a single revision', 'unknown_ref', 'Unknown revision.'],
    ["fatal: path 'x.txt' does not exist in 'HEAD'", 'not_found', 'x.txt does not exist at HEAD.'],
    ["fatal: a branch named 'main' already exists", 'branch_exists', "A branch named 'main' already exists."],
    ["fatal: 'bad..name' is not a valid branch name", 'invalid_name', "'bad..name' is not a valid branch name."],
    ["Preparing worktree (checking out 'side')\nfatal: 'side' is already checked out at '/tmp/wt'", 'branch_in_use', "Branch 'side' is already checked out in the worktree at /tmp/wt."],
    ["fatal: Unable to create '/r/.git/index.lock': File exists.\n\nAnother git process seems to be running", 'locked', 'Another git process holds the repository lock (index.lock).'],
    [
      'error: Your local changes to the following files would be overwritten by checkout:\n\ta.txt\n\tsub/b.txt\nPlease commit your changes or stash them before you switch branches.\nAborting',
      'dirty_worktree',
      'Checkout refused: it would overwrite uncommitted changes in a.txt, sub/b.txt.',
    ],
    [
      'error: The following untracked working tree files would be overwritten by checkout:\n\tnew.txt\nPlease move or remove them before you switch branches.\nAborting',
      'dirty_worktree',
      'Checkout refused: it would overwrite the untracked file new.txt.',
    ],
    ['error: you need to resolve your current index first\na.txt: needs merge', 'merge_conflict', 'The repository has unresolved merge conflicts.'],
    ['On branch main\nnothing to commit, working tree clean', 'nothing_to_commit', 'Nothing to commit: no changes are staged.'],
    ['Author identity unknown\n\n*** Please tell me who you are.\n\nfatal: no email was given and auto-detection is disabled', 'no_identity', 'Cannot commit: no git identity (user.name and user.email) is configured.'],
    ["fatal: transport 'file' not allowed", 'network_disabled', 'git tried to reach a remote, and network access is off for git.'],
    [
      'warning: lazy fetching disabled; some objects may not be available\nfatal: unable to read 1234',
      'missing_object',
      'The object is not in the local repository (a partial clone left it on the remote), and git tools never fetch.',
    ],
    ['fatal: something new went wrong', 'git_error', 'git failed (exit 128): fatal: something new went wrong'],
  ];
  it.each(cases)('%s', (output, code, message) => {
    const r = classifyGitError(output, 128);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message).toBe(message);
    }
  });
});
