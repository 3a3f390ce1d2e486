// Shared helpers for the benchmarks: timing with percentiles, a stdio MCP client for agentbox or
// any other server, peak RSS from /proc, and a markdown table. Benchmarks import dist/ (npm run
// bench builds first) and never assert: they report.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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
 * from its source with a JSDoc cast, `/** @type {typeof import('../src/x.js')} *\/`, so that
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

/** Connects an SDK client to a stdio server; returns { client, pid, call, close }. */
export async function connectStdioServer(command, args, { env = {}, cwd } = {}) {
  const transport = new StdioClientTransport({ command, args, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, cwd, stderr: 'pipe' });
  transport.stderr?.on('data', () => {});
  const client = new Client({ name: 'agentbox-bench', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  return {
    client,
    pid: transport.pid,
    call: (name, args = {}) => client.callTool({ name, arguments: args }),
    close: () => client.close(),
  };
}

/** Connects an SDK client to a Streamable HTTP server; returns { client, call, close }. */
export async function connectHttpServer(url) {
  const client = new Client({ name: 'agentbox-bench', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return { client, call: (name, args = {}) => client.callTool({ name, arguments: args }), close: () => client.close() };
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

/** Spawns a program, drains its output and resolves with the bytes it printed; rejects on a non-zero exit. */
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
