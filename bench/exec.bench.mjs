// exec_command "true" over stdio, beside the same work done by hand from Node in the same run:
// a raw bwrap spawn of `true` with agentbox's own sandbox options, the same with `bash -c true`
// (what exec_command actually runs inside the sandbox), and a plain unsandboxed spawn("true").
// The variants are interleaved round by round so that load from other processes hits them alike.
// The target (agentbox p50 within 1.3x of the raw bwrap spawn) is judged in the comparison
// (bench/targets.mjs); this section gives more rounds of the same measurement, without a verdict.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { atExit, connectAgentbox, fmt, stats, table } from './lib.mjs';
import { agentboxSandbox } from './sandbox.mjs';
import { benchEnv } from './servers.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const WARMUP = 20;

const ws = mkdtempSync(path.join(os.tmpdir(), 'agentbox-bench-ws-'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'agentbox-bench-tmp-'));
const cleanup = () => {
  rmSync(ws, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
};
atExit(cleanup); // on Ctrl-C too (the server is killed by connectAgentbox's own hook)
const env = benchEnv(tmp);
const sandbox = await agentboxSandbox({ ws, tmp, env, home: tmp });
const { bwrap, bash } = sandbox;

const run = (file, args) =>
  file === bwrap
    ? sandbox.run(args.slice(sandbox.args.length))
    : new Promise((resolve, reject) => {
        const child = spawn(file, args, { cwd: ws, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
        child.stdout.resume();
        child.stderr.resume();
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(0) : reject(new Error(`${file} exited ${code}`))));
      });
const sandboxArgs = sandbox.args;

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
/** @type {number[][]} */
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
cleanup();

const results = variants.map((v, i) => ({ ...v, s: stats(samples[i]) }));
const base = results.find((r) => r.baseline)?.s.p50 ?? NaN;
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
  `\nagentbox p50 is ${ratio.toFixed(2)}x the raw \`bwrap ... true\` spawn, ${sameWork.toFixed(2)}x the raw spawn of the same work ` +
    `(\`bwrap ... bash -c true\`), with a freshly started server (a smaller process than after the comparison's cases). ` +
    'The exec target\'s verdict is the one under Targets, from the comparison.\n',
);
