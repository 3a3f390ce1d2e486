// The location cache of repo.ts on real repositories: after each change to what `git rev-parse`
// depends on, openRepo must answer what git answers without the cache (a fresh git binary path
// is a fresh cache key, so `fresh()` below is openRepo as if nothing were cached).
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRepo, type GitContext } from '../../src/git/index.js';
import { locationCacheForTests } from '../../src/git/repo.js';
import { which } from '../../src/util/which.js';
import { tempDir, tempRepo } from '../support/workspace.js';
import { cleanupAfterEach, git, gitContext } from './support.js';

const track = cleanupAfterEach();

/** A git wrapper that logs its arguments, optionally running `after` (sh) once after the first rev-parse probe. */
function countingGit(after?: string): { bin: string; probes(): number } {
  const dir = track(tempDir('agentbox-gitloc-'));
  const log = dir.path('log');
  const bin = dir.path('git');
  const marker = dir.path('done');
  writeFileSync(log, '');
  const hook = after
    ? `case "$*" in *"rev-parse --show-toplevel"*) if [ ! -e '${marker}' ]; then touch '${marker}'; ${after}; fi;; esac\n`
    : '';
  writeFileSync(bin, `#!/bin/sh\necho "$*" >> '${log}'\n'${which('git')}' "$@"\nrc=$?\n${hook}exit $rc\n`);
  chmodSync(bin, 0o755);
  return { bin, probes: () => readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('rev-parse --show-toplevel')).length };
}

type Answer = { top: string; gitDir: string; commonDir: string } | string;

async function answer(ctx: GitContext, dir?: string): Promise<Answer> {
  const r = await openRepo(ctx, dir, 'read');
  return r.ok ? { top: r.value.top, gitDir: r.value.gitDir, commonDir: r.value.commonDir } : r.error.code;
}

/** A context over `roots` using a counting git, and a second one with its own (never cached) git. */
function contexts(roots: string[], after?: string) {
  const counter = countingGit(after);
  const ctx = track(gitContext(roots, { mode: 'danger-full-access', git: { bin: counter.bin } }));
  const fresh = async (dir?: string) => {
    const other = countingGit();
    return answer(track(gitContext(roots, { mode: 'danger-full-access', git: { bin: other.bin } })), dir);
  };
  return { ctx, counter, fresh };
}

/** Asserts that `run` met no remembered answer the checks refused: the fingerprints noticed the change. */
async function noticed<T>(run: () => Promise<T>): Promise<T> {
  const before = locationCacheForTests.refusedHits();
  const out = await run();
  expect(locationCacheForTests.refusedHits(), 'a stale answer was used and refused').toBe(before);
  return out;
}

