// Ends the commands that run outside the sandbox (danger-full-access, approved escalations) when
// the server dies without its own cleanup, e.g. of SIGKILL. A sandboxed command needs none of this:
// bwrap's --die-with-parent ends its PID namespace, and with it every process inside.
//
// One small bash process per server reads "+ <pgid> <cgroup dirs...>" and "- <pgid>" lines on its
// stdin. When the server dies, the kernel closes the server's end of that pipe; the watchdog reads
// EOF and kills every process group (and every process in the cgroups) still listed. It ignores
// terminal signals and is in a process group of its own, so it outlives whatever ends the server.
// Besides, each unsandboxed command's first process gets a parent-death signal (setpriv
// --pdeathsig KILL) where util-linux's setpriv is installed; a stale cgroup left by a dead server is
// emptied at the next start (cgroups.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log.js';

const SCRIPT = `
trap '' INT TERM HUP QUIT PIPE
declare -A groups
while read -r op pgid dirs; do
  case $op in
    +) groups[$pgid]=$dirs ;;
    -) unset "groups[$pgid]" ;;
  esac
done
for pass in 1 2 3; do
  for pgid in "\${!groups[@]}"; do
    kill -KILL -- "-$pgid" 2>/dev/null
    for dir in \${groups[$pgid]}; do
      while read -r pid; do kill -KILL "$pid" 2>/dev/null; done < "$dir/cgroup.procs"
    done 2>/dev/null
  done
  [ \${#groups[@]} -eq 0 ] && break
  sleep 0.05
done
`;

export class Watchdog {
  readonly #child: ChildProcess;
  #alive = true;

  /** Starts the watchdog; `placed` moves it out of whatever cgroup it was born in (see ExecHost). */
  constructor(bash: string, log: Logger, placed: (pid: number) => void) {
    this.#child = spawn(bash, ['-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    this.#child.on('error', (err) => {
      this.#alive = false;
      log.warn({ err: err.message }, 'the watchdog for unsandboxed commands did not start');
    });
    this.#child.on('exit', () => (this.#alive = false));
    this.#child.stdin?.on('error', () => (this.#alive = false));
    // Neither the process nor its pipe keeps the server running.
    this.#child.unref();
    (this.#child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    if (this.#child.pid) placed(this.#child.pid);
  }

  /** Lists a command's process group (and cgroup directories) for killing should the server die. */
  watch(pgid: number, cgroupDirs: readonly string[]): void {
    this.#send(`+ ${pgid} ${cgroupDirs.join(' ')}\n`);
  }

  /** The command ended normally: nothing to kill. */
  unwatch(pgid: number): void {
    this.#send(`- ${pgid}\n`);
  }

  /** Stops the watchdog (at shutdown, after every command has been killed). */
  stop(): void {
    this.#child.stdin?.end();
  }

  #send(line: string): void {
    if (this.#alive) this.#child.stdin?.write(line);
  }
}
