// The git tools against a model that also has a sandboxed shell. The git tools run git outside
// the sandbox, and exec_command may rewrite anything in the workspace except each root's own
// .git and .agentbox. Each test lets exec_command (real bwrap) prepare an attack, then calls the
// git tools as a host would. The payloads write markers into a directory that sandboxed commands
// cannot even see: a marker there means git ran the payload outside the sandbox.
//
// Repositories the test itself prepares before the server starts stand for state left by an
// earlier session or by a downloaded tree (a root's .git cannot be changed by this session's
// commands, but it may already hold anything).
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { parseExec } from '../support/exec.js';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';
import { git } from './support.js';

let ws: TempDir; // a root that is a folder of repositories
let outside: TempDir; // where payloads leave markers; invisible to sandboxed commands
let home: TempDir;
const roots: Record<string, TempDir> = {};
let conn: Connected;

/** Root repositories (their own .git is protected), prepared before the server starts. */
const ROOTS = ['gitlink', 'subdiff', 'partial', 'include', 'symrefs', 'symagentbox'] as const;

const mark = (name: string) => outside.path(`ran-${name}`);
/** Shell text that records a run of the payload (and fails quietly inside the sandbox). */
const payload = (name: string) => `echo ran >> ${mark(name)} 2>/dev/null`;
const ran = (name: string) => existsSync(mark(name));

function rootArgs(): string[] {
  return ['--root', ws.dir, ...ROOTS.flatMap((n) => ['--root', roots[n]!.dir])];
}

beforeAll(async () => {
  ws = tempDir('agentbox-gitws-');
  outside = tempDir('agentbox-outside-');
  home = tempDir('agentbox-home-');
  for (const name of ROOTS) roots[name] = tempRepo({ 'README.md': `# ${name}\n` });
  prepareSubmoduleDiff(roots.subdiff!);
  preparePartialClone();
  prepareInclude(roots.include!);
  const refs = roots.symrefs!;
  renameSync(refs.path('.git/refs'), refs.path('refs-store'));
  symlinkSync(refs.path('refs-store'), refs.path('.git/refs'));
  mkdirSync(outside.path('agentbox-target'));
  symlinkSync(outside.path('agentbox-target'), roots.symagentbox!.path('.agentbox'));
  conn = await connectStdio({ args: rootArgs(), env: { HOME: home.dir, GIT_CONFIG_NOSYSTEM: '1' } });
});
afterAll(async () => {
  await conn?.close();
  for (const t of [ws, outside, home, ...Object.values(roots)]) t?.cleanup();
});

/** Runs `cmd` with exec_command (in the sandbox) in `dir`; fails the test unless it exits 0. */
async function sh(cmd: string, dir = ws.dir): Promise<string> {
  const r = await conn.call('exec_command', { cmd, workdir: dir });
  const out = parseExec(r.text);
  expect(out.exitCode, `${cmd}\n${r.text}`).toBe(0);
  return out.output;
}

/** Runs git on the host for test setup, with an identity and file transport allowed. */
function hostGit(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Setup', '-c', 'user.email=setup@example.com', '-c', 'protocol.file.allow=always', ...args], {
    cwd: dir,
    encoding: 'utf8',
    stdio: 'pipe',
  });
}

/** subdiff: a submodule `lib` whose checkout moved on, and `diff.submodule=diff` in the config. */
function prepareSubmoduleDiff(r: TempDir): void {
  const lib = outside.path('lib');
  mkdirSync(lib);
  hostGit(lib, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(lib, 'l.txt'), 'one\n');
  hostGit(lib, 'add', '-A');
  hostGit(lib, 'commit', '-q', '-m', 'one');
  hostGit(r.dir, 'submodule', 'add', '-q', lib, 'lib');
  hostGit(r.dir, 'commit', '-q', '-m', 'add lib');
  writeFileSync(r.path('lib/l.txt'), 'two\n');
  hostGit(r.path('lib'), 'commit', '-q', '-am', 'two');
  hostGit(r.dir, 'commit', '-q', '-am', 'move lib');
  writeFileSync(r.path('lib/l.txt'), 'three\n');
  hostGit(r.path('lib'), 'commit', '-q', '-am', 'three');
  git(r.dir, 'config', 'diff.submodule', 'diff');
}

/** partial: a blob:none clone that allows the file transport and runs a payload as upload-pack. */
function preparePartialClone(): void {
  const src = outside.path('src');
  mkdirSync(src);
  hostGit(src, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(src, 'big.txt'), 'version one\n');
  hostGit(src, 'add', '-A');
  hostGit(src, 'commit', '-q', '-m', 'one');
  writeFileSync(path.join(src, 'big.txt'), 'version two\n');
  hostGit(src, 'commit', '-q', '-am', 'two');
  hostGit(src, 'config', 'uploadpack.allowFilter', 'true');
  const r = roots.partial!;
  r.cleanup();
  hostGit(path.dirname(r.dir), 'clone', '-q', '--filter=blob:none', `file://${src}`, r.dir);
  git(r.dir, 'config', 'protocol.file.allow', 'always');
  git(r.dir, 'config', 'remote.origin.uploadpack', `${payload('partial')}; git-upload-pack`);
}

