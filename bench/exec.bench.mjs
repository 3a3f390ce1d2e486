// exec_command "true" over stdio, beside the same work done by hand from Node in the same run:
// a raw bwrap spawn of `true` with agentbox's own sandbox options, the same with `bash -c true`
// (what exec_command actually runs inside the sandbox), and a plain unsandboxed spawn("true").
// The variants are interleaved round by round so that load from other processes hits them alike.
// Target: agentbox p50 within 1.3x of the raw bwrap spawn.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAgentbox, fmt, stats, table } from './lib.mjs';
import { buildBwrapArgs, buildPolicy, findHostPaths, findProtectedPaths, keyringSeccompFilter } from '../dist/sandbox/index.js';
import { which } from '../dist/util/which.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const WARMUP = 20;

const bwrap = which('bwrap');
const bash = which('bash');
if (!bwrap || !bash) {
  console.log('## exec_command latency\n\nskipped: bwrap or bash not found\n');
  process.exit(0);
}

const ws = mkdtempSync(path.join(os.tmpdir(), 'agentbox-bench-ws-'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'agentbox-bench-tmp-'));
const policy = buildPolicy({ mode: 'workspace-write', roots: [ws], tmpDir: tmp });
// The same options a command gets: mounts, hidden paths, /dev/shm size, and the seccomp program on fd 3.
const sandboxArgs = buildBwrapArgs({
  policy,
  protectedMounts: await findProtectedPaths(policy),
  host: await findHostPaths(policy, process.env),
  shmBytes: 8192 * 1024 * 1024,
  seccompFd: 3,
  cwd: ws,
  newSession: true,
});
const seccomp = keyringSeccompFilter();

const run = (file, args) =>
  new Promise((resolve, reject) => {
    const sandboxed = file === bwrap;
    const child = spawn(file, args, { cwd: ws, stdio: sandboxed ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'], detached: true });
    if (sandboxed) child.stdio[3].end(seccomp);
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${file} exited ${code}`))));
  });

const agentbox = await connectAgentbox(['--root', ws]);
const variants = [
  {
    name: 'agentbox exec_command "true" (stdio, sandboxed)',
    fn: async () => {
      const r = await agentbox.call('exec_command', { cmd: 'true' });
      if (r.isError || !r.content[0].text.startsWith('Process exited with code 0')) throw new Error(r.content[0].text);
    },
  },
  { name: 'raw bwrap ... true (spawn from Node)', fn: () => run(bwrap, [...sandboxArgs, 'true']), baseline: true },
  { name: 'raw bwrap ... bash -c true (spawn from Node)', fn: () => run(bwrap, [...sandboxArgs, bash, '-c', 'true']) },
  { name: 'plain spawn("true"), no sandbox', fn: () => run('true', []) },
];

for (let i = 0; i < WARMUP; i++) for (const v of variants) await v.fn();
const samples = variants.map(() => []);
for (let i = 0; i < ROUNDS; i++) {
  // Rotate the order each round so no variant always runs right after another.
  for (let k = 0; k < variants.length; k++) {
    const j = (i + k) % variants.length;
    const t0 = performance.now();
    await variants[j].fn();
    samples[j].push(performance.now() - t0);
  }
}
await agentbox.close();
rmSync(ws, { recursive: true, force: true });
rmSync(tmp, { recursive: true, force: true });

const results = variants.map((v, i) => ({ ...v, s: stats(samples[i]) }));
const base = results.find((r) => r.baseline).s.p50;
const load = os.loadavg()[0].toFixed(2);
console.log(`## exec_command latency (${ROUNDS} rounds, interleaved; ms; load average ${load} on ${os.cpus().length} CPUs)\n`);
console.log(
  table(
    ['what', 'p50', 'p90', 'p99', 'p50 / raw bwrap true'],
    results.map((r) => [r.name, fmt(r.s.p50), fmt(r.s.p90), fmt(r.s.p99), `${(r.s.p50 / base).toFixed(2)}x`]),
  ),
);
const ratio = results[0].s.p50 / base;
const sameWork = results[0].s.p50 / results[2].s.p50;
console.log(
  `\nagentbox p50 is ${ratio.toFixed(2)}x the raw \`bwrap ... true\` spawn (target: within 1.3x: ${ratio <= 1.3 ? 'met' : 'NOT met'}), ` +
    `${sameWork.toFixed(2)}x the raw spawn of the same work (\`bwrap ... bash -c true\`).\n`,
);
