// The process-wide state every MCP session shares: the configuration, the logger, the private
// temp directory, the executables found at start-up, and one shutdown signal that reaches every
// running tool call. Built once by the CLI (or by a test).
import { setMaxListeners } from 'node:events';
import { rmSync } from 'node:fs';
import type { Config } from './config/index.js';
import { createLogger, type Logger } from './log.js';
import { createPrivateTmp, removeStalePrivateTmps } from './private-tmp.js';
import { which } from './util/which.js';

export interface Executables {
  rg?: string;
  git?: string;
  bwrap?: string;
  bash?: string;
  /** The Codex CLI (config `codex.path`, else `codex` on PATH), for backend "codex". */
  codex?: string;
  /** util-linux setpriv: unsandboxed commands get a parent-death signal through it. */
  setpriv?: string;
}

export interface Runtime {
  readonly config: Config;
  /** $AGENTBOX_HOME: config.toml, threads and other state. */
  readonly home: string;
  readonly log: Logger;
  /** Private temp directory for this server, mounted as /tmp inside the sandbox. */
  readonly tmpDir: string;
  /** Executables looked up once at start-up; tools never probe per call. */
  readonly bin: Executables;
  /** The directory the server started in: the workspace when no roots are given. */
  readonly cwd: string;
  /** Aborted when the server shuts down; every tool call's signal follows it. */
  readonly signal: AbortSignal;
  /** Registers cleanup to run at shutdown (kill processes, flush state). */
  onShutdown(fn: () => void | Promise<void>): void;
  /** Process-wide state a module needs once per runtime, created on first use (e.g. the exec layer's process table). */
  shared<T>(key: string, create: () => T): T;
  /** Aborts everything, runs the cleanups, removes the temp dir. Safe to call twice. */
  shutdown(): Promise<void>;
}

export interface RuntimeOptions {
  config: Config;
  home: string;
  log?: Logger;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function createRuntime(opts: RuntimeOptions): Runtime {
  const env = opts.env ?? process.env;
  const log = opts.log ?? createLogger(opts.config.log_level);
  const tmpDir = createPrivateTmp();
  // What servers killed before their cleanup left behind (their commands: see exec/cgroups.ts).
  void removeStalePrivateTmps().then((dirs) => dirs.length > 0 && log.info({ dirs }, 'removed the temp dirs of dead agentbox servers'));
  const controller = new AbortController();
  // Every tool call in flight listens on this signal; hundreds at once is normal, not a leak.
  setMaxListeners(0, controller.signal);
  const cleanups: Array<() => void | Promise<void>> = [];
  const sharedState = new Map<string, unknown>();
  let done: Promise<void> | undefined;
  const bin: Executables = {
    rg: which('rg', env.PATH),
    git: which('git', env.PATH),
    bwrap: which('bwrap', env.PATH),
    bash: which('bash', env.PATH),
    codex: which(opts.config.codex.path ?? 'codex', env.PATH),
    setpriv: which('setpriv', env.PATH),
  };
  return {
    config: opts.config,
    home: opts.home,
    log,
    tmpDir,
    bin,
    cwd: opts.cwd ?? process.cwd(),
    signal: controller.signal,
    onShutdown: (fn) => void cleanups.push(fn),
    shared<T>(key: string, create: () => T): T {
      if (!sharedState.has(key)) sharedState.set(key, create());
      return sharedState.get(key) as T;
    },
    shutdown() {
      done ??= (async () => {
        controller.abort(new Error('agentbox is shutting down'));
        for (const fn of cleanups.reverse()) {
          try {
            await fn();
          } catch (err) {
            log.warn({ err }, 'cleanup failed during shutdown');
          }
        }
        rmSync(tmpDir, { recursive: true, force: true });
      })();
      return done;
    },
  };
}