/** include: the repository config includes a file in the work tree, which commands can rewrite. */
function prepareInclude(r: TempDir): void {
  r.write('shared.gitconfig', '[core]\n\tautocrlf = false\n');
  git(r.dir, 'config', 'include.path', '../shared.gitconfig');
}

const NESTED_REFUSAL = /git tools work only on a repository whose \.git the sandbox protects/;

describe('a repository nested in a root (rule 1)', () => {
  it('is refused by every git tool, read or write, with a way out', async () => {
    await sh(
      `git init -q -b main nested && cd nested && git config user.name m && git config user.email m@x && ` +
        `git config filter.evil.clean '${payload('nested')}; cat' && git config core.fsmonitor '${payload('nested')}' && ` +
        `echo '* filter=evil' > .gitattributes && echo data > f && git -c core.fsmonitor= add -A && git -c core.fsmonitor= commit -qm n && touch -d @1 f`,
    );
    const calls: Array<[string, Record<string, unknown>]> = [
      ['git_status', {}],
      ['git_diff', {}],
      ['git_log', {}],
      ['git_show', { ref: 'HEAD' }],
      ['git_branch_list', {}],
      ['git_add', { paths: ['f'] }],
      ['git_reset', { paths: ['f'] }],
      ['git_commit', { message: 'x', amend: true }],
      ['git_branch_create', { name: 'b' }],
      ['git_checkout', { ref: 'main' }],
      ['git_worktree', { action: 'list' }],
      ['git_worktree', { action: 'add' }],
    ];
    for (const repo_path of ['nested', ws.path('nested/sub-dir-that-does-not-matter/..')]) {
      for (const [tool, args] of calls) {
        const r = await conn.call(tool, { repo_path, ...args });
        expect(r.isError, `${tool} ${repo_path}: ${r.text}`).toBe(true);
        expect(r.text, tool).toMatch(NESTED_REFUSAL);
        expect(r.text, tool).toContain(`start agentbox with --root ${ws.path('nested')}`);
      }
    }
    expect(ran('nested')).toBe(false);
  });

  it('B5a: is refused when its commondir leads to another repository, which stays unchanged', async () => {
    const other = tempRepo({ 'o.txt': 'o\n' });
    try {
      const before = git(other.dir, 'rev-parse', 'HEAD');
      const objects = git(other.dir, 'count-objects');
      await sh(`git init -q -b main cd && echo '${other.path('.git')}' > cd/.git/commondir && echo f > cd/f`);
      const add = await conn.call('git_add', { repo_path: 'cd', paths: ['f'] });
      const commit = await conn.call('git_commit', { repo_path: 'cd', message: 'into the other repository' });
      expect(add.isError).toBe(true);
      expect(commit.isError).toBe(true);
      expect(commit.text).toMatch(NESTED_REFUSAL);
      expect(git(other.dir, 'rev-parse', 'HEAD')).toBe(before);
      expect(git(other.dir, 'count-objects')).toBe(objects);
    } finally {
      other.cleanup();
    }
  });

  it('B5b: is refused when its objects and refs are links into another repository', async () => {
    const other = tempRepo({ 'o.txt': 'o\n' });
    try {
      const before = git(other.dir, 'rev-parse', 'HEAD');
      const objects = git(other.dir, 'count-objects');
      await sh(
        `git init -q -b main sl && cd sl/.git && rm -rf objects refs && ln -s ${other.path('.git/objects')} objects && ` +
          `ln -s ${other.path('.git/refs')} refs && cd .. && echo f > f`,
      );
      const add = await conn.call('git_add', { repo_path: 'sl', paths: ['f'] });
      const commit = await conn.call('git_commit', { repo_path: 'sl', message: 'into the other repository', amend: true });
      expect(add.isError).toBe(true);
      expect(commit.isError).toBe(true);
      expect(git(other.dir, 'rev-parse', 'HEAD')).toBe(before);
      expect(git(other.dir, 'count-objects')).toBe(objects);
    } finally {
      other.cleanup();
    }
  });

  it('B5c: is refused when its .git is a link to the .git file of an outside worktree', async () => {
    const other = tempRepo({ 'o.txt': 'o\n' });
    try {
      const wt = outside.path('other-wt');
      git(other.dir, 'worktree', 'add', '-q', '-b', 'side', wt);
      const before = git(other.dir, 'rev-parse', 'side');
      await sh(`mkdir wl && ln -s ${wt}/.git wl/.git && echo f > wl/f`);
      for (const [tool, args] of [['git_status', {}], ['git_add', { paths: ['f'] }]] as const) {
        const r = await conn.call(tool, { repo_path: 'wl', ...args });
        expect(r.isError, tool).toBe(true);
        expect(r.text, tool).toContain('wl');
      }
      const commit = await conn.call('git_commit', { repo_path: 'wl', message: 'into the outside worktree', amend: true });
      expect(commit.isError).toBe(true);
      expect(git(other.dir, 'rev-parse', 'side')).toBe(before);
    } finally {
      other.cleanup();
    }
  });
});

