// The "raw bwrap from a process of agentbox's size" baseline of the exec cases. Spawning costs
// more from a bigger parent: libuv forks, and fork copies the page tables of the parent's
// anonymous memory (file-backed pages such as Node's code are shared), so a spawn from a server
// holding ~60 MiB of heap takes longer than one from a small process. This child first grows its
// anonymous memory (RssAnon) to the size given (touched buffers), then runs sandboxed commands on
// request, spawned from itself with bench/sandbox.mjs's runSandboxed: the same work as the plain
// raw bwrap baseline, from a parent as big as agentbox's server.
//
// Protocol (newline-delimited JSON): the first line on stdin is the setup
// { mib, bwrap, args, seccomp (base64), cwd, env }; the child answers {"ready": rssMiB}. Then
// each line is a command (a string array); the answer is {"ok": true} or {"error": "…"}.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runSandboxed } from './sandbox.mjs';

const statusMiB = (/** @type {string} */ field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
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
    while (statusMiB('RssAnon') < s.mib) ballast.push(Buffer.allocUnsafe(4 << 20).fill(1));
    out({ ready: statusMiB('VmRSS'), anon: statusMiB('RssAnon') });
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
