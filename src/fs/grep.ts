// Searches file contents. ripgrep when installed (fast, .gitignore-aware, output passed through
// nearly as it prints it, grouped by file; in the confined view, see ripgrep.ts); a JS regex
// walker otherwise, or when the sandbox that would confine rg cannot run. Both stop at the cap.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { SafePath } from '../sandbox/index.js';
import { fail, ok, type Result } from '../util/result.js';
import { globMatcher, isNameGlob, normalizeGlob } from './glob-match.js';
import { excludedFrom } from './exclude.js';
import { looksBinary } from './read.js';
import { RG_COMMON, runRipgrep, sandboxFailure, type RipgrepLauncher } from './ripgrep.js';
import { walkFiles } from './walk.js';
import * as confined from './confined.js';

export interface GrepOptions {
  glob?: string;
  ignoreCase?: boolean;
  context?: number;
  maxResults: number;
  maxBytes: number;
  /** How to start ripgrep; without it the JS walker searches. */
  rg?: RipgrepLauncher;
  signal?: AbortSignal;
  /** Prefix for file names in the output (the search directory as the model knows it). */
  prefix: string;
  /** Where .gitignore files start to count for the JS fallback (the workspace root). */
  ignoreRoot?: string;
  /**
   * Paths whose files are never searched (hidden and deny_read): the JS fallback does not read them,
   * and rg's results from them are dropped (the confined view covers them anyway; rg on the host
   * in danger-full-access does not).
   */
  exclude?: readonly string[];
}

export interface GrepOutcome {
  /** Blocks per file: the file name, then `line:text` for matches and `line-text` for context. */
  text: string;
  matches: number;
  files: number;
  truncated: boolean;
  /** Notes for the model: unreadable paths, binary files that match. */
  notes: string[];
}

const MAX_COLUMNS = 500;
/** The JS fallback skips files above this size rather than load them whole. */
const MAX_FALLBACK_FILE_BYTES = 32 * 1024 * 1024;

export async function grepFiles(target: SafePath, isFile: boolean, pattern: string, opts: GrepOptions): Promise<Result<GrepOutcome>> {
  if (!pattern) return fail('invalid_pattern', 'The search pattern is empty.');
  return opts.rg ? grepWithRipgrep(opts.rg, target, isFile, pattern, opts) : grepWithJs(target, isFile, pattern, opts);
}

/** Collects grouped output, enforcing the match and byte caps and dropping a file block cut at its heading. */
class Collector {
  private readonly out: string[] = [];
  private blockStart = -1;
  private blockMatches = 0;
  matches = 0;
  files = 0;
  truncated = false;
  private bytes = 0;

  constructor(private readonly opts: GrepOptions) {}

  heading(file: string): void {
    this.closeBlock();
    if (this.out.length > 0) this.out.push('');
    this.blockStart = this.out.length;
    this.blockMatches = 0;
    this.push(this.opts.prefix + file);
  }

  /** Adds a match (`isMatch`) or context line; false once a cap is reached. */
  line(text: string, isMatch: boolean): boolean {
    if (isMatch) {
      if (this.matches >= this.opts.maxResults) return this.stop();
      this.matches++;
      this.blockMatches++;
    }
    return this.push(text) || this.stop();
  }

  separator(): void {
    this.push('--');
  }

  finish(): string {
    this.closeBlock();
    while (this.out.length > 0 && (this.out[this.out.length - 1] === '' || this.out[this.out.length - 1] === '--')) this.out.pop();
    return this.out.join('\n');
  }

  private push(line: string): boolean {
    this.bytes += line.length + 1;
    if (this.bytes > this.opts.maxBytes) return false;
    this.out.push(line);
    return true;
  }

  private stop(): false {
    this.truncated = true;
    return false;
  }

  /** A block with no match (cut right after its heading, or context only) is removed. */
  private closeBlock(): void {
    if (this.blockStart === -1) return;
    if (this.blockMatches === 0) this.out.splice(this.blockStart > 0 ? this.blockStart - 1 : 0);
    else this.files++;
    this.blockStart = -1;
  }
}

