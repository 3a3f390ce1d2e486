// Finds files by glob pattern, newest first, honouring .gitignore. ripgrep lists the files when
// installed (fast, already sorted by mtime); otherwise the JS walker and picomatch do it.
import { stat } from 'node:fs/promises';
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
    const run = await runRipgrep(opts.rg, ['--files', ...RG_COMMON, '--sortr', 'modified', '--glob', normalized], dir, (line) => {
      if (line) paths.push(line);
      return true;
    }, opts.signal);
    if (run.exitCode !== 0 && run.exitCode !== 1 && !opts.signal?.aborted) {
      return fail('glob_failed', `glob failed: ${run.stderr || `ripgrep exited with ${run.exitCode}`}`, 'Check the pattern syntax, e.g. "**/*.ts".');
    }
    return ok({ paths: paths.slice(0, opts.limit), total: paths.length, truncated: paths.length > opts.limit });
  }
  // Like ripgrep's --glob: a pattern without a slash matches a file name at any depth.
  const isMatch = picomatch(normalized, { dot: true, basename: !normalized.includes('/') });
  const found: Array<{ rel: string; mtime: number }> = [];
  for await (const entry of walkFiles(dir, opts.signal)) {
    if (!isMatch(entry.rel)) continue;
    const mtime = await stat(entry.abs).then((s) => s.mtimeMs, () => 0);
    found.push({ rel: entry.rel, mtime });
  }
  found.sort((a, b) => b.mtime - a.mtime || (a.rel < b.rel ? -1 : 1));
  return ok({ paths: found.slice(0, opts.limit).map((f) => f.rel), total: found.length, truncated: found.length > opts.limit });
}
