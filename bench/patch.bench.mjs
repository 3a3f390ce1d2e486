// apply_patch on a large change: a 500-chunk Codex patch against a 20,000-line file, through
// agentbox over stdio (the whole tool call: JSON-RPC, parse, locate, write, diff for the result),
// in-process through the core alone, and `git apply` of the equivalent unified diff (a process
// spawn per run), all in the same run on the same file. Before each timed run the file is reset.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { atExit, connectAgentbox, fmt, peakRssMiB, stats, table, ROOT } from './lib.mjs';

const LINES = 20_000;
const CHUNKS = 500;
const CONTEXT = 3;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const WARMUP = 3;

const dir = mkdtempSync(path.join(os.tmpdir(), 'agentbox-bench-patch-'));
atExit(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'big.txt');

// A file of distinct lines, and every 40th line changed.
const lines = Array.from({ length: LINES }, (_, i) => `line ${i + 1}: value = ${(i * 7919) % 10007}; // ${'x'.repeat(i % 17)}`);
const original = `${lines.join('\n')}\n`;
const step = Math.floor(LINES / CHUNKS);
const sites = Array.from({ length: CHUNKS }, (_, k) => k * step + Math.floor(step / 2));
const changed = [...lines];
for (const s of sites) changed[s] = `${lines[s]} // changed`;
const expected = `${changed.join('\n')}\n`;

const codex = ['*** Begin Patch', '*** Update File: big.txt'];
const unified = ['--- a/big.txt', '+++ b/big.txt'];
for (const s of sites) {
  const before = lines.slice(s - CONTEXT, s);
  const after = lines.slice(s + 1, s + 1 + CONTEXT);
  codex.push('@@', ...before.map((l) => ` ${l}`), `-${lines[s]}`, `+${changed[s]}`, ...after.map((l) => ` ${l}`));
  const n = 2 * CONTEXT + 1;
  unified.push(`@@ -${s - CONTEXT + 1},${n} +${s - CONTEXT + 1},${n} @@`, ...before.map((l) => ` ${l}`), `-${lines[s]}`, `+${changed[s]}`, ...after.map((l) => ` ${l}`));
}
codex.push('*** End Patch');
const codexPatch = `${codex.join('\n')}\n`;
writeFileSync(path.join(dir, 'big.diff'), `${unified.join('\n')}\n`);

const reset = () => writeFileSync(file, original);
const check = (who) => {
  if (readFileSync(file, 'utf8') !== expected) throw new Error(`${who} did not produce the expected file`);
};

async function time(name, run) {
  for (let i = 0; i < WARMUP; i++) {
    reset();
    await run();
  }
  const samples = [];
  const start = performance.now();
  let wallExcluded = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const r0 = performance.now();
    reset();
    wallExcluded += performance.now() - r0;
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
    check(name);
  }
  return stats(samples, performance.now() - start - wallExcluded);
}

/** @type {Array<[string, ReturnType<typeof import('./lib.mjs').stats>, number | undefined]>} */
const rows = [];
try {
  // 1. agentbox over stdio: the full tool call a host makes.
  const server = await connectAgentbox(['--root', dir]);
  const viaServer = await time('agentbox apply_patch', async () => {
    const r = await server.call('apply_patch', { patch: codexPatch });
    if (r.isError) throw new Error(r.content[0].text);
  });
  const rss = peakRssMiB(server.pid);
  await server.close();
  rows.push(['agentbox `apply_patch` (stdio, full tool call)', viaServer, rss]);

  // 2. The same engine in-process, without the protocol.
  const { applyPatch } = await import(path.join(ROOT, 'dist', 'patch', 'index.js'));
  const { buildPolicy, resolveForWrite, resolveEntryForWrite } = await import(path.join(ROOT, 'dist', 'sandbox', 'index.js'));
  const { FileLocks } = await import(path.join(ROOT, 'dist', 'fs', 'index.js'));
  const policy = buildPolicy({ mode: 'workspace-write', roots: [dir], tmpDir: path.join(dir, '.unused-private-tmp') });
  const env = {
    resolve: (p) => resolveForWrite(policy, p),
    resolveEntry: (p) => resolveEntryForWrite(policy, p),
    show: (p) => path.relative(dir, p),
    locks: new FileLocks(),
  };
  const inProcess = await time('agentbox core', async () => {
    const r = await applyPatch(codexPatch, env);
    if (!r.ok) throw new Error(r.error.message);
  });
  rows.push(['agentbox core `applyPatch` (in-process)', inProcess, undefined]);

  // 3. git apply of the equivalent unified diff.
  const git = spawnSync('git', ['--version'], { encoding: 'utf8' });
  if (git.status === 0) {
    const viaGit = await time('git apply', async () => {
      const r = spawnSync('git', ['apply', 'big.diff'], { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`git apply failed: ${r.stderr}`);
    });
    rows.push([`\`git apply\` (${git.stdout.trim().replace('git version ', 'git ')}, process per run)`, viaGit, undefined]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`## apply_patch: ${CHUNKS} chunks on a ${LINES.toLocaleString('en')}-line file\n`);
console.log(`Patch ${(codexPatch.length / 1024).toFixed(0)} KiB (Codex format) / equivalent unified diff; ${ROUNDS} timed runs after ${WARMUP} warm-up runs, file reset before each.\n`);
console.log(
  table(
    ['what', 'p50 ms', 'p90 ms', 'mean ms', 'peak RSS MiB'],
    rows.map(([name, s, rss]) => [name, fmt(s.p50), fmt(s.p90), fmt(s.mean), rss === undefined ? '–' : rss.toFixed(0)]),
  ),
);
console.log('');