async function grepWithRipgrep(rg: RipgrepLauncher, target: SafePath, isFile: boolean, pattern: string, opts: GrepOptions): Promise<Result<GrepOutcome>> {
  const args = [...RG_COMMON, '--heading', '--with-filename', '--line-number', '--max-columns', String(MAX_COLUMNS), '--max-columns-preview'];
  if (opts.ignoreCase) args.push('--ignore-case');
  if (opts.context) args.push('--context', String(opts.context));
  // A name glob becomes a file type, which (unlike --glob) still honours .gitignore; a path glob
  // is applied to each file block below.
  const pathFilter = opts.glob && !isNameGlob(opts.glob) ? globMatcher(opts.glob) : undefined;
  if (opts.glob && !pathFilter) args.push('--type-add', `agentboxglob:${normalizeGlob(opts.glob)}`, '--type', 'agentboxglob');
  args.push('--regexp', pattern);
  const cwd = isFile ? path.dirname(target) : target;
  if (isFile) args.push('--', path.basename(target));
  const excluded = excludedFrom(cwd, opts.exclude);

  const collect = new Collector(opts);
  const notes: string[] = [];
  let atHeading = true;
  let skipping = false;
  const run = await runRipgrep(rg, args, cwd, (line) => {
    if (line === '') {
      atHeading = true;
      return true;
    }
    const binary = /^(.*): binary file matches \(/.exec(line);
    if (binary) {
      notes.push(`${opts.prefix}${binary[1]} is binary and matches; read_file shows text only.`);
      return true;
    }
    if (atHeading) {
      atHeading = false;
      skipping = (pathFilter !== undefined && !pathFilter(line)) || excluded(line);
      if (!skipping) collect.heading(line);
      return true;
    }
    if (skipping) return true;
    if (line === '--') {
      collect.separator();
      return true;
    }
    return collect.line(line, /^\d+:/.test(line));
  }, opts.signal);
  if (!run.ok) return run;

  const { problems } = run.value;
  if (problems.sandboxError) return sandboxFailure('grep', problems.sandboxError);
  if (problems.patternError) {
    return fail('invalid_pattern', `grep failed: ${problems.patternError}`, 'Patterns are Rust regular expressions; escape special characters such as ( [ { . * + ? with a backslash.');
  }
  if (run.value.exitCode === 2 && !run.value.stopped && collect.matches === 0 && problems.other.length > 0) {
    return fail('grep_failed', `grep failed: ${problems.other.join('; ')}`);
  }
  if (problems.unreadable.length > 0) {
    notes.push(`${problems.unreadable.length} path(s) could not be read and were skipped: ${problems.unreadable.slice(0, 5).join(', ')}${problems.unreadable.length > 5 ? ', …' : ''}`);
  }
  const text = collect.finish();
  return ok({ text, matches: collect.matches, files: collect.files, truncated: collect.truncated, notes });
}

async function grepWithJs(target: SafePath, isFile: boolean, pattern: string, opts: GrepOptions): Promise<Result<GrepOutcome>> {
  let re: RegExp;
  try {
    re = new RegExp(pattern, opts.ignoreCase ? 'i' : '');
  } catch (err) {
    return fail('invalid_pattern', `grep failed: ${(err as Error).message}`, 'Escape special characters such as ( [ { . * + ? with a backslash.');
  }
  const globMatch = opts.glob ? globMatcher(opts.glob) : undefined;
  const excludedFiles = excludedFrom(isFile ? path.dirname(target) : target, opts.exclude);
  const context = Math.max(0, opts.context ?? 0);
  const collect = new Collector(opts);
  const notes: string[] = [];

  const candidates: AsyncIterable<{ rel: string; abs: string; at?: string }> = isFile
    ? (async function* () {
        yield { rel: path.basename(target), abs: target };
      })()
    : walkFiles(target, { signal: opts.signal, ignoreRoot: opts.ignoreRoot });

  files: for await (const { rel, abs, at } of candidates) {
    if (globMatch && !isFile && !globMatch(rel)) continue;
    if (excludedFiles(rel)) continue;
    // Through the walk's directory descriptor (or, for one file, its verified parent): never by name.
    const size = await (at ? lstat(at) : confined.lstat(abs)).then((s) => (s.isFile() ? s.size : -1), () => -1);
    if (size < 0) continue;
    if (size > MAX_FALLBACK_FILE_BYTES) {
      notes.push(`${opts.prefix}${rel} was skipped: larger than ${MAX_FALLBACK_FILE_BYTES / 1024 / 1024} MiB (install ripgrep to search it).`);
      continue;
    }
    let buf: Buffer;
    try {
      buf = at ? await confined.readThrough(at) : await confined.readFile(abs);
    } catch {
      continue;
    }
    if (looksBinary(buf.subarray(0, 8192))) {
      if (isFile && re.test(buf.toString('latin1'))) notes.push(`${opts.prefix}${rel} is binary and matches; read_file shows text only.`);
      continue;
    }
    const lines = buf.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const hits = new Set<number>();
    for (let i = 0; i < lines.length; i++) if (re.test(lines[i]!)) hits.add(i);
    if (hits.size === 0) continue;
    collect.heading(rel);
    let lastShown = -1;
    for (const hit of hits) {
      if (hit <= lastShown) continue;
      const from = Math.max(hit - context, lastShown + 1);
      if (lastShown >= 0 && from > lastShown + 1 && context > 0) collect.separator();
      for (let i = from; i <= Math.min(hit + context, lines.length - 1); i++) {
        const raw = lines[i]!.replace(/\r$/, '');
        const shown = raw.length > MAX_COLUMNS ? `${raw.slice(0, MAX_COLUMNS)} [... omitted end of long line]` : raw;
        const isMatch = hits.has(i);
        if (!collect.line(`${i + 1}${isMatch ? ':' : '-'}${shown}`, isMatch)) break files;
        lastShown = i;
      }
    }
  }
  return ok({ text: collect.finish(), matches: collect.matches, files: collect.files, truncated: collect.truncated, notes });
}

