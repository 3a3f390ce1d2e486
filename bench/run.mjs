// `npm run bench`: the whole benchmark in one command, written to BENCHMARKS.md.
// 1. Installs the peer servers once (bench/peers.mjs) and runs the comparison (bench/compare.mjs):
//    agentbox, server-filesystem, Desktop Commander and raw baselines, case by case.
// 2. Runs the detailed benchmarks (bench/*.bench.mjs), each a standalone script printing a section.
// 3. Writes BENCHMARKS.md: the machine, versions, date, a summary with each agentbox figure as a
//    ratio to the best peer and to the raw floor, the targets, every figure, then the sections.
// `node bench/run.mjs read grep` runs only the matching cases and benchmarks and prints the report
// instead of writing BENCHMARKS.md. BENCH_SCALE=2 doubles the rounds; BENCH_STRACE=0 skips the
// traced pass that counts programs run per call. BENCH_SMOKE=1 is the smoke test's run
// (test/bench/smoke.test.ts): a tiny workspace, agentbox and the raw baselines only (no peers to
// install), one round, no detailed benchmarks; the report is printed, never written.
// The verdicts and the reasons for missed targets come from bench/targets.mjs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runComparison } from './compare.mjs';
import { fmt, ROOT, table } from './lib.mjs';
import { installPeers } from './peers.mjs';
import { SERVERS } from './servers.mjs';
import { CASE_NOTES, TARGETS } from './targets.mjs';

const only = process.argv.slice(2);
const SMOKE = process.env.BENCH_SMOKE === '1';
const log = (/** @type {string} */ m) => process.stderr.write(`${m}\n`);
const started = new Date();
const loadBefore = os.loadavg();
const peerVersions = SMOKE ? { filesystem: 'not run', desktopCommander: 'not run' } : installPeers(log);
const results = await runComparison({ only: only.length ? only : undefined, log, peers: !SMOKE });

/** @type {string[]} */
const sections = [];
for (const file of SMOKE ? [] : readdirSync(path.join(ROOT, 'bench')).filter((f) => f.endsWith('.bench.mjs')).sort()) {
  if (only.length && !only.some((o) => file.includes(o))) continue;
  log(`bench: ${file}`);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bench', file)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  sections.push(r.status === 0 ? r.stdout.trim() : `## ${file}\n\nfailed (exit ${r.status}):\n\n\`\`\`\n${(r.stdout ?? '').slice(-2000)}\n\`\`\``);
}
const loadAfter = os.loadavg();

// ---- the report --------------------------------------------------------------------------------
const rows = results.rows;
/** @type {Map<string, any[]>} */
const byCase = new Map();
for (const r of rows) (byCase.get(r.case) ?? byCase.set(r.case, []).get(r.case))?.push(r);
const ratio = (/** @type {number | undefined} */ a, /** @type {number | undefined} */ b) => (a === undefined || b === undefined ? '–' : `${(a / b).toFixed(2)}x`);
const cell = (/** @type {any} */ r) => (r ? `${fmt(r.p50)} (${r.name})` : '–');

/** @type {string[][]} */
const summary = [];
/** @type {Record<string, import('./targets.mjs').Facts>} */
const facts = {};
for (const [id, list] of byCase) {
  const ab = list.find((r) => r.kind === 'agentbox');
  const peers = list.filter((r) => r.kind === 'peer');
  const best = peers.sort((a, b) => a.p50 - b.p50)[0];
  const floor = list.find((r) => r.kind === 'raw');
  facts[id] = { ab, best, floor, list };
  summary.push([
    results.caseTitles[id] ?? id,
    ab ? fmt(ab.p50) : '–',
    cell(best),
    cell(floor),
    ratio(ab?.p50, best?.p50),
    ratio(ab?.p50, floor?.p50),
  ]);
}

const programsOf = (/** @type {string} */ id, /** @type {string} */ server) => {
  const e = results.execs?.[id]?.[server];
  if (!e) return '–';
  if (e.perCall === 0) return 'none';
  return Object.entries(e.programs)
    .map(([p, /** @type {number} */ n]) => `${p}${n === 1 ? '' : ` ×${Number(n.toFixed(1))}`}`)
    .join(', ');
};
const allRows = rows.map((r) => [
  results.caseTitles[r.case] ?? r.case,
  r.kind === 'raw' ? `*raw:* ${r.name}` : `**${r.name}**`,
  fmt(r.p50),
  fmt(r.p90),
  fmt(r.p99),
  r.callsPerSec ? r.callsPerSec.toFixed(r.callsPerSec < 10 ? 1 : 0) : '–',
  r.rssMiB === undefined ? '–' : r.rssMiB.toFixed(0),
  r.server ? programsOf(r.case, r.server) : '–',
  `${r.n}${r.mcpCalls ? `; ${r.mcpCalls} MCP calls per operation (median)` : ''}${r.note ? `; ${r.note}` : ''}`,
]);

// ---- targets: one verdict each, from this run's figures (bench/targets.mjs) ---------------------
const run = { facts, execs: results.execs, rss: results.rss };
const targets = TARGETS.map((t) => {
  const v = t.evaluate(run);
  const word = v.ok === undefined ? 'not measured' : v.ok ? '**met**' : '**NOT met**';
  return `- ${word}: ${t.title}. Measured: ${v.figures}.${v.ok === false && v.reason ? ` What stands in the way: ${v.reason}` : ''}`;
});
// Cases where agentbox is over 1.1x the best peer or over 2x the raw floor, with what that means.
const slower = [];
for (const [id, f] of Object.entries(facts)) {
  if (!f.ab) continue;
  const vsPeer = f.best ? f.ab.p50 / f.best.p50 : 0;
  const vsFloor = f.floor ? f.ab.p50 / f.floor.p50 : 0;
  if (vsPeer <= 1.1 && vsFloor <= 2) continue;
  const what = [vsPeer > 1.1 ? `${vsPeer.toFixed(2)}x ${f.best?.name}` : '', vsFloor > 2 ? `${vsFloor.toFixed(2)}x the floor (${f.floor?.name})` : ''].filter(Boolean).join(', ');
  slower.push(`- **${results.caseTitles[id] ?? id}** (${what}): ${CASE_NOTES[id]?.(f, run) ?? 'no note for this case.'}`);
}

