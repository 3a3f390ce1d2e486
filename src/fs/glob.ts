// Finds files by glob pattern, newest first, honouring .gitignore. ripgrep lists the candidate
// files when installed (fast, ignore-aware; in the confined view, see ripgrep.ts); the JS walker
// does otherwise, or when the sandbox that would confine rg cannot run. The pattern itself is
// matched in JS for both: ripgrep's own --glob would override .gitignore for matching files.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { SafePath } from '../sandbox/index.js';
import { fail, ok, type Result } from '../util/result.js';
import { PinnedDir } from './confined.js';
import { excludedFrom } from './exclude.js';
import { globMatcher, normalizeGlob } from './glob-match.js';
import { RG_COMMON, runRipgrep, sandboxFailure, type RipgrepLauncher } from './ripgrep.js';
import { walkFiles } from './walk.js';

export interface GlobOutcome {
  /** Paths relative to the search directory, newest first. */
  paths: string[];
  total: number;
  truncated: boolean;
  /** Directories that could not be read; results may miss files below them. */
  unreadable: string[];
}

/** stat calls in flight at once while ordering by mtime: enough to hide latency, not to flood. */
const STAT_CONCURRENCY = 64;

export async function globFiles(
  dir: SafePath,
  pattern: string,
  opts: {
    limit: number;
    /** How to start ripgrep; without it the JS walker lists the files. */
    rg?: RipgrepLauncher;
    signal?: AbortSignal;
    ignoreRoot?: string;
    /** Paths whose files are never listed (hidden and deny_read; the confined view covers them for rg, not on the host). */
    exclude?: readonly string[];
  },
): Promise<Result<GlobOutcome>> {
  if (!normalizeGlob(pattern)) return fail('invalid_pattern', 'The glob pattern is empty.', 'Example patterns: "**/*.ts", "src/**/test_*.py", "*.md".');
  const isMatch = globMatcher(pattern);
  const excluded = excludedFrom(dir, opts.exclude);
  const matched: string[] = [];
  let unreadable: string[] = [];
  if (opts.rg) {
    const run = await runRipgrep(opts.rg, ['--files', ...RG_COMMON], dir, (line) => {
      if (line && isMatch(line) && !excluded(line)) matched.push(line);
      return true;
    }, opts.signal);
    if (!run.ok) return run;
    const { problems, exitCode } = run.value;
    if (problems.sandboxError) return sandboxFailure('glob', problems.sandboxError);
    unreadable = problems.unreadable;
    if (exitCode === 2 && problems.other.length > 0 && matched.length === 0) {
      return fail('glob_failed', `glob failed: ${problems.other.join('; ')}`);
    }
  } else {
    for await (const entry of walkFiles(dir, { signal: opts.signal, ignoreRoot: opts.ignoreRoot })) {
      if (isMatch(entry.rel) && !excluded(entry.rel)) matched.push(entry.rel);
    }
  }
  const withTimes = await modificationTimes(dir, matched);
  withTimes.sort((a, b) => b.mtime - a.mtime || (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return ok({
    paths: withTimes.slice(0, opts.limit).map((f) => f.rel),
    total: withTimes.length,
    truncated: withTimes.length > opts.limit,
    unreadable,
  });
}

/**
 * Each file's modification time, for the newest-first order. Files are looked up through their
 * directory, opened and verified once per directory (confined.ts), so a directory swapped for a
 * link meanwhile cannot make the order depend on files outside (they count as time 0).
 */
async function modificationTimes(dir: string, rels: readonly string[]): Promise<Array<{ rel: string; mtime: number }>> {
  const byDir = new Map<string, string[]>();
  for (const rel of rels) {
    // A name with a newline splits rg's output into pieces that may read as `../…`: never looked up.
    if (rel.split('/').some((part) => part === '..' || part === '') || path.posix.isAbsolute(rel)) continue;
    const sub = path.posix.dirname(rel);
    (byDir.get(sub) ?? byDir.set(sub, []).get(sub))!.push(rel);
  }
  const times = new Map<string, number>();
  await mapLimited([...byDir], STAT_CONCURRENCY, async ([sub, files]) => {
    let pinned: PinnedDir;
    try {
      pinned = PinnedDir.open(sub === '.' ? dir : path.join(dir, sub));
    } catch {
      return;
    }
    try {
      await Promise.all(files.map((rel) => lstat(pinned.at(path.posix.basename(rel))).then((st) => void times.set(rel, st.mtimeMs), () => undefined)));
    } finally {
      pinned.close();
    }
  });
  return rels.map((rel) => ({ rel, mtime: times.get(rel) ?? 0 }));
}

/** Promise.all over `items` with at most `limit` in flight. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