describe('a root repository that a sandboxed command prepared around', () => {
  it('B1: a nested repository staged as a submodule never runs its filter through any git tool', async () => {
    const r = roots.gitlink!.dir;
    await sh(
      `git init -q -b main nested && cd nested && git config user.name m && git config user.email m@x && ` +
        `git config filter.evil.clean '${payload('gitlink')}; cat' && echo '* filter=evil' > .gitattributes && ` +
        `echo data > f && git add -A && git commit -qm n && cd .. && ` +
        // .gitmodules lies in the work tree too: it asks git to look into the submodule's work tree.
        `printf '[submodule "nested"]\\n\\tpath = nested\\n\\turl = ./nested\\n\\tignore = none\\n' > .gitmodules`,
      r,
    );
    let n = 1;
    // Each call first makes nested/f look changed, so a git status in nested would run the filter.
    const call = async (tool: string, args: Record<string, unknown> = {}) => {
      await sh(`touch -d @${n++} nested/f`, r);
      const res = await conn.call(tool, { repo_path: r, ...args });
      expect(ran('gitlink'), `${tool} ${JSON.stringify(args)} ran the nested repository's filter`).toBe(false);
      return res;
    };
    expect((await call('git_add', { paths: ['nested'] })).isError).toBeFalsy();
    expect(git(r, 'ls-files', '-s', 'nested')).toMatch(/^160000 /);
    await call('git_status');
    await call('git_diff');
    await call('git_diff', { ref: 'HEAD' });
    await sh('echo more > more.txt', r);
    await call('git_add', { paths: ['.'] });
    await call('git_add', { paths: ['nested'] });
    await call('git_reset', { paths: ['more.txt'] });
    await call('git_add', { paths: ['more.txt'] });
    expect((await call('git_commit', { message: 'with a submodule' })).isError).toBeFalsy();
    const nothing = await call('git_commit', { message: 'nothing staged' });
    expect(nothing.text).toContain('Nothing to commit');
    expect((await call('git_commit', { message: 'amended', amend: true })).isError).toBeFalsy();
    await call('git_show', { ref: 'HEAD' });
    // A new commit in the submodule is still staged, without asking a git inside it.
    // Made on the host with the filter off: a sandboxed command could only commit there within 5 s
    // of creating the repository (then the scan makes nested/.git read-only), a race with this
    // test's own pace.
    appendFileSync(path.join(r, 'nested', 'f'), 'more\n');
    hostGit(path.join(r, 'nested'), '-c', 'filter.evil.clean=', 'commit', '-qam', 'more');
    expect((await call('git_add', { paths: ['.'] })).text).toContain('modified: nested');
    expect((await call('git_commit', { message: 'move nested' })).text).toContain('modified: nested');
    expect((await call('git_checkout', { ref: 'side', create: true })).isError).toBeFalsy();
    expect((await call('git_checkout', { ref: 'main' })).isError).toBeFalsy();
    const wt = await call('git_worktree', { action: 'add', branch: 'wt' });
    expect(wt.isError, wt.text).toBeFalsy();
    expect((await call('git_worktree', { action: 'remove', branch: 'wt' })).isError).toBeFalsy();
    // The attack is real: git run plainly in the root does run the nested filter.
    await sh(`touch -d @${n++} nested/f`, r);
    git(r, 'status');
    expect(ran('gitlink')).toBe(true);
  });

  it('B2: a submodule whose .git file points at a copied git dir with a diff program cannot run it through git_diff or git_show', async () => {
    const r = roots.subdiff!.dir;
    const setup =
      `cp -r .git/modules/lib evil-lib-git && git config -f evil-lib-git/config --unset core.worktree && ` +
      `printf '#!/bin/sh\\n${payload('subdiff')}\\n' > evil-diff && chmod +x evil-diff && ` +
      `git config -f evil-lib-git/config diff.external "$PWD/evil-diff" && echo "gitdir: ../evil-lib-git" > lib/.git`;
    // The sandbox itself now refuses the last step: a submodule's .git file is protected too.
    const refused = await conn.call('exec_command', { cmd: setup, workdir: r });
    expect(parseExec(refused.text).exitCode).not.toBe(0);
    expect(readFileSync(path.join(r, 'lib/.git'), 'utf8')).not.toContain('evil-lib-git');
    // The same state prepared outside the sandbox (left by an earlier session or a downloaded tree)
    // must still not run the program through the git tools.
    execFileSync('bash', ['-c', `rm -rf evil-lib-git evil-diff && ${setup}`], { cwd: r, stdio: 'pipe' });
    for (const [tool, args] of [
      ['git_diff', {}],
      ['git_diff', { ref: 'HEAD~1' }],
      ['git_diff', { ref: 'HEAD~1', ref2: 'HEAD' }],
      ['git_show', { ref: 'HEAD' }],
    ] as const) {
      const res = await conn.call(tool, { repo_path: r, ...args });
      expect(res.isError, `${tool} ${res.text}`).toBeFalsy();
      expect(ran('subdiff'), `${tool} ${JSON.stringify(args)}`).toBe(false);
    }
    // The attack is real: git diff run plainly runs the program.
    git(r, 'diff', 'HEAD~1', 'HEAD');
    expect(ran('subdiff')).toBe(true);
  });

  it('B3: a protocol override and an upload-pack command in the config cannot start a lazy fetch', async () => {
    const r = roots.partial!.dir;
    const res = await conn.call('git_show', { repo_path: r, ref: 'HEAD~1', path: 'big.txt' });
    expect(ran('partial')).toBe(false);
    expect(res.isError).toBe(true);
    expect(res.text).toContain('git tools never fetch');
    // The attack is real: git show run plainly fetches the missing blob through the payload.
    expect(execFileSync('git', ['show', 'HEAD~1:big.txt'], { cwd: r, encoding: 'utf8', stdio: 'pipe' })).toBe('version one\n');
    expect(ran('partial')).toBe(true);
  });

  it('B4: a config include of a file sandboxed commands can rewrite is refused', async () => {
    const r = roots.include!;
    await sh(`printf '[filter "evil"]\\n\\tclean = ${payload('include')}; cat\\n' >> shared.gitconfig && echo '* filter=evil' > .gitattributes && echo x > x.txt`, r.dir);
    for (const [tool, args] of [['git_status', {}], ['git_add', { paths: ['x.txt'] }]] as const) {
      const res = await conn.call(tool, { repo_path: r.dir, ...args });
      expect(res.isError, tool).toBe(true);
      expect(res.text, tool).toContain(r.path('shared.gitconfig'));
    }
    expect(ran('include')).toBe(false);
  });

  it('B5b: a link inside .git into the work tree is refused', async () => {
    const r = roots.symrefs!;
    const res = await conn.call('git_status', { repo_path: r.dir });
    expect(res.isError).toBe(true);
    expect(res.text).toContain(r.path('.git/refs'));
    expect(res.text).toContain(r.path('refs-store'));
  });

  it('B5d: git_worktree add never follows a .agentbox link out of the workspace', async () => {
    const r = roots.symagentbox!;
    const res = await conn.call('git_worktree', { repo_path: r.dir, action: 'add', branch: 'escape' });
    expect(res.isError).toBe(true);
    expect(readdirSync(outside.path('agentbox-target'))).toEqual([]);
    expect(git(r.dir, 'branch', '--list', 'escape')).toBe('');
  });
});

