// The argv after `bash`: the rlimits, then the model's command exactly as given.
//
// With a PTY the command runs in a subshell that job control (`set -m`) puts in its own process
// group in the terminal's foreground. Ctrl-C from write_stdin ("\u0003") then interrupts the
// command, as in a terminal, instead of reaching bwrap (which shares the terminal's first process
// group and would die of SIGINT, taking the whole sandbox with it). The closing parenthesis goes
// on its own line so that a trailing comment in the command cannot swallow it.
import { rlimitPrefix, type ResourceLimits } from './rlimits.js';

export interface ScriptOptions {
  limits: ResourceLimits;
  /** Apply RLIMIT_NPROC (inside the sandbox only). */
  nproc: boolean;
  tty: boolean;
  login: boolean;
}

export function shellArgs(cmd: string, opts: ScriptOptions): string[] {
  const prefix = rlimitPrefix(opts.limits, { nproc: opts.nproc });
  const script = opts.tty ? `${prefix}set -m; (${cmd}\n)` : prefix + cmd;
  return [opts.login ? '-lc' : '-c', script];
}
