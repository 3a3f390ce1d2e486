// A directory walker that honours .gitignore files, for when ripgrep is not installed. ripgrep is
// the fast path; this exists so glob and grep still work (more slowly) without it, with the same
// answers: .gitignore files from the workspace root down are applied in order, a deeper file's
// negation (`!keep.log`) re-includes what a shallower one ignored, and an ignored directory is not
// entered (as git, a file below it cannot be re-included).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';

export interface WalkEntry {
  /** Path relative to the walk's root, with forward slashes. */
  rel: string;
  abs: string;
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
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    const local = await loadGitignore(dir);
    const active = local ? [...rules, { base: dir, ig: local }] : rules;
    const subdirs: string[] = [];
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name === '.git') continue;
      const abs = path.join(dir, entry.name);
      const isDir = entry.isDirectory();
      if (isIgnored(active, abs, isDir)) continue;
      if (isDir) subdirs.push(abs);
      else if (entry.isFile()) yield { rel: path.relative(root, abs).split(path.sep).join('/'), abs };
    }
    for (const sub of subdirs.reverse()) stack.push({ dir: sub, rules: active });
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
    const ig = await loadGitignore(dir);
    if (ig) rules.push({ base: dir, ig });
  }
  return rules;
}

async function loadGitignore(dir: string): Promise<Ignore | undefined> {
  try {
    const text = await readFile(path.join(dir, '.gitignore'), 'utf8');
    return ignore().add(text);
  } catch {
    return undefined;
  }
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