describe('other sandbox modes', () => {
  it('read-only mode reads a nested repository; danger-full-access uses it', async () => {
    await sh(`git init -q -b main plain-nested && cd plain-nested && echo a > a && git add a && git -c user.name=m -c user.email=m@x commit -qm a`);
    const ro = await connectStdio({ args: ['--sandbox', 'read-only', ...rootArgs()], env: { HOME: home.dir, GIT_CONFIG_NOSYSTEM: '1' } });
    try {
      const status = await ro.call('git_status', { repo_path: 'plain-nested' });
      expect(status.isError, status.text).toBeFalsy();
      expect((await ro.call('git_log', { repo_path: 'plain-nested' })).text).toContain(': a');
    } finally {
      await ro.close();
    }
    const full = await connectStdio({ args: ['--sandbox', 'danger-full-access', ...rootArgs()], env: { HOME: home.dir, GIT_CONFIG_NOSYSTEM: '1' } });
    try {
      writeFileSync(ws.path('plain-nested/b'), 'b\n');
      const add = await full.call('git_add', { repo_path: 'plain-nested', paths: ['b'] });
      expect(add.isError, add.text).toBeFalsy();
      const outsideRepo = await full.call('git_status', { repo_path: outside.path('lib') });
      expect(outsideRepo.isError).toBe(true);
      expect(outsideRepo.text).toContain('outside');
    } finally {
      await full.close();
    }
    expect(readFileSync(ws.path('plain-nested/b'), 'utf8')).toBe('b\n');
  });
});
