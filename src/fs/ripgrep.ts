// Runs ripgrep and hands its output to the caller line by line, so a caller that has enough
// (a result cap) can stop it early instead of buffering everything it would print.
import { execa } from 'execa';

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
}

/** Flags every agentbox search uses: hidden files included, .git excluded, .gitignore honoured even outside a repo. */
export const RG_COMMON = ['--hidden', '--no-require-git', '--glob', '!.git', '--color', 'never'];

export async function runRipgrep(
  rg: string,
  args: string[],
  cwd: string,
  onLine: (line: string) => boolean,
  signal?: AbortSignal,
): Promise<RipgrepRun> {
  const sub = execa(rg, args, {
    cwd,
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
  return { exitCode: done.exitCode, problems: classifyStderr(String(done.stderr ?? '')), stopped };
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
    const unreadable = /^(?:rg: )?(.+?): .*\(os error \d+\)$/.exec(line);
    if (unreadable) problems.unreadable.push(unreadable[1]!);
    else if (line.includes('No files were searched')) problems.noFilesSearched = true;
    else if (!line.startsWith('Running with --debug')) problems.other.push(line);
  }
  return problems;
}
