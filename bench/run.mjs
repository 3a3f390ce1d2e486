// `npm run bench`: the whole benchmark in one command, written to BENCHMARKS.md.
// 1. Installs the peer servers once (bench/peers.mjs) and runs the comparison (bench/compare.mjs):
//    agentbox, server-filesystem, Desktop Commander and raw baselines, case by case.
// 2. Runs the detailed benchmarks (bench/*.bench.mjs), each a standalone script printing a section.
// 3. Writes BENCHMARKS.md: the machine, versions, date, a summary with each agentbox figure as a
//    ratio to the best peer and to the raw floor, the targets, every figure, then the sections.
// `node bench/run.mjs read grep` runs only the matching cases and benchmarks and prints the report
// instead of writing BENCHMARKS.md. BENCH_SCALE=2 doubles the rounds; BENCH_STRACE=0 skips the
// traced pass that counts programs run per call.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runComparison } from './compare.mjs';
import { fmt, ROOT, table } from './lib.mjs';
import { installPeers } from './peers.mjs';
import { SERVERS } from './servers.mjs';

const only = process.argv.slice(2);
const log = (m) => process.stderr.write(`${m}\n`);
const started = new Date();
const loadBefore = os.loadavg();
const peerVersions = installPeers(log);
const results = await runComparison({ only: only.length ? only : undefined, log });

const sections = [];
for (const file of readdirSync(path.join(ROOT, 'bench')).filter((f) => f.endsWith('.bench.mjs')).sort()) {
  if (only.length && !only.some((o) => file.includes(o))) continue;
  log(`bench: ${file}`);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bench', file)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  sections.push(r.status === 0 ? r.stdout.trim() : `## ${file}\n\nfailed (exit ${r.status}):\n\n\`\`\`\n${(r.stdout ?? '').slice(-2000)}\n\`\`\``);
}
const loadAfter = os.loadavg();

// ---- the report --------------------------------------------------------------------------------
const rows = results.rows;
const byCase = new Map();
for (const r of rows) (byCase.get(r.case) ?? byCase.set(r.case, []).get(r.case)).push(r);
const ratio = (a, b) => (a === undefined || b === undefined ? '–' : `${(a / b).toFixed(2)}x`);
const cell = (r) => (r ? `${fmt(r.p50)} (${r.name})` : '–');

const summary = [];
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

