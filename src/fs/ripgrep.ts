// Runs ripgrep and hands its output to the caller line by line, so a caller that has enough
// (a result cap) can stop it early instead of buffering everything it would print.
import { execa } from 'execa';

export interface RipgrepRun {
  exitCode: number | undefined;
  stderr: string;
  /** True when `onLine` asked to stop and rg was killed. */
  stopped: boolean;
}

/** Flags every agentbox search uses: hidden files included, .git excluded, .gitignore honoured even outside a repo. */
export const RG_COMMON = ['--hidden', '--no-require-git', '--glob', '!.git', '--color', 'never', '--no-messages'];

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
  return { exitCode: done.exitCode, stderr: String(done.stderr ?? '').trim(), stopped };
}
