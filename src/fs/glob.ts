// Finds files by glob pattern, newest first, honouring .gitignore. ripgrep lists the files when
// installed (fast, already sorted by mtime); otherwise the JS walker and picomatch do it.
import { statSync } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import type { SafePath } from '../sandbox/index.js';
import { fail, ok, type Result } from '../util/result.js';
import { RG_COMMON, runRipgrep } from './ripgrep.js';
import { walkFiles } from './walk.js';

export interface GlobOutcome {
  /** Paths relative to the search directory, newest first. */
  paths: string[];
  total: number;
  truncated: boolean;
}

export async function globFiles(
  dir: SafePath,
  pattern: string,
  opts: { limit: number; rg?: string; signal?: AbortSignal },
): Promise<Result<GlobOutcome>> {
  if (!pattern.trim()) return fail('invalid_pattern', 'The glob pattern is empty.', 'Example patterns: "**/*.ts", "src/**/test_*.py", "*.md".');
  const normalized = pattern.replace(/^\.\//, '');
  if (opts.rg) {
    const paths: string[] = [];
    const run = await runRipgrep(opts.rg, ['--files', ...RG_COMMON, '--glob', normalized], dir, (line) => {
      if (line) paths.push(line);
      return true;
    }, opts.signal);
    if (run.exitCode !== 0 && run.exitCode !== 1 && !opts.signal?.aborted) {
      return fail('glob_failed', `glob failed: ${run.stderr || `ripgrep exited with ${run.exitCode}`}`, 'Check the pattern syntax, e.g. "**/*.ts".');
    }
    // ripgrep's --sortr sorts within each directory only; sort the whole list by mtime here.
    return ok(newestFirst(paths.map((rel) => ({ rel, mtime: mtimeOf(path.join(dir, rel)) })), opts.limit));
  }
  // Like ripgrep's --glob: a pattern without a slash matches a file name at any depth.
  const isMatch = picomatch(normalized, { dot: true, basename: !normalized.includes('/') });
  const found: Array<{ rel: string; mtime: number }> = [];
  for await (const entry of walkFiles(dir, opts.signal)) {
    if (isMatch(entry.rel)) found.push({ rel: entry.rel, mtime: mtimeOf(entry.abs) });
  }
  return ok(newestFirst(found, opts.limit));
}

function newestFirst(found: Array<{ rel: string; mtime: number }>, limit: number): GlobOutcome {
  found.sort((a, b) => b.mtime - a.mtime || (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { paths: found.slice(0, limit).map((f) => f.rel), total: found.length, truncated: found.length > limit };
}

/** Synchronous stat: for thousands of files it is faster than as many promises, and never blocks long. */
function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
