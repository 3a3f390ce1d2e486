// The workspace every contender of `npm run bench` works on, generated locally (never downloaded)
// from the typescript package already installed as a devDependency:
//   small.txt                 4 KB of text
//   big.js                    a copy of typescript/lib/typescript.js (~9 MB, ~200k lines)
//   tree/pkg_00 … pkg_99/     10,000 files file_0000.ts … file_9999.ts, 100 per directory, each
//                             20 consecutive lines of typescript.js (real code to grep); fewer with
//                             createWorkspace({ files }) (the smoke test's tiny run)
//   patch/target.txt          2,000 distinct lines, the file the 50-hunk patch changes
// The whole workspace is a git repository with one commit, then 2 files modified and 3 added
// (so git_status has something to report). `resetPatchTarget()` restores target.txt.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './lib.mjs';

export const TREE_FILES = 10_000;
export const GREP_WORD = 'resolvedModule'; // ~116 lines of typescript.js: under every tool's default cap
export const GLOB_PATTERN = '**/file_*77.ts'; // 100 of the 10,000 files
export const LIST_DIR = 'tree/pkg_42'; // tree/pkg_00 in a tree of fewer than 4,300 files
export const PATCH_HUNKS = 50;
const PATCH_LINES = 2_000;

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};

/**
 * @param {{ files?: number }} [opts] files: how many files the tree holds (a multiple of 100)
 */
