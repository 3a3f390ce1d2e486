// stdio: newline-delimited JSON-RPC on stdin/stdout, logs on stderr. Ends cleanly, killing every
// process it started, when stdin closes or on SIGINT/SIGTERM (Claude Code sends SIGINT, then
// SIGTERM 100 ms later: both lead to the same single shutdown), and also when the transport
// itself closes or cannot go on, always saying why in the log.
//
// One message may be at most stdio.max_message_bytes. A longer one is dropped as it arrives
// (message-limit.ts) and answered with a JSON-RPC error for its id, so a too-large write_file or
// apply_patch costs that one call, not the server; one whose id cannot be found ends the server
// (through the same stop), since the client would otherwise wait forever for an answer.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Runtime } from '../runtime.js';
import { createServer } from '../server.js';
import { formatBytes } from '../util/format.js';
import { MessageLimit, type OversizedMessage } from './message-limit.js';

export async function serveStdio(runtime: Runtime): Promise<void> {
  const created = createServer(runtime);
  const limit = runtime.config.stdio.max_message_bytes;
  const input = new MessageLimit(limit, (m) => void oversized(m));
  // Every line reaching the transport is at most `limit` bytes, so its own buffer never needs more.
  const transport = new StdioServerTransport(input, process.stdout, { maxBufferSize: limit + 2 });
  let stopping: Promise<void> | undefined;
  const stop = (reason: string, exitCode = 0) => {
    stopping ??= (async () => {
      runtime.log[exitCode === 0 ? 'info' : 'error']({ reason }, 'stdio server stopping');
      await created.close();
      await runtime.shutdown();
    })().finally(() => process.exit(exitCode));
    return stopping;
  };

  const oversized = async (m: OversizedMessage) => {
    const what = `a message of ${formatBytes(m.bytes)} (${m.bytes} bytes) is over stdio.max_message_bytes = ${limit}`;
    if (m.id === undefined) {
      await stop(`${what}, and its request id could not be read to refuse it alone`, 1);
      return;
    }
    runtime.log.warn({ id: m.id, bytes: m.bytes, limit }, 'stdio: refused a message over the size limit');
    await transport.send({
      jsonrpc: '2.0',
      id: m.id,
      error: {
        code: ErrorCode.InvalidRequest,
        message: `Request too large: ${formatBytes(m.bytes)} is over this server's limit of ${formatBytes(limit)} per message (stdio.max_message_bytes); nothing was done. Send less at once: split the change into several calls, or create a large file with exec_command.`,
      },
    });
  };

  process.stdin.pipe(input);
  process.stdin.on('end', () => void stop('stdin closed'));
  process.stdin.on('close', () => void stop('stdin closed'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
  // A host that vanishes leaves a broken stdout pipe; writing to it must end us, not crash us.
  process.stdout.on('error', () => void stop('stdout closed'));
  // The SDK reports unreadable messages and its own failures here; connect() keeps this handler.
  transport.onerror = (err) => runtime.log.warn({ err }, 'stdio transport error');
  // The transport closes itself on a fatal input error; without this the process would just end.
  transport.onclose = () => void stop('stdio transport closed', stopping ? 0 : 1);
  await created.server.connect(transport);
  runtime.log.info({ roots: created.session.workspace.roots, mode: runtime.config.sandbox.mode, max_message_bytes: limit }, 'agentbox ready on stdio');
}
