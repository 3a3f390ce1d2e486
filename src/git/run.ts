// Runs one git command through simple-git with the safe environment and `-c` settings, and
// returns its output or a classified failure. Every non-zero exit is a failure unless the caller
// lists the exit code as expected. With `maxBytes`, git is killed once it has printed that much,
// and the result says the output was cut (a huge diff is never held whole in memory).
import type { SimpleGitOptions } from 'simple-git';
import { fail, ok, type Result } from '../util/result.js';
import { classifyGitError } from './errors.js';
import { configArgs } from './settings.js';

export interface GitCommand {
  bin: string;
  cwd: string;
  env: Record<string, string>;
  /** `key=value` settings given with -c. */
  config: readonly string[];
  signal?: AbortSignal;
  timeoutMs: number;
}

export interface RunOptions {
  /** Exit codes besides 0 that are not a failure (e.g. 1 for `git config --get-regexp` with no match). */
  okExit?: number[];
  /** Stop reading stdout after this many bytes and kill git. */
  maxBytes?: number;
  /** Extra environment (e.g. GIT_INDEX_FILE for a temporary index). */
  env?: Record<string, string>;
  /** Sees what git printed (stderr, then stdout) when it fails, before the failure is classified. */
  onFailure?: (output: string) => void;
}

export interface RunOutput {
  stdout: string;
  exitCode: number;
  /** True when git was stopped at `maxBytes`; stdout holds the first bytes only. */
  truncated: boolean;
}

/**
 * simple-git blocks config and variables that can run programs unless allowed. agentbox sets some
 * of them itself, to safe values (hooksPath=/dev/null, empty filter commands, editor=true, …);
 * every user-given value reaches git as a revision, a path after `--`, or a `--flag=value`.
 */
const ALLOWED_UNSAFE: SimpleGitOptions['unsafe'] = {
  allowUnsafeHooksPath: true,
  allowUnsafeFsMonitor: true,
  allowUnsafePager: true,
  allowUnsafeEditor: true,
  allowUnsafeProtocolOverride: true,
  allowUnsafeFilter: true,
  allowUnsafeConfigPaths: true,
};

/**
 * simple-git and the error class built on it, loaded on the first git command: a server that is
 * never asked for git does not parse them at start-up.
 */
async function importSimpleGit() {
  const { simpleGit, GitError, GitPluginError } = await import('simple-git');
  /** A non-zero exit, carried out of simple-git's error hook with what git printed (a GitError, which simple-git passes on as is). */
  class GitExit extends GitError {
    constructor(
      readonly exitCode: number | null,
      readonly stdout: string,
      readonly stderr: string,
    ) {
      super(undefined, `git exited with ${exitCode}`);
    }
  }
  return { simpleGit, GitPluginError, GitExit };
}
let simpleGitLib: ReturnType<typeof importSimpleGit> | undefined;
// A failed load is not remembered: the next git command tries again.
const loadSimpleGit = () =>
  (simpleGitLib ??= importSimpleGit().catch((err: unknown) => {
    simpleGitLib = undefined;
    throw err;
  }));

export async function runGit(cmd: GitCommand, args: readonly string[], opts: RunOptions = {}): Promise<Result<RunOutput>> {
  if (cmd.signal?.aborted) return fail('cancelled', 'The git command was cancelled.');
  const okExit = new Set([0, ...(opts.okExit ?? [])]);
  const cap = new AbortController();
  const signal = cmd.signal ? AbortSignal.any([cmd.signal, cap.signal]) : cap.signal;
  let exitCode = 0;
  const chunks: Buffer[] = [];
  let seen = 0;
  let truncated = false;

  let lib: Awaited<ReturnType<typeof importSimpleGit>>;
  try {
    lib = await loadSimpleGit();
  } catch (err) {
    return fail('git_error', `Cannot load simple-git: ${(err as Error)?.message ?? String(err)}`, 'Reinstall agentbox (npm ci) or rebuild it (npm run build).');
  }
  const { simpleGit, GitPluginError, GitExit } = lib;
  let git;
  try {
    git = simpleGit({
      baseDir: cmd.cwd,
      binary: cmd.bin,
      abort: signal,
      timeout: { block: cmd.timeoutMs },
      unsafe: ALLOWED_UNSAFE,
      errors(error, result) {
        exitCode = result.exitCode;
        if (error instanceof GitPluginError) return error;
        if (okExit.has(result.exitCode)) return undefined;
        return new GitExit(result.exitCode, Buffer.concat(result.stdOut).toString('utf8'), Buffer.concat(result.stdErr).toString('utf8'));
      },
    }).env({ ...cmd.env, ...opts.env });
  } catch (err) {
    return fail('git_error', `Cannot run git in ${cmd.cwd}: ${(err as Error).message}`);
  }
  if (opts.maxBytes !== undefined) {
    const max = opts.maxBytes;
    git.outputHandler((_bin, stdout) => {
      stdout.on('data', (chunk: Buffer) => {
        if (truncated) return;
        const room = max - seen;
        seen += chunk.length;
        if (chunk.length <= room) {
          chunks.push(chunk);
          return;
        }
        chunks.push(chunk.subarray(0, Math.max(0, room)));
        truncated = true;
        cap.abort();
      });
    });
  }

  try {
    const stdout = await git.raw(['--no-pager', ...configArgs(cmd.config), ...args]);
    return ok({ stdout, exitCode, truncated: false });
  } catch (err) {
    if (truncated) return ok({ stdout: Buffer.concat(chunks).toString('utf8'), exitCode, truncated: true });
    if (err instanceof GitExit) {
      const output = `${err.stderr}\n${err.stdout}`;
      opts.onFailure?.(output);
      return classifyGitError(output, err.exitCode);
    }
    if (err instanceof GitPluginError) {
      if (err.plugin === 'abort') return fail('cancelled', 'The git command was cancelled.');
      if (err.plugin === 'timeout') {
        return fail('timeout', `git produced no output for ${Math.round(cmd.timeoutMs / 1000)} s and was stopped.`, 'Narrow the request (paths, max_count) and try again.');
      }
      return fail('git_refused', `git command refused: ${err.message}`);
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return fail('git_missing', `git could not be started (${cmd.bin}).`, 'Install git; `agentbox doctor` checks it.');
    return fail('git_error', `git failed: ${e.message}`);
  }
}
