// Searches file contents. ripgrep when installed (fast, .gitignore-aware, output passed through
// nearly as it prints it, grouped by file); a JS regex walker otherwise. Both stop at the cap.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import type { SafePath } from '../sandbox/index.js';
import { fail, ok, type Result } from '../util/result.js';
import { looksBinary } from './read.js';
import { RG_COMMON, runRipgrep } from './ripgrep.js';
import { walkFiles } from './walk.js';

export interface GrepOptions {
  glob?: string;
  ignoreCase?: boolean;
  context?: number;
  maxResults: number;
  maxBytes: number;
  rg?: string;
  signal?: AbortSignal;
  /** Prefix for file names in the output (the search directory as the model knows it). */
  prefix: string;
}

export interface GrepOutcome {
  /** Blocks per file: the file name, then `line:text` for matches and `line-text` for context. */
  text: string;
  matches: number;
  files: number;
  truncated: boolean;
}

const MAX_COLUMNS = 500;

export async function grepFiles(target: SafePath, isFile: boolean, pattern: string, opts: GrepOptions): Promise<Result<GrepOutcome>> {
  if (!pattern) return fail('invalid_pattern', 'The search pattern is empty.');
  return opts.rg ? grepWithRipgrep(opts.rg, target, isFile, pattern, opts) : grepWithJs(target, isFile, pattern, opts);
}

async function grepWithRipgrep(rg: string, target: SafePath, isFile: boolean, pattern: string, opts: GrepOptions): Promise<Result<GrepOutcome>> {
  const args = [...RG_COMMON, '--heading', '--with-filename', '--line-number', '--max-columns', String(MAX_COLUMNS), '--max-columns-preview'];
  if (opts.ignoreCase) args.push('--ignore-case');
  if (opts.context) args.push('--context', String(opts.context));
  if (opts.glob) args.push('--glob', opts.glob);
  args.push('--regexp', pattern);
  const cwd = isFile ? path.dirname(target) : target;
  if (isFile) args.push('--', path.basename(target));

  const out: string[] = [];
  let matches = 0;
  let files = 0;
  let bytes = 0;
  let truncated = false;
  let atHeading = true;
  const run = await runRipgrep(rg, args, cwd, (line) => {
    if (line === '') {
      atHeading = true;
      out.push('');
      return true;
    }
    if (atHeading) {
      atHeading = false;
      files++;
      line = opts.prefix + line;
    } else if (/^\d+:/.test(line)) {
      if (matches >= opts.maxResults) {
        truncated = true;
        return false;
      }
      matches++;
    }
    bytes += line.length + 1;
    if (bytes > opts.maxBytes) {
      truncated = true;
      return false;
    }
    out.push(line);
    return true;
  }, opts.signal);
  if (run.exitCode === 2 && !run.stopped) {
    return fail('invalid_pattern', `grep failed: ${run.stderr || 'ripgrep exited with 2'}`, 'Patterns are Rust regular expressions; escape special characters such as ( [ { . * + ? with a backslash.');
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return ok({ text: out.join('\n'), matches, files, truncated });
}

async function grepWithJs(target: SafePath, isFile: boolean, pattern: string, opts: GrepOptions): Promise<Result<GrepOutcome>> {
  let re: RegExp;
  try {
    re = new RegExp(pattern, opts.ignoreCase ? 'i' : '');
  } catch (err) {
    return fail('invalid_pattern', `grep failed: ${(err as Error).message}`, 'Escape special characters such as ( [ { . * + ? with a backslash.');
  }
  const globMatch = opts.glob ? picomatch(opts.glob, { dot: true, basename: !opts.glob.includes('/') }) : undefined;
  const context = Math.max(0, opts.context ?? 0);
  const blocks: string[] = [];
  let matches = 0;
  let files = 0;
  let bytes = 0;
  let truncated = false;

  const candidates: AsyncIterable<{ rel: string; abs: string }> = isFile
    ? (async function* () {
        yield { rel: path.basename(target), abs: target };
      })()
    : walkFiles(target, opts.signal);

  outer: for await (const { rel, abs } of candidates) {
    if (globMatch && !globMatch(rel)) continue;
    let buf: Buffer;
    try {
      buf = await readFile(abs);
    } catch {
      continue;
    }
    if (looksBinary(buf.subarray(0, 8192))) continue;
    const lines = buf.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const hits: number[] = [];
    for (let i = 0; i < lines.length; i++) if (re.test(lines[i]!)) hits.push(i);
    if (hits.length === 0) continue;
    const block: string[] = [opts.prefix + rel];
    let lastShown = -1;
    for (const hit of hits) {
      if (matches >= opts.maxResults) {
        truncated = true;
        break;
      }
      const from = Math.max(hit - context, lastShown + 1);
      if (lastShown >= 0 && from > lastShown + 1 && context > 0) block.push('--');
      for (let i = from; i <= Math.min(hit + context, lines.length - 1); i++) {
        const text = lines[i]!.replace(/\r$/, '');
        const shown = text.length > MAX_COLUMNS ? `${text.slice(0, MAX_COLUMNS)} [... omitted end of long line]` : text;
        block.push(`${i + 1}${i === hit || hits.includes(i) ? ':' : '-'}${shown}`);
        lastShown = i;
      }
      matches++;
    }
    files++;
    const blockText = block.join('\n');
    bytes += blockText.length + 2;
    if (bytes > opts.maxBytes) {
      truncated = true;
      break outer;
    }
    blocks.push(blockText);
    if (truncated) break;
  }
  return ok({ text: blocks.join('\n\n'), matches, files, truncated });
}
