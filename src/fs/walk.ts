// A directory walker that honours .gitignore files, for when ripgrep is not installed. ripgrep is
// the fast path; this exists so glob and grep still work (more slowly) without it, with the same
// answers: .gitignore files from the workspace root down are applied in order, a deeper file's
// negation (`!keep.log`) re-includes what a shallower one ignored, and an ignored directory is not
// entered (as git, a file below it cannot be re-included).
//
// Each directory is opened and verified once (confined.ts) and its entries are reached through
// that descriptor: a directory swapped for a symlink during the walk is skipped, never followed.
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { PinnedDir, readFile, readThrough } from './confined.js';

export interface WalkEntry {
  /** Path relative to the walk's root, with forward slashes. */
  rel: string;
  abs: string;
  /** The file through its directory's descriptor: valid until the walk moves on (the next iteration). */
  at: string;
}

export interface WalkOptions {
  signal?: AbortSignal;
  /**
   * Where .gitignore files start to count (the workspace root). Those between it and the walk's
   * root apply too; default: the walk's root only.
   */
  ignoreRoot?: string;
}

interface Rules {
  base: string;
  ig: Ignore;
}

/** Yields every file below `root` that git would not ignore; skips .git and does not follow symlinks. */
export async function* walkFiles(root: string, opts: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const inherited = await ancestorRules(root, opts.ignoreRoot);
  const stack: Array<{ dir: string; rules: Rules[] }> = [{ dir: root, rules: inherited }];
  while (stack.length > 0) {
    if (opts.signal?.aborted) return;
    const { dir, rules } = stack.pop()!;
    let pinned: PinnedDir;
    try {
      pinned = PinnedDir.open(dir, true);
    } catch {
      continue;
    }
    try {
      let entries;
      try {
        entries = await pinned.readdir();
      } catch {
        continue;
      }
      const local = await loadGitignore(pinned.at('.gitignore'));
      const active = local ? [...rules, { base: dir, ig: local }] : rules;
      const subdirs: string[] = [];
      for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        if (entry.name === '.git') continue;
        const abs = path.join(dir, entry.name);
        const isDir = entry.isDirectory();
        if (isIgnored(active, abs, isDir)) continue;
        if (isDir) subdirs.push(abs);
        else if (entry.isFile()) yield { rel: path.relative(root, abs).split(path.sep).join('/'), abs, at: pinned.at(entry.name) };
      }
      for (const sub of subdirs.reverse()) stack.push({ dir: sub, rules: active });
    } finally {
      pinned.close();
    }
  }
}

/** The .gitignore rules of the directories from `ignoreRoot` down to `root`'s parent. */
async function ancestorRules(root: string, ignoreRoot: string | undefined): Promise<Rules[]> {
  if (!ignoreRoot || root === ignoreRoot) return [];
  const rel = path.relative(ignoreRoot, root);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return [];
  const rules: Rules[] = [];
  let dir = ignoreRoot;
  for (const part of ['', ...rel.split(path.sep).slice(0, -1)]) {
    dir = part ? path.join(dir, part) : dir;
    const ig = await readFile(path.join(dir, '.gitignore')).then(
      (buf) => ignore().add(buf.toString('utf8')),
      () => undefined,
    );
    if (ig) rules.push({ base: dir, ig });
  }
  return rules;
}

/** The rules of a .gitignore reached through its directory's descriptor (a link there is not followed, as git does not). */
async function loadGitignore(at: string): Promise<Ignore | undefined> {
  return readThrough(at).then(
    (buf) => ignore().add(buf.toString('utf8')),
    () => undefined,
  );
}

/** Applies the rules shallowest first; the last rule that says anything about the path wins. */
function isIgnored(rules: Rules[], abs: string, isDir: boolean): boolean {
  let ignored = false;
  for (const { base, ig } of rules) {
    const rel = path.relative(base, abs).split(path.sep).join('/');
    if (!rel) continue;
    const verdict = ig.test(isDir ? `${rel}/` : rel);
    if (verdict.ignored) ignored = true;
    else if (verdict.unignored) ignored = false;
  }
  return ignored;
}
