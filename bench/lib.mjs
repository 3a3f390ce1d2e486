// Shared helpers for the benchmarks: timing with percentiles, a stdio MCP client for agentbox or
// any other server, peak RSS from /proc, and a markdown table. Benchmarks import dist/ (npm run
// bench builds first) and never assert: they report.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

/**
 * Imports a module of the build (dist/, which `npm run bench` builds first). The path is computed,
 * so the type checker does not follow it into dist/'s JavaScript: callers state the module's type
 * from its source with a JSDoc type cast to `typeof import('../src/….js')`, so that
 * `npm run typecheck` checks every use against src/.
 * @param {string} rel path under dist/
 * @returns {Promise<any>}
 */
export const fromDist = (rel) => import(pathToFileURL(path.join(ROOT, 'dist', rel)).href);

/** Runs `fn` `warmup` times untimed, then `rounds` times timed; returns latency stats in ms. */
export async function measure(fn, { rounds = 50, warmup = 5 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = [];
  const start = performance.now();
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  const wall = performance.now() - start;
  return stats(samples, wall);
}

export function stats(samples, wallMs) {
  const sorted = [...samples].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return {
    n: samples.length,
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    callsPerSec: wallMs ? (samples.length / wallMs) * 1000 : undefined,
  };
}

// ---- cleanup on Ctrl-C ---------------------------------------------------------------------------
/** @type {Set<() => void>} */
const atExitFns = new Set();
let exitHooked = false;
/**
 * Registers a synchronous cleanup (kill a child server, remove a temp dir) run if the bench is
 * interrupted (SIGINT, SIGTERM) before its own cleanup; returns a function that unregisters it.
 * @param {() => void} fn
 */
export function atExit(fn) {
  atExitFns.add(fn);
  if (!exitHooked) {
    exitHooked = true;
    for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
      process.once(sig, () => {
        process.stderr.write(`bench: ${sig}: stopping the servers and removing temporary files\n`);
        for (const f of [...atExitFns].reverse()) {
          try {
            f();
          } catch {}
        }
        process.exit(sig === 'SIGINT' ? 130 : 143);
      });
    }
  }
  return () => void atExitFns.delete(fn);
}

/** Kills a child process we started (by its pid), ignoring one that is gone. */
export function killPid(/** @type {number | undefined} */ pid) {
  if (!pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

/** A temporary directory removed on an interrupt too; returns a function that removes it now. */
export function removeOnExit(/** @type {string} */ dir) {
  const rm = () => rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  const unregister = atExit(rm);
  return () => (unregister(), rm());
}

/**
 * Connects an SDK client to a stdio server; returns { client, pid, call, close }. The server is
 * killed if the bench is interrupted.
 * @param {string} command
 * @param {string[]} args
 * @param {{ env?: Record<string, string | undefined>, cwd?: string }} [opts]
 */
export async function connectStdioServer(command, args, { env = {}, cwd } = {}) {
  const transport = new StdioClientTransport({ command, args, env: /** @type {Record<string, string>} */ ({ PATH: process.env.PATH, HOME: process.env.HOME, ...env }), cwd, stderr: 'pipe' });
  transport.stderr?.on('data', () => {});
  const client = new Client({ name: 'agentbox-bench', version: '1.0.0' }, { capabilities: {} });
  let pid;
  const unregister = atExit(() => killPid(pid));
  await client.connect(transport);
  pid = transport.pid ?? undefined;
  return {
    client,
    pid,
    /** @type {(name: string, args?: Record<string, unknown>) => Promise<any>} */
    call: (name, args = {}) => client.callTool({ name, arguments: args }),
    close: () => (unregister(), client.close()),
  };
}

/** Connects an SDK client to a Streamable HTTP server; returns { client, call, close }. */
export async function connectHttpServer(url) {
  const client = new Client({ name: 'agentbox-bench', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  /** @type {(name: string, args?: Record<string, unknown>) => Promise<any>} */
  const call = (name, args = {}) => client.callTool({ name, arguments: args });
  return { client, call, close: () => client.close() };
}

/** agentbox over stdio with the given extra CLI args. */
export function connectAgentbox(args = [], opts = {}) {
  return connectStdioServer(process.execPath, [CLI, 'serve', '--stdio', ...args], opts);
}

/** Peak resident set size of a process in MiB (VmHWM), or undefined. */
export function peakRssMiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets a process's peak RSS (VmHWM) to its current RSS, so the next reading is per case. */
export function resetPeakRss(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Spawns a program, drains its output and resolves with the bytes it printed; rejects on a non-zero exit.
 * @param {string} file
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string> }} [opts]
 * @returns {Promise<number>}
 */
export function runProgram(file, args, { cwd, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let err = '';
    child.stdout.on('data', (b) => (bytes += b.length));
    child.stderr.on('data', (b) => (err += b.toString().slice(0, 500)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(bytes) : reject(new Error(`${path.basename(file)} exited ${code}: ${err}`))));
  });
}

export const fmt = (ms) => (ms === undefined ? '–' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

/** A markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
