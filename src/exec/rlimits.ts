// Per-process resource limits, set by the command's own shell before it runs the command
// (`ulimit -d` = RLIMIT_DATA, `ulimit -t` = RLIMIT_CPU, `ulimit -u` = RLIMIT_NPROC): no extra
// process per command. RLIMIT_DATA counts memory a process has actually made writable, so it stops
// a runaway allocation without breaking programs that merely reserve address space (RLIMIT_AS at
// 8 GB breaks WebAssembly in Node, and with it Node's fetch). Limits for the command as a whole
// (all its processes, tmpfs pages) are cgroups (cgroups.ts), where the machine allows them.

export interface ResourceLimits {
  maxProcesses: number;
  maxMemoryMb: number;
  maxCpuSeconds: number;
}

/**
 * bash code that applies the rlimits, run before the command on the same line (so the command's
 * line numbers do not shift). A hard limit already lower than ours is kept, silently.
 * `nproc` is false for commands outside the sandbox, where RLIMIT_NPROC would count every process
 * the user runs on the machine rather than the command's own.
 */
export function rlimitPrefix(limits: ResourceLimits, opts: { nproc: boolean }): string {
  const parts = [`ulimit -d ${limits.maxMemoryMb * 1024}`, `ulimit -t ${limits.maxCpuSeconds}`];
  if (opts.nproc) parts.push(`ulimit -u ${limits.maxProcesses}`);
  return `{ ${parts.join('; ')}; } 2>/dev/null; `;
}
