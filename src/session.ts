// What one MCP session owns: its workspace roots (a host may send its own) and, later, its shell
// sessions. Everything process-wide lives in the Runtime it points to. A delegate run builds its
// own SessionContext with overrides (its worktree as root, its sandbox mode and approval policy),
// so the subagent's tools are the same tools, confined to what that run was given.
import type { ApprovalPolicy, SandboxMode } from './config/index.js';
import type { Runtime } from './runtime.js';
import { isInside, toSandboxPath, Workspace, type Policy } from './sandbox/index.js';
import { displayPath } from './util/format.js';

export interface SessionContext {
  readonly runtime: Runtime;
  readonly workspace: Workspace;
  /** The policy in force right now (roots can change when the host's roots change). */
  policy(): Policy;
  /** When the host's user is asked before a command runs (see approvals). */
  approvalPolicy(): ApprovalPolicy;
  /** How a path is shown to the model: relative to the first workspace root when inside it; /tmp/... in the private temp dir. */
  show(absolute: string): string;
  /** Registers cleanup for when this session closes. */
  onClose(fn: () => void | Promise<void>): void;
  close(): Promise<void>;
}

export interface SessionOptions {
  /** Default workspace when neither config nor host gives roots (default: the server's cwd). */
  cwd?: string;
  /** Fixed workspace roots, overriding config and host roots. */
  roots?: readonly string[];
  /** Directories readable besides the configured read_roots (a delegate's repository above its cwd). */
  readRoots?: readonly string[];
  mode?: SandboxMode;
  network?: boolean;
  approvalPolicy?: ApprovalPolicy;
}

export function createSessionContext(runtime: Runtime, opts: SessionOptions = {}): SessionContext {
  const workspace = new Workspace({
    config: opts.readRoots?.length ? { ...runtime.config, read_roots: [...runtime.config.read_roots, ...opts.readRoots] } : runtime.config,
    tmpDir: runtime.tmpDir,
    cwd: opts.cwd ?? runtime.cwd,
    home: runtime.home,
    ...(opts.roots ? { roots: opts.roots } : {}),
    ...(opts.mode ? { mode: opts.mode } : {}),
    ...(opts.network !== undefined ? { network: opts.network } : {}),
  });
  const cleanups: Array<() => void | Promise<void>> = [];
  let closed: Promise<void> | undefined;
  return {
    runtime,
    workspace,
    policy: () => workspace.policy(),
    approvalPolicy: () => opts.approvalPolicy ?? runtime.config.approval_policy,
    // The private temp dir is shown as commands see it: /tmp.
    show: (absolute) => (isInside(workspace.policy().tmpDir, absolute) ? toSandboxPath(workspace.policy(), absolute) : displayPath(workspace.roots[0], absolute)),
    onClose: (fn) => void cleanups.push(fn),
    close() {
      closed ??= (async () => {
        for (const fn of cleanups.reverse()) {
          try {
            await fn();
          } catch (err) {
            runtime.log.warn({ err }, 'session cleanup failed');
          }
        }
      })();
      return closed;
    },
  };
}
