// A directory walker that honours .gitignore files, for when ripgrep is not installed.
// ripgrep is the fast path; this exists so glob and grep still work (more slowly) without it.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';

export interface WalkEntry {
  /** Path relative to the walk's root, with forward slashes. */
  rel: string;
  abs: string;
}

/** Yields every file below `root` that git would not ignore; skips .git and does not follow symlinks. */
export async function* walkFiles(root: string, signal?: AbortSignal): AsyncGenerator<WalkEntry> {
  const stack: Array<{ dir: string; rules: Array<{ base: string; ig: Ignore }> }> = [{ dir: root, rules: [] }];
  while (stack.length > 0) {
    if (signal?.aborted) return;
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

async function loadGitignore(dir: string): Promise<Ignore | undefined> {
  try {
    const text = await readFile(path.join(dir, '.gitignore'), 'utf8');
    return ignore().add(text);
  } catch {
    return undefined;
  }
}

function isIgnored(rules: Array<{ base: string; ig: Ignore }>, abs: string, isDir: boolean): boolean {
  for (const { base, ig } of rules) {
    const rel = path.relative(base, abs).split(path.sep).join('/');
    if (rel && ig.ignores(isDir ? `${rel}/` : rel)) return true;
  }
  return false;
}