export function createWorkspace({ files = TREE_FILES } = {}) {
  if (files % 100 !== 0 || files < 100) throw new Error(`createWorkspace: files must be a multiple of 100, got ${files}`);
  const base = mkdtempSync(path.join(os.tmpdir(), 'agentbox-bench-'));
  const ws = path.join(base, 'ws');
  mkdirSync(ws);
  const tsLib = path.join(ROOT, 'node_modules', 'typescript', 'lib', 'typescript.js');
  const tsVersion = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'typescript', 'package.json'), 'utf8')).version;

  // 1. Small file: 4,096 bytes of numbered lines.
  let small = '';
  for (let i = 1; small.length < 4096; i++) small += `line ${String(i).padStart(3, '0')}: the quick brown fox jumps over the lazy dog\n`;
  const smallText = small.slice(0, 4095) + '\n';
  writeFileSync(path.join(ws, 'small.txt'), smallText);
  // The edit case's files: one copy of small.txt per server, so that each edits only its own.
  for (const who of ['agentbox', 'baseline', 'filesystem', 'dc']) writeFileSync(path.join(ws, `edit-${who}.txt`), smallText);

  // 2. The 9 MB file.
  copyFileSync(tsLib, path.join(ws, 'big.js'));

  // 3. The 10k-file tree.
  const lines = readFileSync(tsLib, 'utf8').split('\n');
  // Always 20 lines per file (as in the full tree), so the smoke run's files look the same.
  const per = Math.floor(lines.length / TREE_FILES);
  const dirs = files / 100;
  let grepLines = 0;
  for (let d = 0; d < dirs; d++) mkdirSync(path.join(ws, 'tree', `pkg_${String(d).padStart(2, '0')}`), { recursive: true });
  // A smaller tree samples chunks from all over typescript.js (the full one takes them all, in order).
  const stride = Math.floor(TREE_FILES / files);
  for (let n = 0; n < files; n++) {
    const dir = `pkg_${String(Math.floor(n / 100)).padStart(2, '0')}`;
    const part = lines.slice(n * stride * per, (n * stride + 1) * per);
    grepLines += part.filter((l) => l.includes(GREP_WORD)).length;
    const chunk = part.join('\n');
    writeFileSync(path.join(ws, 'tree', dir, `file_${String(n).padStart(4, '0')}.ts`), `${chunk}\n`);
  }

  // 4. The patch target and three forms of the same 50-hunk change.
  const target = Array.from({ length: PATCH_LINES }, (_, i) => `line ${i + 1}: value = ${(i * 7919) % 10007}; // ${'x'.repeat(i % 17)}`);
  const original = `${target.join('\n')}\n`;
  const step = Math.floor(PATCH_LINES / PATCH_HUNKS);
  const sites = Array.from({ length: PATCH_HUNKS }, (_, k) => k * step + Math.floor(step / 2));
  const changed = [...target];
  for (const s of sites) changed[s] = `${target[s]} // changed`;
  const expected = `${changed.join('\n')}\n`;
  const codex = ['*** Begin Patch', '*** Update File: patch/target.txt'];
  const unified = ['--- a/patch/target.txt', '+++ b/patch/target.txt'];
  const edits = [];
  for (const s of sites) {
    const before = target.slice(s - 3, s);
    const after = target.slice(s + 1, s + 4);
    codex.push('@@', ...before.map((l) => ` ${l}`), `-${target[s]}`, `+${changed[s]}`, ...after.map((l) => ` ${l}`));
    unified.push(`@@ -${s - 2},7 +${s - 2},7 @@`, ...before.map((l) => ` ${l}`), `-${target[s]}`, `+${changed[s]}`, ...after.map((l) => ` ${l}`));
    edits.push({ oldText: target[s], newText: changed[s] });
  }
  codex.push('*** End Patch');
  mkdirSync(path.join(ws, 'patch'));
  const targetPath = path.join(ws, 'patch', 'target.txt');
  writeFileSync(targetPath, original);
  // The unified diff lives outside the workspace so that it is neither in git status nor searched.
  const unifiedPath = path.join(base, 'target.diff');
  writeFileSync(unifiedPath, `${unified.join('\n')}\n`);

  // 5. A git repository: everything committed, then a few changes.
  // No automatic gc or maintenance: a detached `git gc` would still be writing into .git later.
  const git = (...args) => execFileSync('git', ['-c', 'gc.auto=0', '-c', 'maintenance.auto=false', ...args], { cwd: ws, env: gitEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'bench workspace');
  writeFileSync(path.join(ws, 'tree', 'pkg_00', 'file_0001.ts'), '// modified\n', { flag: 'a' });
  writeFileSync(path.join(ws, 'tree', `pkg_${String(Math.floor(dirs / 2)).padStart(2, '0')}`, `file_${String(Math.floor(dirs / 2) * 100 + 1).padStart(4, '0')}.ts`), '// modified\n', { flag: 'a' });
  for (const n of ['new_a.ts', 'new_b.ts', 'new_c.ts']) writeFileSync(path.join(ws, 'tree', `pkg_${String(dirs - 1).padStart(2, '0')}`, n), '// new\n');

  return {
    base,
    ws,
    tsVersion,
    files: files + 5,
    /** Lines of the tree holding GREP_WORD (144 in the full tree), files GLOB_PATTERN matches (100). */
    grepLines,
    globHits: dirs,
    /** The directory the list case lists: relative, absolute, and the last file in it. */
    listDirRel: dirs > 42 ? LIST_DIR : 'tree/pkg_00',
    listDir: path.join(ws, dirs > 42 ? LIST_DIR : 'tree/pkg_00'),
    listLast: dirs > 42 ? 'file_4299' : 'file_0099',
    small: path.join(ws, 'small.txt'),
    smallText,
    editCopy: (/** @type {string} */ who) => path.join(ws, `edit-${who}.txt`),
    big: path.join(ws, 'big.js'),
    tree: path.join(ws, 'tree'),
    patch: { target: targetPath, original, expected, codex: `${codex.join('\n')}\n`, unifiedPath, edits },
    resetPatchTarget: () => writeFileSync(targetPath, original),
    checkPatched: (who) => {
      if (readFileSync(targetPath, 'utf8') !== expected) throw new Error(`${who}: the patched file is not the expected one`);
    },
    remove: () => rmSync(base, { recursive: true, force: true, maxRetries: 5 }),
  };
}
