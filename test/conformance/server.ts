// Starts agentbox's real Streamable HTTP transport (src/transports/http.ts) with the conformance
// fixtures registered on every session's server, on 127.0.0.1. Test-only; run from the repo root:
//
//   node --import tsx test/conformance/server.ts [--port N]      (default port 0: a free one)
//
// Prints one line to stdout once listening:  CONFORMANCE_SERVER_URL=http://127.0.0.1:PORT/mcp
// and stops cleanly on SIGINT/SIGTERM. Configuration is hermetic: built-in defaults plus the
// values below, never the user's $AGENTBOX_HOME/config.toml or AGENTBOX_* environment.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flagsLayer, parseLayers, type ConfigInput } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { createRuntime } from '../../src/runtime.js';
import { serveHttp } from '../../src/transports/http.js';
import { memoryEventStore, registerConformanceFixtures } from './fixtures.js';

function portFromArgs(argv: string[]): number {
  const i = argv.indexOf('--port');
  const raw = i >= 0 ? argv[i + 1] : process.env.CONFORMANCE_PORT;
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`port ${raw} (--port or CONFORMANCE_PORT): expected an integer from 0 to 65535`);
  return n;
}

async function main(): Promise<void> {
  const port = portFromArgs(process.argv.slice(2));
  // A private, empty workspace and home: the fixtures never touch files, and agentbox's own
  // tools (listed next to the fixtures) see only this directory.
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'agentbox-conformance-'));
  const values: ConfigInput = {
    roots: [scratch],
    log_level: (process.env.CONFORMANCE_LOG_LEVEL as ConfigInput['log_level']) ?? 'warn',
    http: { host: '127.0.0.1', port },
  };
  const config = parseLayers([flagsLayer(values, {})]);
  const runtime = createRuntime({ config, home: scratch, log: createLogger(config.log_level), cwd: scratch });
  // The event store makes SSE streams resumable, for the pending server-sse-polling scenario.
  const handle = await serveHttp(runtime, { extend: registerConformanceFixtures, eventStore: memoryEventStore, retryInterval: 200 });
  process.stdout.write(`CONFORMANCE_SERVER_URL=${handle.url}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await handle.close();
    await runtime.shutdown();
    rmSync(scratch, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`conformance server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
