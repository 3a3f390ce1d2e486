// The "raw bwrap from a process of agentbox's size" baseline of the exec cases. Spawning costs
// more from a bigger parent: libuv forks, and fork copies the parent's page tables, so a spawn
// from a server holding ~100 MiB takes longer than one from a small process. This child first
// grows its resident memory to the size given (touched buffers), then runs sandboxed commands on
// request, spawned from itself with bench/sandbox.mjs's runSandboxed: the same work as the plain
// raw bwrap baseline, from a parent as big as agentbox's server.
//
// Protocol (newline-delimited JSON): the first line on stdin is the setup
// { mib, bwrap, args, seccomp (base64), cwd, env }; the child answers {"ready": rssMiB}. Then
// each line is a command (a string array); the answer is {"ok": true} or {"error": "…"}.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runSandboxed } from './sandbox.mjs';

const rssMiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
/** @type {Buffer[]} kept alive so that the memory stays resident */
const ballast = [];
/** @type {{ mib: number, bwrap: string, args: string[], seccomp: string, cwd: string, env: Record<string, string> } | undefined} */
let setup;
let seccomp = Buffer.alloc(0);
const out = (/** @type {unknown} */ v) => process.stdout.write(`${JSON.stringify(v)}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (!setup) {
    const s = (setup = JSON.parse(line));
    seccomp = Buffer.from(s.seccomp, 'base64');
    // 8 MiB at a time, written so that every page is resident (not just reserved).
    while (rssMiB() < s.mib) ballast.push(Buffer.allocUnsafe(8 << 20).fill(1));
    out({ ready: rssMiB() });
    continue;
  }
  const command = JSON.parse(line);
  try {
    await runSandboxed(setup.bwrap, [...setup.args, ...command], seccomp, { cwd: setup.cwd, env: setup.env });
    out({ ok: true });
  } catch (e) {
    out({ error: String(e) });
  }
}
