// Runs one git command with the safe environment and `-c` settings, and returns its output or a
// classified failure. Every non-zero exit is a failure unless the caller lists the exit code as
// expected. With `maxBytes`, git is killed once it has printed that much, and the result says the
// output was cut (a huge diff is never held whole in memory).
//
// git walks the work tree by name, so outside danger-full-access it runs in the confined view
// (sandbox/view.ts): a mount namespace where only the roots (and the repository's own git dir)
// exist, so a directory a sandboxed command swaps for a symlink to elsewhere leads nowhere and git
// add cannot store outside content. When the view cannot run (no bwrap) the command fails with
// the sandbox's reason; git never runs unconfined on its own.
//
// git is spawned with execa, not simple-git: simple-git's `binary` option takes a program and at
// most one prefix argument, which cannot carry bwrap's options. What simple-git did here is kept:
// the exit code decides (okExit), the output is cut at maxBytes, a command with no output for
// timeoutMs is killed ("timeout"), the call's signal kills it ("cancelled"), and what git printed
// is classified by errors.ts. The environment is exactly `env` (nothing of the server's). The
// checks simple-git made on the arguments are not repeated: every argument is agentbox's own, and
// values from a model reach git only as revisions checked by checkRevision, paths after `--`, or
// `--flag=value`.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import type { Launch } from '../sandbox/index.js';
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
  /**
   * How to start git (`bin` and its arguments) in `cwd`, with `scratch` writable too: inside the
   * confined view, or as is in danger-full-access (sandbox/confined-view.ts).
   */
  launch(args: string[], cwd: string, scratch: readonly string[]): Promise<Result<Launch>>;
}

export interface RunOptions {
  /** Exit codes besides 0 that are not a failure (e.g. 1 for `git config --get-regexp` with no match). */
  okExit?: number[];
  /** Stop reading stdout after this many bytes and kill git. */
  maxBytes?: number;
  /** Extra environment (e.g. GIT_INDEX_FILE for a temporary index). */
  env?: Record<string, string>;
  /** Directories outside the repository git writes (a temporary index and object store): shown writable in the view. */
  scratch?: readonly string[];
  /** Sees what git printed (stderr, then stdout) when it fails, before the failure is classified. */
  onFailure?: (output: string) => void;
}

export interface RunOutput {
  stdout: string;
  exitCode: number;
  /** True when git was stopped at `maxBytes`; stdout holds the first bytes only. */
  truncated: boolean;
}

type Stop = 'cancelled' | 'timeout' | 'cap';

export async function runGit(cmd: GitCommand, args: readonly string[], opts: RunOptions = {}): Promise<Result<RunOutput>> {
  if (cmd.signal?.aborted) return fail('cancelled', 'The git command was cancelled.');
  const okExit = new Set([0, ...(opts.okExit ?? [])]);
  const launched = await cmd.launch(['--no-pager', ...configArgs(cmd.config), ...args], cmd.cwd, opts.scratch ?? []);
  if (!launched.ok) return launched;
  if (cmd.signal?.aborted) return fail('cancelled', 'The git command was cancelled.');
  const { file, args: argv, cwd } = launched.value;

  const sub = execa(file, argv, {
    cwd,
    env: { ...cmd.env, ...opts.env },
    extendEnv: false,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    stripFinalNewline: false,
  });
  let stopped: Stop | undefined;
  const stop = (why: Stop) => {
    if (stopped) return;
    stopped = why;
    sub.kill();
  };
  const onAbort = () => stop('cancelled');
  cmd.signal?.addEventListener('abort', onAbort, { once: true });
  // Killed after timeoutMs without any output (simple-git's "block" timeout).
  let idle: NodeJS.Timeout | undefined;
  const resetIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => stop('timeout'), cmd.timeoutMs);
  };
  resetIdle();

  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let seen = 0;
  const max = opts.maxBytes;
  sub.stdout?.on('data', (chunk: Buffer) => {
    resetIdle();
    if (stopped === 'cap') return;
    if (max === undefined || seen + chunk.length <= max) {
      seen += chunk.length;
      out.push(chunk);
      return;
    }
    out.push(chunk.subarray(0, Math.max(0, max - seen)));
    seen = max;
    stop('cap');
  });
  sub.stderr?.on('data', (chunk: Buffer) => {
    resetIdle();
    err.push(chunk);
  });

  const done = await sub;
  clearTimeout(idle);
  cmd.signal?.removeEventListener('abort', onAbort);
  const stdout = Buffer.concat(out).toString('utf8');
  const exitCode = done.exitCode ?? null;

  if (stopped === 'cap') return ok({ stdout, exitCode: exitCode ?? -1, truncated: true });
  if (stopped === 'cancelled') return fail('cancelled', 'The git command was cancelled.');
  if (stopped === 'timeout') {
    return fail('timeout', `git produced no output for ${Math.round(cmd.timeoutMs / 1000)} s and was stopped.`, 'Narrow the request (paths, max_count) and try again.');
  }
  if ((done as { code?: string }).code === 'ENOENT') {
    if (!existsSync(cwd)) return fail('git_error', `Cannot run git in ${cmd.cwd}: the directory does not exist.`);
    return fail('git_missing', `git could not be started (${file}).`, 'Install git; `agentbox doctor` checks it.');
  }
  if (exitCode !== null && okExit.has(exitCode)) return ok({ stdout, exitCode, truncated: false });
  const stderr = Buffer.concat(err).toString('utf8');
  // bwrap's own complaint: git never ran.
  const sandbox = file !== cmd.bin ? /^bwrap: (.*)$/m.exec(stderr) : null;
  if (sandbox) {
    if (/^Can't chdir/.test(sandbox[1]!)) return fail('git_error', `Cannot run git in ${cmd.cwd}: the directory does not exist.`);
    return fail('sandbox_failed', `git could not start in its sandbox (${sandbox[0]}).`, 'Run `agentbox doctor` to check the sandbox.');
  }
  if (exitCode === null && !stderr) return fail('git_error', `git failed: ${done.message}`);
  const output = `${stderr}\n${stdout}`;
  opts.onFailure?.(output);
  return classifyGitError(output, exitCode);
}