// ---- machine and versions ----------------------------------------------------------------------
const sh = (/** @type {string} */ cmd, /** @type {string[]} */ args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout || r.stderr).trim().split('\n')[0] : 'not found';
};
const commit = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).stdout.trim() ? ' + uncommitted changes' : '';
const agentboxVersion = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
const cpu = os.cpus();
const machine = [
  `- ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${os.release()}`,
  `- load average (1 min) ${loadBefore[0].toFixed(2)} at the start, ${loadAfter[0].toFixed(2)} at the end: the machine is shared, so figures are noisy`,
  `- Node ${process.version}; agentbox ${agentboxVersion} (${commit}${dirty}); ${SERVERS.filesystem.label} ${peerVersions.filesystem}; Desktop Commander ${peerVersions.desktopCommander}${SMOKE ? ' (peers not run in the smoke mode)' : results.skipped.includes('dc') ? ' (skipped: no `unshare -rn`)' : ''}`,
  `- ${sh('rg', ['--version'])}; ${sh('git', ['--version'])}; bubblewrap ${sh('bwrap', ['--version']).replace('bubblewrap ', '')}`,
  `- workspace generated from typescript ${results.workspace.typescript}'s lib/typescript.js: ${results.workspace.files.toLocaleString('en')} files in a git repository`,
];

const report = `# Benchmarks

Written by \`npm run bench\` (bench/run.mjs) on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, in ${Math.round((Date.now() - started.getTime()) / 1000)} s. Run it again to compare on your machine.

${machine.join('\n')}

**How.** One run starts agentbox, [@modelcontextprotocol/server-filesystem](https://www.npmjs.com/package/@modelcontextprotocol/server-filesystem)
and [@wonderwhy-er/desktop-commander](https://www.npmjs.com/package/@wonderwhy-er/desktop-commander) over stdio with the same
MCP SDK client, the same environment (system PATH, a temporary HOME) and the same generated workspace, beside raw baselines
spawned from the same process. Each case runs a warm-up, then several rounds; in every round each contender runs a batch of
calls, in an order that rotates from round to round. Latency is one complete operation as a host sees it (for Desktop
Commander's search: start_search, then get_more_search_results until COMPLETED). calls/s = calls / time spent in them. Peak
RSS is the server process's VmHWM during the case (reset before it through /proc/PID/clear_refs). "Programs run per call"
comes from a separate short pass with strace attached to the server. Desktop Commander runs with telemetry off, its config
pre-seeded with the workspace as its only allowed directory, in its own network namespace (\`unshare -rn\`) so that its
feature-flag fetch and Chrome download cannot leave the machine.

## Summary

p50 in ms. The best peer is the fastest of the other servers on that case; the raw floor is the first raw baseline.

${table(['case', 'agentbox', 'best peer', 'raw floor', 'agentbox / best peer', 'agentbox / floor'], summary)}

## Targets, from this run

One verdict per target, computed from the figures above and below (bench/targets.mjs holds the targets and the reasons).

${targets.join('\n')}

## Slower than a peer or far from the floor

${slower.length ? slower.join('\n') : 'None in this run.'}

## Every figure

Latency in ms; n = timed calls.

${table(['case', 'contender', 'p50', 'p90', 'p99', 'calls/s', 'peak RSS MiB', 'programs run per call', 'n; notes'], allRows)}

## Notes

- **Desktop Commander** builds its telemetry event for every tool call even with telemetry off, and that runs
  \`python3 --version\` synchronously (twice when a call logs two events): the "sh, python3" in its programs column,
  a few ms to ~100 ms per call depending on how python3 is installed. Its \`start_process\` runs commands unsandboxed, and it
  keeps a command's whole output in memory (the peak RSS of the 50 MB case).
- **server-filesystem** has no search, exec or git tool and no HTTP transport; \`search_files\` walks the tree in JS. Desktop Commander
  serves stdio only too (its package has no Streamable HTTP transport), so the 16-client HTTP case compares agentbox with the HTTP floors.
- **Raw baselines** are spawned from the bench process (when the exec case started: ${results.rss.bench?.toFixed(0) ?? '–'} MiB RSS, ${results.rss.benchAnon?.toFixed(0) ?? '–'} MiB of it anonymous),
  except the one "from a process of agentbox's RSS" (bench/spawner.mjs), and the HTTP floors, which are servers of their own.
- The detailed benchmarks below are separate measurements (their own server, their own rounds); the verdicts above use only
  the comparison.

${sections.join('\n\n')}
`;

mkdirSync(path.join(ROOT, 'bench', '.work'), { recursive: true });
if (!SMOKE) writeFileSync(path.join(ROOT, 'bench', '.work', `results-${started.toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(results, null, 2));
if (only.length || SMOKE) {
  process.stdout.write(report);
} else {
  writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), report);
  log(`bench: wrote BENCHMARKS.md (${Math.round((Date.now() - started.getTime()) / 1000)} s)`);
}