const programsOf = (id, server) => {
  const e = results.execs?.[id]?.[server];
  if (!e) return '–';
  if (e.perCall === 0) return 'none';
  return Object.entries(e.programs)
    .map(([p, n]) => `${p}${n === 1 ? '' : ` ×${Number(n.toFixed(1))}`}`)
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

// ---- targets -----------------------------------------------------------------------------------
const targets = [];
const verdict = (ok, text) => targets.push(`- ${ok === undefined ? 'not measured' : ok ? '**met**' : '**NOT met**'}: ${text}`);
{
  const f = facts['read-4k'];
  const fs = f?.list.find((r) => r.server === 'filesystem');
  verdict(f?.ab && fs ? f.ab.p50 <= fs.p50 : undefined, `read_file p50 at most server-filesystem's: ${fmt(f?.ab?.p50)} ms vs ${fmt(fs?.p50)} ms (${ratio(f?.ab?.p50, fs?.p50)}).`);
}
{
  const f = facts['exec-true'];
  const bw = f?.list.find((r) => r.kind === 'raw' && r.name.includes('bwrap'));
  verdict(f?.ab && bw ? f.ab.p50 <= 1.3 * bw.p50 : undefined, `sandboxed exec \`true\` within 1.3x of a raw bwrap spawn: ${fmt(f?.ab?.p50)} ms vs ${fmt(bw?.p50)} ms (${ratio(f?.ab?.p50, bw?.p50)}).`);
}
{
  const f = facts.grep;
  verdict(
    f?.ab && f.floor ? f.ab.p50 <= 1.1 * f.floor.p50 + 5 : undefined,
    `grep within 1.1x of raw rg + 5 ms, complete in one call: ${fmt(f?.ab?.p50)} ms vs ${fmt(f?.floor?.p50)} ms (limit ${fmt(f?.floor ? 1.1 * f.floor.p50 + 5 : undefined)} ms); agentbox answers in one call, Desktop Commander needs start_search plus get_more_search_results until it reports COMPLETED.`,
  );
}
{
  const f = facts.start;
  verdict(f?.ab ? f.ab.p50 < 200 : undefined, `start to initialize under 200 ms: ${fmt(f?.ab?.p50)} ms p50 (server-filesystem ${fmt(f?.list.find((r) => r.server === 'filesystem')?.p50)} ms, \`node -e 0\` ${fmt(f?.floor?.p50)} ms).`);
}
{
  const big = facts['exec-50mb']?.ab?.rssMiB;
  const small = facts['exec-true']?.ab?.rssMiB;
  verdict(
    big !== undefined && small !== undefined ? big - small < 32 : undefined,
    `server memory flat under large output (peak RSS while a command prints 50 MB within 32 MiB of the peak while it runs \`true\`): ${big?.toFixed(0) ?? '–'} MiB vs ${small?.toFixed(0) ?? '–'} MiB; Desktop Commander ${facts['exec-50mb']?.list.find((r) => r.server === 'dc')?.rssMiB?.toFixed(0) ?? '–'} MiB.`,
  );
}
{
  const e = results.execs;
  if (!e) verdict(undefined, 'no per-call subprocess probes (strace not installed: programs per call not counted).');
  else {
    const plain = ['read-4k', 'head-9mb', 'list-dir', 'patch'].every((id) => e[id]?.agentbox?.perCall === 0);
    const search = ['glob', 'grep'].every((id) => Object.keys(e[id]?.agentbox?.programs ?? {}).join() === 'rg' && e[id].agentbox.perCall === 1);
    const git = e['git-status']?.agentbox;
    const all = ['read-4k', 'head-9mb', 'list-dir', 'patch', 'glob', 'grep', 'git-status', 'exec-true'].every((id) => e[id]?.agentbox);
    verdict(
      all ? plain && search && git?.perCall === 1 : undefined,
      `no per-call subprocess probes: read, list and patch run no program; glob and grep run exactly one \`rg\`; exec runs \`${programsOf('exec-true', 'agentbox')}\`; git_status runs ${git ? `${Number(git.perCall.toFixed(1))} \`git\`` : '–'} per call` +
        (git?.perCall > 1 ? ' (`git rev-parse` and `git config --get-regexp`, concurrently since this branch, before `git status`: the repository and its filter/signing config are checked on every call, see below)' : '') +
        '.',
    );
  }
}

// ---- machine and versions ----------------------------------------------------------------------
const sh = (cmd, args) => {
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
  `- Node ${process.version}; agentbox ${agentboxVersion} (${commit}${dirty}); ${SERVERS.filesystem.label} ${peerVersions.filesystem}; Desktop Commander ${peerVersions.desktopCommander}${results.skipped.includes('dc') ? ' (skipped: no `unshare -rn`)' : ''}`,
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

## Targets (issue 9), from this run

${targets.join('\n')}

## Every figure

Latency in ms; n = timed calls.

${table(['case', 'contender', 'p50', 'p90', 'p99', 'calls/s', 'peak RSS MiB', 'programs run per call', 'n; notes'], allRows)}

## Notes

- **Desktop Commander** builds its telemetry event for every tool call even with telemetry off, and that runs
  \`python3 --version\` synchronously (twice when a call logs two events): the "sh, python3" in its programs column,
  a few ms to ~100 ms per call depending on how python3 is installed. Its \`start_process\` runs commands unsandboxed, and it
  keeps a command's whole output in memory (the peak RSS of the 50 MB case).
- **server-filesystem** has no search, exec or git tool and no HTTP transport; \`search_files\` walks the tree in JS.
- **agentbox's git tools** run \`git rev-parse\` (where is the repository, is it inside the workspace) and
  \`git config --get-regexp '^(filter|gpg)\\.'\` (filter drivers and signing programs the repository's config would make git
  run) before each command. They are not cached because a config file can \`include\` a file in the workspace that a
  sandboxed command may change between two calls.
- **16 concurrent clients over HTTP**: only agentbox speaks HTTP; the floor is a bare \`node:http\` server that reads the
  same file per request (no MCP, no JSON-RPC, no path checks).

${sections.join('\n\n')}
`;

mkdirSync(path.join(ROOT, 'bench', '.work'), { recursive: true });
writeFileSync(path.join(ROOT, 'bench', '.work', `results-${started.toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(results, null, 2));
if (only.length) {
  process.stdout.write(report);
} else {
  writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), report);
  log(`bench: wrote BENCHMARKS.md (${Math.round((Date.now() - started.getTime()) / 1000)} s)`);
}
