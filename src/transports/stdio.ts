// stdio: newline-delimited JSON-RPC on stdin/stdout, logs on stderr. Ends cleanly, killing every
// process it started, when stdin closes or on SIGINT/SIGTERM (Claude Code sends SIGINT, then
// SIGTERM 100 ms later: both lead to the same single shutdown).
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Runtime } from '../runtime.js';
import { createServer } from '../server.js';

export async function serveStdio(runtime: Runtime): Promise<void> {
  const created = createServer(runtime);
  const transport = new StdioServerTransport();
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      runtime.log.info({ reason }, 'stdio server stopping');
      await created.close();
      await runtime.shutdown();
    })().finally(() => process.exit(0));
    return stopping;
  };
  process.stdin.on('end', () => void stop('stdin closed'));
  process.stdin.on('close', () => void stop('stdin closed'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
  // A host that vanishes leaves a broken stdout pipe; writing to it must end us, not crash us.
  process.stdout.on('error', () => void stop('stdout closed'));
  await created.server.connect(transport);
  runtime.log.info({ roots: created.session.workspace.roots, mode: runtime.config.sandbox.mode }, 'agentbox ready on stdio');
}
