// Runs ripgrep and hands its output to the caller line by line, so a caller that has enough
// (a result cap) can stop it early instead of buffering everything it would print. rg walks the
// tree by name, so outside danger-full-access it runs in the confined view (sandbox/view.ts),
// where only the roots exist: a directory swapped for a symlink to elsewhere leads nowhere.
import { execa } from 'execa';
import type { ConfinedView, Launch, Policy } from '../sandbox/index.js';
import { fail, type Result } from '../util/result.js';

/** How to start rg with `args` in the real directory `cwd`: inside the confined view, or as is in danger-full-access. */
export type RipgrepLauncher = (args: string[], cwd: string) => Promise<Result<Launch>>;

/**
 * How grep and glob start `rg` under `policy`; undefined (use the built-in walker) when rg is not
 * installed or the sandbox that would confine it cannot run here.
 */
export async function ripgrepLauncher(view: ConfinedView, policy: Policy, rg: string | undefined): Promise<RipgrepLauncher | undefined> {
  if (!rg || !(await view.usable(policy))) return undefined;
  return (args, cwd) => view.launch(policy, { purpose: 'search', bin: rg, args, cwd });
}

export interface RipgrepRun {
  exitCode: number | undefined;
  /** What rg said on stderr, split into kinds a tool can act on. */
  problems: RipgrepProblems;
  /** True when `onLine` asked to stop and rg was killed. */
  stopped: boolean;
}

export interface RipgrepProblems {
  /** The regex did not compile: the whole message, with rg's caret. */
  patternError?: string;
  /** rg found no file to search at all (e.g. a glob that matches nothing). */
  noFilesSearched: boolean;
  /** Paths rg could not read (permission denied and the like); the search went on without them. */
  unreadable: string[];
  /** Anything else rg complained about (e.g. an invalid glob). */
  other: string[];
  /** bwrap could not set up the confined view (rg never ran). */
  sandboxError?: string;
}

/** Flags every agentbox search uses: hidden files included, .git excluded, .gitignore honoured even outside a repo. */
export const RG_COMMON = ['--hidden', '--no-require-git', '--glob', '!.git', '--color', 'never'];

/** Runs rg with `args` in `cwd`, started by `launch`; fails only when it cannot be started at all. */
export async function runRipgrep(
  launch: RipgrepLauncher,
  args: string[],
  cwd: string,
  onLine: (line: string) => boolean,
  signal?: AbortSignal,
): Promise<Result<RipgrepRun>> {
  const how = await launch(args, cwd);
  if (!how.ok) return how;
  const sub = execa(how.value.file, how.value.args, {
    cwd: how.value.cwd,
    reject: false,
    stdin: 'ignore',
    buffer: { stdout: false, stderr: true },
    maxBuffer: { stderr: 256 * 1024 },
    stripFinalNewline: false,
    ...(signal ? { cancelSignal: signal } : {}),
  });
  let stopped = false;
  for await (const line of sub) {
    if (!onLine(line)) {
      stopped = true;
      sub.kill();
      break;
    }
  }
  const done = await sub;
  return { ok: true, value: { exitCode: done.exitCode, problems: classifyStderr(String(done.stderr ?? '')), stopped } };
}

export function classifyStderr(stderr: string): RipgrepProblems {
  const text = stderr.trim();
  const problems: RipgrepProblems = { noFilesSearched: false, unreadable: [], other: [] };
  if (!text) return problems;
  const parseAt = text.indexOf('regex parse error');
  if (parseAt !== -1) {
    problems.patternError = text.slice(parseAt);
    return problems;
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('bwrap: ')) {
      problems.sandboxError ??= line;
      continue;
    }
    const unreadable = /^(?:rg: )?(.+?): .*\(os error \d+\)$/.exec(line);
    if (unreadable) problems.unreadable.push(unreadable[1]!);
    else if (line.includes('No files were searched')) problems.noFilesSearched = true;
    else if (!line.startsWith('Running with --debug')) problems.other.push(line);
  }
  return problems;
}

/** grep or glob could not start rg in its confined view (bwrap's own error): said as such, never treated as no match. */
export function sandboxFailure(tool: 'grep' | 'glob', bwrapError: string): Result<never> {
  // The directory was checked a moment ago: in the view it is gone, or it was replaced by a link out of the workspace.
  if (/^bwrap: Can't chdir/.test(bwrapError)) {
    return fail('not_found', `${tool} failed: the directory to search is no longer a directory in the workspace (it was moved, or replaced by a link).`, 'Check the path with list_dir and try again.');
  }
  return fail('sandbox_failed', `${tool} failed: ripgrep could not start in its sandbox (${bwrapError}).`, 'Run `agentbox doctor` to check the sandbox.');
}
