// delegate: what agentbox's agent loop costs per model turn, and whether one server carries many
// delegates at once. The model is the scripted loopback server from test/support (zero latency:
// it answers as soon as a request arrives), so what is measured is agentbox, not a model.
//
// 1. Per-turn overhead, in process: a delegate of N turns, each an update_plan call (a tool with
//    no I/O), timed end to end, divided by N, minus the model round trip measured alone with the
//    same HTTP client. The model runs in a worker thread, so its work is not counted.
//    Target: < 5 ms per turn.
// 2. The same over stdio, as a host sees it (includes the MCP round trip once per delegate).
// 3. 32 delegates at once on one stdio server (each: read_file, a sandboxed `echo` through
//    exec_command, update_plan, answer): errors, wall time, per-delegate latency, peak RSS.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import OpenAI from 'openai';
import { atExit, connectAgentbox, fmt, measure, peakRssMiB, ROOT, stats, table } from './lib.mjs';

const dist = (p) => import(path.join(ROOT, 'dist', p));
const { loadConfig } = await dist('config/index.js');
const { createRuntime } = await dist('runtime.js');
const { createLogger } = await dist('log.js');
const { createSessionContext } = await dist('session.js');
const { allTools } = await dist('server.js');
const { agentService } = await dist('agent/index.js');

const TURNS = 50;
const CONCURRENT = 32;

const worker = new Worker(new URL('./delegate-model.worker.mjs', import.meta.url), { workerData: { turns: TURNS } });
const model = { url: await new Promise((resolve) => worker.once('message', resolve)) };
const home = mkdtempSync(path.join(os.tmpdir(), 'agentbox-bench-home-'));
const ws = mkdtempSync(path.join(os.tmpdir(), 'agentbox-bench-ws-'));
atExit(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(ws, { recursive: true, force: true });
});
writeFileSync(path.join(ws, 'notes.txt'), 'benchmark notes\n'.repeat(20));
writeFileSync(
  path.join(home, 'config.toml'),
  `model = "bench-model"\nmodel_provider = "mock"\napproval_policy = "never"\nlog_level = "silent"\n[agent]\nmax_turns = ${TURNS + 5}\n[model_providers.mock]\nbase_url = "${model.url}"\nwire_api = "responses"\nmax_retries = 0\n`,
);

// ---- 1. in process -----------------------------------------------------------------------------
const { config } = loadConfig({ env: { AGENTBOX_HOME: home } });
const runtime = createRuntime({ config, home, log: createLogger('silent'), cwd: ws });
const session = createSessionContext(runtime, { roots: [ws] });
const service = agentService(runtime, allTools);
const host = { progress() {}, log() {}, askApproval: async () => 'unavailable' };

async function oneDelegate(prompt) {
  const started = await service.start({ prompt }, session, host);
  if (!started.ok) throw new Error(started.error.message);
  const result = await started.value.done;
  if (result.status !== 'completed') throw new Error(`${result.status}: ${result.error}`);
  return result;
}

const loop = await measure(() => oneDelegate('turns'), { rounds: 10, warmup: 2 });
const client = new OpenAI({ apiKey: 'none', baseURL: model.url, maxRetries: 0 });
const roundTrip = await measure(
  async () => {
    const stream = await client.responses.create({ model: 'bench-model', input: 'x', stream: true });
    for await (const _ of stream); // eslint-disable-line no-unused-vars
  },
  { rounds: 200, warmup: 20 },
);
const perTurn = loop.p50 / (TURNS + 1);
const overhead = perTurn - roundTrip.p50;

// ---- 2 and 3. over stdio -----------------------------------------------------------------------
const conn = await connectAgentbox(['--root', ws], { env: { AGENTBOX_HOME: home, AGENTBOX_LOG_LEVEL: 'silent' } });
const call = async (prompt) => {
  /** @type {any} */
  const r = await conn.client.callTool({ name: 'delegate', arguments: { prompt } }, undefined, { timeout: 120_000 });
  if (r.isError || r.structuredContent?.status !== 'completed') throw new Error(JSON.stringify(r.content).slice(0, 300));
  if (prompt.startsWith('concurrent') && !r.structuredContent.content.endsWith('exec ok')) throw new Error(`the command failed: ${r.structuredContent.content}`);
};
const overStdio = await measure(() => call('turns'), { rounds: 5, warmup: 1 });

/** @type {number[]} */
const latencies = [];
let errors = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENT }, async (_, i) => {
    const s = performance.now();
    try {
      await call(`concurrent ${i}`);
      latencies.push(performance.now() - s);
    } catch (err) {
      errors++;
      process.stderr.write(`delegate ${i} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }),
);
const wall = performance.now() - t0;
const conc = stats(latencies, wall);
const rss = peakRssMiB(conn.pid);
await conn.close();
await runtime.shutdown();
worker.postMessage('close');
rmSync(home, { recursive: true, force: true });
rmSync(ws, { recursive: true, force: true });

console.log('## delegate\n');
console.log(`Scripted zero-latency model on loopback; ${TURNS} update_plan turns + 1 answer per delegate; ${os.cpus().length} CPUs.\n`);
console.log(
  table(
    ['measure', 'p50 ms', 'p90 ms', 'notes'],
    [
      [`delegate, ${TURNS + 1} model turns, in process`, fmt(loop.p50), fmt(loop.p90), `${fmt(perTurn)} ms per turn`],
      ['model round trip alone (openai client, SSE)', fmt(roundTrip.p50), fmt(roundTrip.p90), 'subtracted below'],
      ['**loop overhead per turn**', fmt(overhead), '–', `target < 5 ms: ${overhead < 5 ? 'met' : 'NOT met'}`],
      [`delegate over stdio, ${TURNS + 1} turns`, fmt(overStdio.p50), fmt(overStdio.p90), `${fmt(overStdio.p50 / (TURNS + 1))} ms per turn`],
      [
        `${CONCURRENT} concurrent delegates (4 turns each, one sandboxed command), one stdio server`,
        fmt(conc.p50),
        fmt(conc.p90),
        `${errors} errors; wall ${fmt(wall)} ms; peak RSS ${rss ? rss.toFixed(0) : '?'} MiB`,
      ],
    ],
  ),
);
process.exit(errors > 0 ? 1 : 0);
