// The exec layer's process-wide state, one per Runtime (runtime.shared): the one-time sandbox
// check, the command cgroups, the masked protected paths in use, every running command (for
// max_sessions and for shutdown), and the session id counter. Per-MCP-session state (which ids a
// session may see) is in SessionTable.
import { readdirSync, rmdirSync } from 'node:fs';
import type { Runtime } from '../runtime.js';
import { findHostPaths, findStaticHostPaths, keyringSeccompFilter, sandboxProbe, TtlMemo, type HostPaths, type Policy, type SandboxProbe } from '../sandbox/index.js';
import { CommandCgroups } from './cgroups.js';
import { Watchdog } from './watchdog.js';
import type { ExecSession } from './session.js';

/** How long the hidden paths and runtime directories found are reused. */
const HOST_PATHS_TTL_MS = 5000;

export class ExecHost {
  readonly runtime: Runtime;
  /** Every command still running, across all MCP sessions. */
  readonly live = new Set<ExecSession>();
  /** The server's environment, read once: commands get a filtered copy (reading process.env per call is slow). */
  readonly env: Readonly<Record<string, string | undefined>> = { ...process.env };
  /** The seccomp program every sandboxed command gets (no keyctl, add_key, request_key), built once. */
  readonly seccomp: Buffer = keyringSeccompFilter();
  #cgroups: CommandCgroups | undefined | null = null;
  #masks = new Set<string>();
  #watchdog: Watchdog | undefined;
  /** The hidden paths and runtime directories found, by the policy's hidden list. */
  readonly #staticHostPaths = new TtlMemo<Pick<HostPaths, 'hidden' | 'runtimeDirs'>>(HOST_PATHS_TTL_MS);
  #nextId = 1000;
  #closing = false;

  /** The ExecHost of `runtime`, created on first use. */
  static of(runtime: Runtime): ExecHost {
    return runtime.shared('exec.host', () => new ExecHost(runtime));
  }

  private constructor(runtime: Runtime) {
    this.runtime = runtime;
    runtime.onShutdown(() => this.shutdown());
  }

  get closing(): boolean {
    return this.#closing;
  }

  nextId(): number {
    return this.#nextId++;
  }

  /** Whether bwrap can run here: checked once (one trivial sandbox), then cached for the server's life (shared with the confined view). */
  sandbox(): Promise<SandboxProbe> {
    return sandboxProbe(this.runtime);
  }

  /** The cgroup hierarchies (pids, memory), detected on first use; undefined where there is none. */
  cgroups(): CommandCgroups | undefined {
    if (this.#cgroups === null) this.#cgroups = CommandCgroups.detect(this.runtime.log);
    return this.#cgroups;
  }

  /**
   * What the sandbox hides on this machine for `policy`. The hidden paths and runtime directories
   * are looked up at most every few seconds; container engine sockets for every command.
   */
  hostPaths(policy: Policy): Promise<HostPaths> {
    return this.#staticHostPaths
      .get([...policy.hidden, '', ...policy.denyRead].join('\0'), () => findStaticHostPaths(policy, this.env))
      .then((known) => findHostPaths(policy, this.env, known));
  }

  /** The watchdog that ends unsandboxed commands should the server die without cleanup; started on first use. */
  watchdog(): Watchdog | undefined {
    const bash = this.runtime.bin.bash;
    if (!bash || this.#closing) return undefined;
    this.#watchdog ??= new Watchdog(bash, this.runtime.log, (pid) => this.cgroups()?.moveHome(pid));
    return this.#watchdog;
  }

  /**
   * Records the missing protected paths a command masks. bwrap leaves an empty directory on the host
   * as each mount point; it stays while the server runs (an empty `.git` directory is ignored by
   * git, and removing it after each command would race with concurrent commands) and is removed at
   * shutdown if still empty.
   */
  noteMasks(paths: readonly string[]): void {
    for (const p of paths) this.#masks.add(p);
  }

  /** Kills every running command and removes the cgroups (at shutdown). */
  async shutdown(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.live].map((s) => s.kill()));
    this.#watchdog?.stop();
    if (this.#cgroups) await this.#cgroups.removeAll();
    for (const p of this.#masks) {
      try {
        if (readdirSync(p).length === 0) rmdirSync(p);
      } catch {
        // gone already, or no longer empty (the user made it a repository meanwhile)
      }
    }
  }
}
