// The workspace: the roots a session works in. Roots come from --root/config, or from the host's
// MCP roots (which may change while the session runs), or default to the current directory.
// `policy()` combines them with the sandbox settings into the value every tool checks against.
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config, SandboxMode } from '../config/index.js';
import { buildPolicy, expandDenyRead, type Policy } from './policy.js';

export interface WorkspaceOptions {
  config: Config;
  /** The server's private temp dir (see runtime.ts). */
  tmpDir: string;
  /** Fallback when neither config nor host gives roots. */
  cwd?: string;
  /** Fixed roots that override config and host (a delegate run in a worktree uses this). */
  roots?: readonly string[];
  /** Sandbox mode override (a delegate run may ask for read-only). */
  mode?: SandboxMode;
  /** Network override. */
  network?: boolean;
  /** $AGENTBOX_HOME: hidden from the file tools. */
  home?: string;
}

export class Workspace {
  #roots: string[];
  #policy: Policy;
  readonly #opts: WorkspaceOptions;
  /** True when roots came from --root/config: the host's roots are then ignored. */
  readonly fixedRoots: boolean;

  constructor(opts: WorkspaceOptions) {
    this.#opts = opts;
    const fixed = opts.roots ?? (opts.config.roots.length > 0 ? opts.config.roots : undefined);
    this.fixedRoots = fixed !== undefined;
    this.#roots = fixed ? fixed.map((r) => path.resolve(r)) : implicitRoots(opts.cwd ?? process.cwd());
    this.#policy = this.#build();
  }

  /** The policy in force; pass `mode` to get the same roots under another sandbox mode. */
  policy(mode?: SandboxMode): Policy {
    return mode === undefined || mode === this.#policy.mode ? this.#policy : this.#build(mode);
  }

  get roots(): readonly string[] {
    return this.#policy.roots;
  }

  /** Replaces the roots with the host's `file://` roots; ignored when roots were fixed by the user. */
  setHostRoots(uris: readonly string[]): string[] {
    if (this.fixedRoots) return [...this.#roots];
    // As for the implicit root: a host cannot make the whole filesystem the workspace, and a root
    // must be an existing directory.
    const dirs = uris
      .filter((u) => u.startsWith('file://'))
      .map((u) => fileURLToPath(u))
      .filter((d) => path.resolve(d) !== '/' && isDirectory(d));
    if (dirs.length === 0) return [...this.#roots];
    this.#roots = dirs;
    this.#policy = this.#build();
    return dirs;
  }

  #build(mode: SandboxMode = this.#opts.mode ?? this.#opts.config.sandbox.mode): Policy {
    const { config, tmpDir } = this.#opts;
    return buildPolicy({
      mode,
      roots: this.#roots,
      readRoots: config.read_roots,
      extraWritableRoots: config.sandbox.writable_roots,
      network: this.#opts.network ?? config.sandbox.network,
      tmpDir,
      home: this.#opts.home,
      // `~` is the server's home directory, as for a `~/...` path given to a file tool.
      denyRead: expandDenyRead(config.sandbox.deny_read, process.env.HOME),
    });
  }
}

/**
 * The directory the server started in, unless that is `/`: hosts often launch servers there, and
 * the whole filesystem must never become the workspace by accident. Then there is no workspace
 * until the host sends roots (every tool says how to fix it).
 */
function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function implicitRoots(cwd: string): string[] {
  return path.resolve(cwd) === '/' ? [] : [cwd];
}
