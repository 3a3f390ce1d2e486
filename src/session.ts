// What one MCP session owns: its workspace roots (a host may send its own) and, later, its shell
// sessions. Everything process-wide lives in the Runtime it points to.
import type { Runtime } from './runtime.js';
import { Workspace, type Policy } from './sandbox/index.js';
import { displayPath } from './util/format.js';

export interface SessionContext {
  readonly runtime: Runtime;
  readonly workspace: Workspace;
  /** The policy in force right now (roots can change when the host's roots change). */
  policy(): Policy;
  /** How a path is shown to the model: relative to the first workspace root when inside it. */
  show(absolute: string): string;
  /** Registers cleanup for when this session closes. */
  onClose(fn: () => void | Promise<void>): void;
  close(): Promise<void>;
}

export function createSessionContext(runtime: Runtime, opts: { cwd?: string } = {}): SessionContext {
  const workspace = new Workspace({ config: runtime.config, tmpDir: runtime.tmpDir, cwd: opts.cwd ?? runtime.cwd });
  const cleanups: Array<() => void | Promise<void>> = [];
  let closed: Promise<void> | undefined;
  return {
    runtime,
    workspace,
    policy: () => workspace.policy(),
    show: (absolute) => displayPath(workspace.roots[0], absolute),
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