describe('git location cache', () => {
  it('follows a .git directory replaced by a .git file', async () => {
    const ws = track(tempDir('agentbox-gitloc-ws-'));
    const repo = ws.path('r');
    mkdirSync(repo);
    git(repo, 'init', '-q');
    const { ctx, counter, fresh } = contexts([ws.dir]);
    expect(await answer(ctx, repo)).toEqual({ top: repo, gitDir: path.join(repo, '.git'), commonDir: path.join(repo, '.git') });
    expect(await answer(ctx, repo)).toEqual(await fresh(repo));
    expect(counter.probes()).toBe(1);
    renameSync(path.join(repo, '.git'), ws.path('sep.git'));
    writeFileSync(path.join(repo, '.git'), 'gitdir: ../sep.git\n');
    const now = await noticed(() => answer(ctx, repo));
    expect(now).toEqual({ top: repo, gitDir: ws.path('sep.git'), commonDir: ws.path('sep.git') });
    expect(now).toEqual(await fresh(repo));
  });

  it('follows a retargeted gitdir symlink', async () => {
    const ws = track(tempDir('agentbox-gitloc-ws-'));
    git(ws.dir, 'init', '-q', '--separate-git-dir', ws.path('a.git'), 'wt');
    git(ws.dir, 'init', '-q', '--separate-git-dir', ws.path('b.git'), 'other');
    symlinkSync('a.git', ws.path('link'));
    writeFileSync(ws.path('wt', '.git'), `gitdir: ${ws.path('link')}\n`);
    const { ctx, counter, fresh } = contexts([ws.dir]);
    expect(await answer(ctx, ws.path('wt'))).toMatchObject({ gitDir: ws.path('a.git') });
    expect(await answer(ctx, ws.path('wt'))).toMatchObject({ gitDir: ws.path('a.git') });
    expect(counter.probes()).toBe(1);
    rmSync(ws.path('link'));
    symlinkSync('b.git', ws.path('link'));
    const now = await noticed(() => answer(ctx, ws.path('wt')));
    expect(now).toEqual({ top: ws.path('wt'), gitDir: ws.path('b.git'), commonDir: ws.path('b.git') });
    expect(now).toEqual(await fresh(ws.path('wt')));
    // And it is remembered again.
    expect(await answer(ctx, ws.path('wt'))).toEqual(now);
    expect(counter.probes()).toBe(2);
  });

  it('asks git again when a cached location is refused', async () => {
    const repo = track(tempRepo());
    const { ctx, counter } = contexts([repo.dir]);
    const right = await answer(ctx);
    expect(right).toMatchObject({ top: repo.dir });
    // A stale answer that the layout check refuses (a commondir git no longer uses).
    const key = locationCacheForTests.key(ctx.settings, repo.dir);
    await locationCacheForTests.remember(key, repo.dir, { top: repo.dir, gitDir: repo.path('.git'), commonDir: repo.path('elsewhere') });
    expect(locationCacheForTests.has(key)).toBe(true);
    const refused = locationCacheForTests.refusedHits();
    expect(await answer(ctx)).toEqual(right);
    expect(locationCacheForTests.refusedHits()).toBe(refused + 1);
    expect(counter.probes()).toBe(2);
    expect(await answer(ctx)).toEqual(right);
    expect(counter.probes()).toBe(2);
  });

  it('stops at a bare repository made in an intermediate directory, as git does', async () => {
    const repo = track(tempRepo({ 'sub/x/a.txt': 'a\n' }));
    const { ctx, fresh } = contexts([repo.dir]);
    expect(await answer(ctx, 'sub/x')).toMatchObject({ top: repo.dir });
    expect(await answer(ctx, 'sub/x')).toMatchObject({ top: repo.dir });
    git(repo.path('sub'), 'init', '-q', '--bare', '.');
    expect(() => git(repo.path('sub/x'), 'rev-parse', '--show-toplevel')).toThrow(/must be run in a work tree/);
    const now = await answer(ctx, 'sub/x');
    expect(now).toBe('not_a_repository');
    expect(now).toEqual(await fresh('sub/x'));
  });

  it('does not remember an answer when a .git appears in between before the fingerprints are taken', async () => {
    const repo = track(tempRepo({ 'sub/a.txt': 'a\n' }));
    // The wrapper creates sub/.git right after git answered the first probe (the repository above).
    const { ctx, counter, fresh } = contexts([repo.dir], `'${which('git')}' init -q '${repo.path('sub')}' >/dev/null 2>&1`);
    expect(await answer(ctx, 'sub')).toMatchObject({ top: repo.dir });
    expect(counter.probes()).toBe(1);
    const now = await answer(ctx, 'sub');
    expect(now).toMatchObject({ top: repo.path('sub') });
    expect(now).toEqual(await fresh('sub'));
    expect(counter.probes()).toBe(2);
  });

  it('follows `git worktree move` and a new worktree at the old path', async () => {
    const ws = track(tempDir('agentbox-gitloc-ws-'));
    const main = ws.path('main');
    mkdirSync(main);
    git(main, 'init', '-q', '-b', 'main');
    git(main, '-c', 'user.name=T', '-c', 'user.email=t@e', 'commit', '-q', '--allow-empty', '-m', 'init');
    git(main, 'worktree', 'add', '-q', '-b', 'one', ws.path('wt'));
    const { ctx, counter, fresh } = contexts([ws.dir]);
    const first = await answer(ctx, ws.path('wt'));
    expect(first).toEqual({ top: ws.path('wt'), gitDir: path.join(main, '.git', 'worktrees', 'wt'), commonDir: path.join(main, '.git') });
    expect(await answer(ctx, ws.path('wt'))).toEqual(first);
    expect(counter.probes()).toBe(1);
    git(main, 'worktree', 'move', ws.path('wt'), ws.path('moved'));
    expect(await answer(ctx, ws.path('wt'))).toBe('not_found');
    git(main, 'worktree', 'add', '-q', '-b', 'two', ws.path('wt'));
    const now = await noticed(() => answer(ctx, ws.path('wt')));
    expect(now).toEqual(await fresh(ws.path('wt')));
    expect(now).not.toEqual(first);
    expect(now).toMatchObject({ top: ws.path('wt'), commonDir: path.join(main, '.git') });
    expect(await answer(ctx, ws.path('moved'))).toEqual({ ...(first as object), top: ws.path('moved') });
  });

  it('keys the cache on the environment that decides which config git reads', async () => {
    const repo = track(tempRepo());
    const home = track(tempDir('agentbox-gitloc-home-'));
    const counter = countingGit();
    // As in contexts(): unconfined, so that the counting wrapper can write its log.
    const ctx = track(gitContext([repo.dir], { mode: 'danger-full-access', git: { bin: counter.bin } }));
    const withHome = (env: NodeJS.ProcessEnv): GitContext => ({ ...ctx, settings: { ...ctx.settings, env } });
    await answer(withHome({ ...process.env, HOME: home.dir }));
    await answer(withHome({ ...process.env, HOME: home.dir }));
    expect(counter.probes()).toBe(1);
    await answer(withHome({ ...process.env, HOME: repo.dir }));
    expect(counter.probes()).toBe(2);
    await answer(withHome({ ...process.env, HOME: home.dir, XDG_CONFIG_HOME: home.path('xdg') }));
    expect(counter.probes()).toBe(3);
    await answer(withHome({ ...process.env, HOME: home.dir, GIT_CONFIG_GLOBAL: '/dev/null' }));
    expect(counter.probes()).toBe(4);
  });

  it('evicts the least recently used entry', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i <= 64; i++) files[`d${i}/f`] = '';
    const repo = track(tempRepo(files));
    const { ctx, counter } = contexts([repo.dir]);
    for (let i = 0; i < 64; i++) await answer(ctx, `d${i}`);
    expect(counter.probes()).toBe(64);
    await answer(ctx, 'd0'); // a hit: d0 becomes the most recently used
    expect(counter.probes()).toBe(64);
    await answer(ctx, 'd64'); // evicts d1, not d0
    expect(counter.probes()).toBe(65);
    await answer(ctx, 'd0');
    expect(counter.probes()).toBe(65);
    await answer(ctx, 'd1');
    expect(counter.probes()).toBe(66);
  });
});
