import { execFileSync } from 'node:child_process';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { trackChanges } from '../../src/agent/changes.js';
import { ConfigSchema } from '../../src/config/index.js';
import { gitSettings, type GitContext } from '../../src/git/index.js';
import { buildPolicy } from '../../src/sandbox/index.js';
import { which } from '../../src/util/which.js';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';
import { testView } from '../git/support.js';

/** The git core's context with a workspace at `root`, as the delegate's caller would have it. */
const gitFor = (root: string): GitContext => ({
  policy: buildPolicy({ mode: 'workspace-write', roots: [root], tmpDir: '/tmp' }),
  settings: gitSettings(ConfigSchema.parse({}).git, which('git', process.env.PATH)),
  view: testView(),
});
let dir: TempDir | undefined;
afterEach(() => dir?.cleanup());

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });
const looseObjects = (repo: string) =>
  readdirSync(`${repo}/.git/objects`)
    .filter((d) => /^[0-9a-f]{2}$/.test(d))
    .reduce((n, d) => n + readdirSync(`${repo}/.git/objects/${d}`).length, 0);

describe('what a run changed, in a git repository', () => {
  it('reports only the run\'s own changes (with renames), leaving the index and object store alone', async () => {
    dir = tempRepo({ 'keep.txt': 'keep\n', 'edit.txt': 'one\ntwo\n', 'gone.txt': 'bye\n', 'old-name.txt': 'same content here\nline 2\nline 3\n', 'dirty.txt': 'clean\n' });
    dir.write('dirty.txt', 'dirty before the run\n');
    git(dir.dir, 'add', 'dirty.txt');
    const statusBefore = git(dir.dir, 'status', '--porcelain');
    const objectsBefore = looseObjects(dir.dir);

    const tracker = await trackChanges(dir.dir, gitFor(dir.dir));
    dir.write('edit.txt', 'one\nTWO\n');
    dir.write('new/added.txt', 'hello\n');
    rmSync(dir.path('gone.txt'));
    renameSync(dir.path('old-name.txt'), dir.path('new-name.txt'));
    const { diff, files } = await tracker.finish();

    expect(files.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'edit.txt', kind: 'modified' },
      { path: 'gone.txt', kind: 'deleted' },
      { path: 'new-name.txt', kind: 'renamed', from: 'old-name.txt' },
      { path: 'new/added.txt', kind: 'added' },
    ]);
    expect(diff).toContain('diff --git a/edit.txt b/edit.txt');
    expect(diff).toContain('-two\n+TWO');
    expect(diff).toContain('rename from old-name.txt');
    expect(diff).not.toContain('dirty');
    expect(git(dir.dir, 'diff', '--cached', '--name-only')).toBe('dirty.txt\n');
    expect(looseObjects(dir.dir)).toBe(objectsBefore);
    expect(statusBefore).toContain('M  dirty.txt');
  });

  it('limits the diff to the run\'s directory and leaves out .agentbox', async () => {
    dir = tempRepo({ 'pkg/a.txt': 'a\n', 'other/b.txt': 'b\n' });
    const tracker = await trackChanges(dir.path('pkg'), gitFor(dir.dir));
    dir.write('pkg/a.txt', 'A\n');
    dir.write('other/b.txt', 'B\n');
    dir.write('pkg/.agentbox/state.json', '{}');
    const { files } = await tracker.finish();
    expect(files).toEqual([{ path: 'pkg/a.txt', kind: 'modified' }]);
  });

  it('reports nothing when nothing changed', async () => {
    dir = tempRepo({ 'a.txt': 'a\n' });
    const tracker = await trackChanges(dir.dir, gitFor(dir.dir));
    expect(await tracker.finish()).toEqual({ diff: '', files: [] });
  });
});

describe('what a run changed, outside git', () => {
  it('diffs before and after snapshots of the files', async () => {
    dir = tempDir();
    dir.write('a.txt', 'alpha\nbeta\n');
    dir.write('b.txt', 'to delete\n');
    dir.write('node_modules/x.js', 'ignored\n');
    const tracker = await trackChanges(dir.dir, gitFor(dir.dir));
    dir.write('a.txt', 'alpha\nBETA\n');
    rmSync(dir.path('b.txt'));
    dir.write('sub/c.txt', 'new\n');
    dir.write('node_modules/x.js', 'changed but ignored\n');
    const { diff, files } = await tracker.finish();
    expect(files).toEqual([
      { path: 'a.txt', kind: 'modified' },
      { path: 'b.txt', kind: 'deleted' },
      { path: 'sub/c.txt', kind: 'added' },
    ]);
    expect(diff).toContain('--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n alpha\n-beta\n+BETA');
    expect(diff).toContain('--- a/b.txt\n+++ /dev/null');
    expect(diff).toContain('--- /dev/null\n+++ b/sub/c.txt\n@@ -0,0 +1,1 @@\n+new');
  });
});
