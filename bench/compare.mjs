// The comparison at the heart of `npm run bench`: agentbox, @modelcontextprotocol/server-filesystem
// and @wonderwhy-er/desktop-commander, started in the same run with the same client on the same
// generated workspace (bench/workspace.mjs), beside raw baselines (cat, head, ls, rg, git, a plain
// spawn, a raw bwrap spawn with agentbox's own sandbox arguments). Rounds are interleaved: in each
// round every contender runs its batch of calls, in an order that rotates from round to round, so
// load from other processes on this shared machine hits all of them alike.
//
// Per case and contender: p50/p90/p99 latency of one complete operation, calls/s over the batches,
// and the server's peak RSS during the case (VmHWM, reset before each case through
// /proc/PID/clear_refs). Afterwards, when strace is installed, a short traced pass counts the
// programs each server executes per call. Returns the results; bench/run.mjs writes the report.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { atExit, connectHttpServer, killPid, peakRssMiB, removeOnExit, resetPeakRss, ROOT, runProgram, stats } from './lib.mjs';
import { agentboxSandbox } from './sandbox.mjs';
import { benchEnv, canUnshareNet, SERVERS, startAgentboxHttp, startSdkHttp, startServer } from './servers.mjs';
import { GLOB_PATTERN, GREP_WORD, PATCH_HUNKS, createWorkspace } from './workspace.mjs';

const SCALE = Number(process.env.BENCH_SCALE ?? 1); // multiplies the number of rounds
/**
 * The smoke run (test/bench/smoke.test.ts, BENCH_SMOKE=1): a 300-file tree, agentbox alone (no peer
 * servers), one round of at most two calls per contender, no strace pass. It checks that every
 * case runs and yields rows, never how fast.
 */
const SMOKE = process.env.BENCH_SMOKE === '1';
/**
 * A process's current memory in MiB from /proc/PID/status: VmRSS (all resident) or RssAnon (its
 * anonymous memory: heap, stacks; the part whose page tables fork copies), or undefined.
 */
const statusMiB = (/** @type {number | string} */ pid, field = 'VmRSS') => {
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
};
const rssNowMiB = (/** @type {number | string} */ pid) => statusMiB(pid, 'VmRSS');
const anonMiB = (/** @type {number | string} */ pid) => statusMiB(pid, 'RssAnon');
const BIG_OUTPUT = 50_000_000;
/** Ten times the large-output case, printed once after it: memory that followed the output would show here. */
const HUGE_OUTPUT = 500_000_000;
const BIG_CMD = `yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ | head -c ${BIG_OUTPUT}`;
const HTTP_CLIENTS = 16;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const textOf = (/** @type {any} */ r) => (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
/** Throws unless the tool result is a success whose text passes `test` (a regexp or a predicate). */
/**
 * @param {string} who
 * @param {any} r
 * @param {RegExp | ((text: string) => boolean)} [test]
 */
function expectOk(who, r, test) {
  const text = textOf(r);
  if (r.isError) throw new Error(`${who}: tool error: ${text.slice(0, 300)}`);
  const okText = typeof test === 'function' ? test(text) : test ? test.test(text) : true;
  if (!okText) throw new Error(`${who}: unexpected result: ${text.slice(0, 300)}`);
  return text;
}

/**
 * Desktop Commander running a command to completion: start_process returns when the command ends
 * or when it decides the output has settled, so under load it may answer before the command
 * printed anything; then read_process_output follows until the expected output is there.
 * Returns the number of MCP calls made.
 * @param {any} dc
 * @param {string} command
 * @param {RegExp} want
 */
async function dcRun(dc, command, want) {
  const started = await dc.call('start_process', { command, timeout_ms: 30_000 });
  let text = expectOk('DC start_process', started, /PID \d+/);
  const pid = Number(/PID (\d+)/.exec(text)?.[1]);
  let calls = 1;
  let seen = text;
  while (!want.test(seen)) {
    if (calls > 50) throw new Error(`DC: ${command}: no expected output after ${calls} calls: ${seen.slice(0, 300)}`);
    const more = await dc.call('read_process_output', { pid, timeout_ms: 5_000 });
    calls++;
    text = expectOk('DC read_process_output', more);
    seen += text;
  }
  return calls;
}

/** Desktop Commander's search: start_search, then get_more_search_results until COMPLETED. */
async function dcSearch(/** @type {any} */ dc, /** @type {Record<string, unknown>} */ args, /** @type {number | undefined} */ expectCount) {
  const started = await dc.call('start_search', args);
  const text = expectOk('DC start_search', started, /session: \S+/);
  const id = /session: (\S+)/.exec(text)?.[1];
  let calls = 1;
  for (;;) {
    const more = await dc.call('get_more_search_results', { sessionId: id, offset: 0, length: 100_000 });
    calls++;
    const t = expectOk('DC get_more_search_results', more);
    if (/Status: COMPLETED/.test(t)) {
      const n = Number(/Total results found: (\d+)/.exec(t)?.[1] ?? -1);
      if (expectCount !== undefined && n !== expectCount) throw new Error(`DC search found ${n}, want ${expectCount}`);
      return calls;
    }
    await sleep(5);
  }
}

/**
 * The cases, each with its contenders: server calls (by server key) and raw baselines (`id` names
 * the ones the targets of bench/targets.mjs refer to).
 * @param {ReturnType<typeof createWorkspace>} w
 * @param {Record<string, string>} env
 * @param {import('./sandbox.mjs').Sandbox | undefined} sandbox
 * @param {{ current?: { run: (command: string[]) => Promise<void>, mib: number, anon: number } } | undefined} bigSpawner set
 *   (bench/spawner.mjs) just before the exec case runs, when the server has its size of that time
 * @returns {any[]}
 */
function defineCases(w, env, sandbox, bigSpawner) {
  const rel = (/** @type {string} */ p) => path.relative(w.ws, p);
  const raw = (/** @type {string} */ file, /** @type {string[]} */ args, opts = {}) => async () => void (await runProgram(file, args, { cwd: w.ws, env, ...opts }));
  const sb = /** @type {import('./sandbox.mjs').Sandbox} */ (sandbox);
  /** The tree's size as titles give it: "10k-file" (the smoke run's is smaller). */
  const tree = `${w.files >= 1000 ? `${(w.files / 1000).toFixed(0)}k` : w.files}-file`;
  const nodeBin = process.execPath;
  /**
   * An edit case's call for one server: each server edits its own copy of small.txt, and each call
   * flips one line between two spellings, so every call changes the file.
   * @param {string} who
   * @param {(s: any, file: string, from: string, to: string) => Promise<any>} call
   */
  const toggleEdit = (who, call) => {
    let flipped = false;
    return async (/** @type {any} */ s) => {
      const [from, to] = flipped ? ['line 050: THE quick', 'line 050: the quick'] : ['line 050: the quick', 'line 050: THE quick'];
      expectOk(who, await call(s, w.editCopy(who), from, to));
      flipped = !flipped;
    };
  };
  return [
    {
      id: 'read-4k',
      title: 'read a 4 KB file',
      rounds: 6,
      batch: 40,
      servers: {
        agentbox: (/** @type {any} */ s) => s.call('read_file', { path: rel(w.small) }).then((r) => expectOk('agentbox', r, /line 001/)),
        filesystem: (/** @type {any} */ s) => s.call('read_text_file', { path: w.small }).then((r) => expectOk('filesystem', r, /line 001/)),
        dc: (/** @type {any} */ s) => s.call('read_file', { path: w.small }).then((r) => expectOk('dc', r, /line 001/)),
      },
      raw: [{ name: '`cat small.txt`', fn: raw('cat', [w.small]) }],
    },
    {
      id: 'write-4k',
      title: 'write a 4 KB file (replace it)',
      rounds: 6,
      batch: 20,
      servers: {
        agentbox: (/** @type {any} */ s) => s.call('write_file', { path: 'written-agentbox.txt', content: w.smallText }).then((r) => expectOk('agentbox', r)),
        baseline: (/** @type {any} */ s) => s.call('write_file', { path: 'written-baseline.txt', content: w.smallText }).then((r) => expectOk('baseline', r)),
        filesystem: (/** @type {any} */ s) => s.call('write_file', { path: path.join(w.ws, 'written-filesystem.txt'), content: w.smallText }).then((r) => expectOk('filesystem', r)),
        dc: (/** @type {any} */ s) => s.call('write_file', { path: path.join(w.ws, 'written-dc.txt'), content: w.smallText, mode: 'rewrite' }).then((r) => expectOk('dc', r)),
      },
      raw: [{ name: '`cp small.txt` (one process)', fn: raw('cp', [w.small, path.join(w.ws, 'written-raw.txt')]) }],
    },
    {
      id: 'edit-1',
      title: 'edit one line of a 4 KB file',
      rounds: 6,
      batch: 20,
      servers: {
        agentbox: toggleEdit('agentbox', (s, file, from, to) => s.call('edit_file', { path: path.relative(w.ws, file), old_string: from, new_string: to })),
        baseline: toggleEdit('baseline', (s, file, from, to) => s.call('edit_file', { path: path.relative(w.ws, file), old_string: from, new_string: to })),
        filesystem: toggleEdit('filesystem', (s, file, from, to) => s.call('edit_file', { path: file, edits: [{ oldText: from, newText: to }] })),
        dc: toggleEdit('dc', (s, file, from, to) => s.call('edit_block', { file_path: file, old_string: from, new_string: to })),
      },
      notes: { filesystem: 'one `edit_file` call with one edit', dc: 'one `edit_block` call' },
      raw: [{ name: '`sed -i` (one process)', fn: raw('sed', ['-i', 's/line 050/line 050/', w.small]) }],
    },
    {
      id: 'head-9mb',
      title: 'first 100 lines of a 9 MB file',
      rounds: 6,
      batch: 20,
      servers: {
        agentbox: (/** @type {any} */ s) => s.call('read_file', { path: rel(w.big), limit: 100 }).then((r) => expectOk('agentbox', r)),
        filesystem: (/** @type {any} */ s) => s.call('read_text_file', { path: w.big, head: 100 }).then((r) => expectOk('filesystem', r)),
        dc: (/** @type {any} */ s) => s.call('read_file', { path: w.big, offset: 0, length: 100 }).then((r) => expectOk('dc', r)),
      },
      raw: [{ name: '`head -n 100 big.js`', fn: raw('head', ['-n', '100', w.big]) }],
    },
    {
      id: 'list-dir',
      title: 'list a directory (100 files)',
      rounds: 6,
      batch: 20,
      servers: {
        agentbox: (/** @type {any} */ s) => s.call('list_dir', { path: w.listDirRel }).then((r) => expectOk('agentbox', r, new RegExp(w.listLast))),
        filesystem: (/** @type {any} */ s) => s.call('list_directory', { path: w.listDir }).then((r) => expectOk('filesystem', r, new RegExp(w.listLast))),
        'filesystem:sizes': (/** @type {any} */ s) =>
          s.call('list_directory_with_sizes', { path: w.listDir }).then((r) => expectOk('filesystem', r, new RegExp(w.listLast))),
        dc: (/** @type {any} */ s) => s.call('list_directory', { path: w.listDir, depth: 1 }).then((r) => expectOk('dc', r, new RegExp(w.listLast))),
      },
      notes: {
        agentbox: 'names, types and sizes',
        filesystem: '`list_directory`: names and types only',
        'filesystem:sizes': '`list_directory_with_sizes`: names, types and sizes',
      },
      raw: [{ name: '`ls -l`', fn: raw('ls', ['-l', w.listDir]) }],
    },
    {
      id: 'glob',
      title: `glob \`${GLOB_PATTERN}\` over the ${tree} tree (${w.globHits} hits)`,
      rounds: 5,
      batch: 3,
      servers: {
        agentbox: (/** @type {any} */ s) => s.call('glob', { pattern: GLOB_PATTERN, path: 'tree' }).then((r) => expectOk('agentbox', r, new RegExp(`^${w.globHits} files? match`))),
        filesystem: (/** @type {any} */ s) =>
          s.call('search_files', { path: w.tree, pattern: GLOB_PATTERN }).then((r) => expectOk('filesystem', r, (t) => t.trim().split('\n').length === w.globHits)),
        dc: (/** @type {any} */ s) => dcSearch(s, { path: w.tree, pattern: GLOB_PATTERN, searchType: 'files', ignoreCase: false }, w.globHits),
      },
      raw: [{ name: '`rg --files -g`', fn: raw('rg', ['--files', '-g', GLOB_PATTERN, w.tree]) }],
    },
    {
      id: 'grep',
      title: `grep \`${GREP_WORD}\` over the ${tree} tree, to completion`,
      rounds: 15, // 45 calls per contender: a stable p50 (the target compares it with rg's within 10%)
      batch: 3,
      servers: {
        agentbox: (/** @type {any} */ s) => s.call('grep', { pattern: GREP_WORD, path: 'tree' }).then((r) => expectOk('agentbox', r, new RegExp(`^${w.grepLines} match(es)? in`))),
        dc: (/** @type {any} */ s) => dcSearch(s, { path: w.tree, pattern: GREP_WORD, searchType: 'content', contextLines: 0, ignoreCase: false }, w.grepLines),
      },
      raw: [{ name: '`rg -n`', fn: raw('rg', ['-n', GREP_WORD, w.tree]) }],
    },
    {
      id: 'exec-true',
      title: 'exec `true`',
      rounds: 6,
      batch: 20,
      servers: {
        agentbox: (/** @type {any} */ s) => s.call('exec_command', { cmd: 'true' }).then((r) => expectOk('agentbox', r, /^Process exited with code 0/)),
        dc: (/** @type {any} */ s) => s.call('start_process', { command: 'true', timeout_ms: 10_000 }).then((r) => expectOk('dc', r, /Process started/)),
      },
      raw: [
        { id: 'bwrap', name: 'raw `bwrap … true` (agentbox\'s sandbox args)', fn: async () => void (await sb.run(['true'])) },
        ...(bigSpawner
          ? [
              {
                id: 'bwrap-rss',
                get name() {
                  return `raw \`bwrap … true\` from a process of agentbox's size (${bigSpawner.current?.anon.toFixed(0)} MiB anonymous, ${bigSpawner.current?.mib.toFixed(0)} MiB RSS)`;
                },
                fn: () => /** @type {NonNullable<typeof bigSpawner.current>} */ (bigSpawner.current).run(['true']),
                note: "bench/spawner.mjs: the same spawn from a child grown to the server's anonymous memory; timed from the bench, pipe round trip included",
              },
            ]
          : []),
        { name: 'plain spawn `true`', fn: raw('true', []) },
      ],
    },
    {
      id: 'exec-50mb',
      title: 'exec a command printing 50 MB',
      rounds: 4,
      batch: 2,
      servers: {
        agentbox: (/** @type {any} */ s) => s.call('exec_command', { cmd: BIG_CMD }).then((r) => expectOk('agentbox', r, /^Process exited with code 0/)),
        dc: (/** @type {any} */ s) => s.call('start_process', { command: BIG_CMD, timeout_ms: 120_000 }).then((r) => expectOk('dc', r, /Process started/)),
      },
      raw: [
        { name: 'raw `bwrap … bash -c` (output drained)', fn: async () => void (await sb.run([sb.bash, '-c', BIG_CMD])) },
        { name: 'plain spawn `bash -c` (output drained)', fn: raw('bash', ['-c', BIG_CMD]) },
      ],
    },
    {
      id: 'patch',
      title: `apply a ${PATCH_HUNKS}-hunk patch to a 2,000-line file`,
      rounds: 5,
      batch: 3,
      warmup: 2, // Desktop Commander needs 50 calls per patch
      before: () => w.resetPatchTarget(),
      after: (who) => w.checkPatched(who),
      servers: {
        agentbox: (/** @type {any} */ s) => s.call('apply_patch', { patch: w.patch.codex }).then((r) => expectOk('agentbox', r, /^Success/)),
        filesystem: (/** @type {any} */ s) => s.call('edit_file', { path: w.patch.target, edits: w.patch.edits }).then((r) => expectOk('filesystem', r)),
        dc: async (/** @type {any} */ s) => {
          for (const e of w.patch.edits) {
            const r = await s.call('edit_block', { file_path: w.patch.target, old_string: e.oldText, new_string: e.newText });
            expectOk('dc', r, /^\[Reading \d+ lines/);
          }
        },
      },
      notes: { filesystem: 'one `edit_file` call with 50 edits', dc: `${PATCH_HUNKS} \`edit_block\` calls (one replacement per call)` },
      raw: [{ name: '`git apply` (unified diff)', fn: raw('git', ['apply', w.patch.unifiedPath]) }],
    },
    {
      id: 'git-status',
      title: `git_status on a ${tree} repository`,
      rounds: 5,
      batch: 6,
      servers: {
        agentbox: (/** @type {any} */ s) => s.call('git_status', {}).then((r) => expectOk('agentbox', r, /new_a\.ts/)),
        dc: (/** @type {any} */ s) => dcRun(s, 'git status --porcelain=v2 --branch', /new_a\.ts/),
      },
      notes: { dc: '`start_process "git status --porcelain=v2 --branch"` (no git tool), then read_process_output if it returned early' },
      raw: [{ name: '`git status --porcelain=v2 --branch`', fn: raw('git', ['status', '--porcelain=v2', '--branch']) }],
    },
    {
      id: 'start',
      title: 'server start to initialize (spawn + initialize round trip)',
      rounds: 12,
      batch: 1,
      fresh: true, // each call starts (and then closes) its own server
      raw: [{ name: '`node -e 0` (Node start and exit)', fn: raw(nodeBin, ['-e', '0']) }],
    },
  ];
}

/**
 * Runs one case: interleaved rounds of batches; returns rows with stats.
 * @param {any} c
 * @param {any[]} contenders
 */
async function runCase(c, contenders) {
  const batch = SMOKE ? Math.min(c.batch, 2) : c.batch;
  /** @type {Map<string, number[]>} */
  const samples = new Map(contenders.map((k) => [k.name, []]));
  /** @type {Map<string, number>} */
  const busy = new Map(contenders.map((k) => [k.name, 0]));
  // Operations that take several MCP calls (Desktop Commander's search) return how many they made.
  /** @type {Map<string, number[]>} */
  const mcpCalls = new Map(contenders.map((k) => [k.name, []]));
  for (const k of contenders) {
    if (k.pid) resetPeakRss(k.pid);
    // Warm-up (untimed): one batch-sized run, at least two calls.
    const warmup = SMOKE ? 1 : (c.warmup ?? Math.max(2, Math.min(batch, 5)));
    for (let i = 0; i < warmup; i++) {
      c.before?.();
      await k.fn();
      c.after?.(k.name);
    }
  }
  const rounds = SMOKE ? 1 : Math.max(2, Math.round(c.rounds * SCALE));
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < contenders.length; j++) {
      const k = contenders[(round + j) % contenders.length];
      for (let i = 0; i < batch; i++) {
        c.before?.();
        const t0 = performance.now();
        const ret = await k.fn();
        const dt = performance.now() - t0;
        samples.get(k.name)?.push(dt);
        if (typeof ret === 'number') mcpCalls.get(k.name)?.push(ret);
        busy.set(k.name, (busy.get(k.name) ?? 0) + dt);
        c.after?.(k.name);
      }
    }
  }
  return contenders.map((k) => {
    const calls = [...(mcpCalls.get(k.name) ?? [])].sort((a, b) => a - b);
    return {
      ...resultRow(c.id, k, samples.get(k.name) ?? [], busy.get(k.name) ?? 1),
      rssMiB: k.pid ? peakRssMiB(k.pid) : k.rss?.(),
      ...(calls.length ? { mcpCalls: calls[calls.length >> 1] } : {}),
    };
  });
}

/** A server's kind in the report: agentbox itself, the earlier agentbox it is measured against, or a peer. */
const kindOf = (/** @type {string} */ key) => (key === 'agentbox' ? 'agentbox' : key === 'baseline' ? 'baseline' : 'peer');

/**
 * A contender's row of one case: who it is, its latency stats and calls/s.
 * @param {string} caseId
 * @param {any} k the contender
 * @param {number[]} samples latencies in ms
 * @param {number} busyMs time spent in the calls
 */
function resultRow(caseId, k, samples, busyMs) {
  const s = stats(samples);
  return { case: caseId, name: k.name, kind: k.kind, server: k.server, rawId: k.rawId, note: k.note, ...s, callsPerSec: (s.n / busyMs) * 1000 };
}

/**
 * A child process grown to `mib` MiB resident that runs sandboxed commands on request
 * (bench/spawner.mjs): the raw bwrap baseline spawned from a parent as big as agentbox's server.
 * @param {import('./sandbox.mjs').Sandbox} sandbox
 * @param {number} mib
 * @param {{ cwd: string, env: Record<string, string> }} opts
 */
async function startSpawner(sandbox, mib, { cwd, env }) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'spawner.mjs')], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const unregister = atExit(() => killPid(child.pid));
  /** @type {Array<(line: string) => void>} */
  const waiting = [];
  let buf = '';
  child.stdout.on('data', (b) => {
    buf += b.toString();
    for (let i; (i = buf.indexOf('\n')) >= 0; ) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      waiting.shift()?.(line);
    }
  });
  const ask = (/** @type {unknown} */ msg) =>
    new Promise((resolve) => {
      waiting.push((line) => resolve(JSON.parse(line)));
      child.stdin.write(`${JSON.stringify(msg)}\n`);
    });
  const ready = /** @type {{ ready: number, anon: number }} */ (
    await ask({ mib, bwrap: sandbox.bwrap, args: sandbox.args, seccomp: sandbox.seccomp.toString('base64'), cwd, env })
  );
  return {
    mib: ready.ready,
    anon: ready.anon,
    pid: /** @type {number} */ (child.pid),
    run: async (/** @type {string[]} */ command) => {
      const r = /** @type {{ error?: string }} */ (await ask(command));
      if (r.error) throw new Error(`spawner: ${r.error}`);
    },
    close: () => (unregister(), child.stdin.end(), child.kill('SIGTERM')),
  };
}

/**
 * 16 MCP sessions over HTTP, each making `perClient` read_file calls at once; beside the same
 * calls to a bare MCP SDK server with one read_file tool (bench/sdk-http-server.mjs), and plain GET
 * requests to a bare node:http server reading the file (no MCP at all).
 * @param {ReturnType<typeof createWorkspace>} w
 * @param {string} home
 * @param {Record<string, string>} env
 */
async function runHttpCase(w, home, env) {
  const perClient = SMOKE ? 2 : 25;
  const rounds = SMOKE ? 1 : Math.max(2, Math.round(4 * SCALE));
  const server = await startAgentboxHttp(w.ws, home);
  const sdk = await startSdkHttp(home);
  // The floor: a bare node:http server (no MCP, no JSON-RPC) reading the same file per request.
  const rawSrc = `const fs=require('fs');require('http').createServer((q,s)=>fs.readFile(${JSON.stringify(w.small)},(e,b)=>{s.setHeader('content-type','text/plain');s.end(b)})).listen(0,'127.0.0.1',function(){console.log(this.address().port)})`;
  const rawServer = spawn(process.execPath, ['-e', rawSrc], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const unregisterRaw = atExit(() => killPid(rawServer.pid));
  const rawPort = await new Promise((resolve) => rawServer.stdout.once('data', (b) => resolve(Number(b.toString().trim()))));
  const clients = await Promise.all(Array.from({ length: HTTP_CLIENTS }, () => connectHttpServer(server.url)));
  const sdkClients = await Promise.all(Array.from({ length: HTTP_CLIENTS }, () => connectHttpServer(sdk.url)));
  const rawAgent = new http.Agent({ keepAlive: true, maxSockets: HTTP_CLIENTS });
  const rawGet = () =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: rawPort, path: '/', agent: rawAgent }, (res) => {
          let n = 0;
          res.on('data', (b) => (n += b.length));
          res.on('end', () => (n === 4096 ? resolve(undefined) : reject(new Error(`raw http got ${n} bytes`))));
        })
        .on('error', reject);
    });
  const contenders = [
    {
      name: 'agentbox',
      kind: 'agentbox',
      server: 'agentbox',
      pid: server.pid,
      call: (/** @type {number} */ i) => clients[i]?.call('read_file', { path: 'small.txt' }).then((r) => expectOk('agentbox http', r, /line 001/)),
    },
    {
      name: 'bare MCP SDK server (one read_file tool, Streamable HTTP)',
      kind: 'raw',
      rawId: 'sdk-http',
      pid: sdk.pid,
      note: 'bench/sdk-http-server.mjs: McpServer + StreamableHTTPServerTransport, no path checks',
      call: (/** @type {number} */ i) => sdkClients[i]?.call('read_file', { path: w.small }).then((r) => expectOk('bare SDK http', r, /line 001/)),
    },
    { name: 'bare `node:http` server reading the file per request', kind: 'raw', rawId: 'node-http', pid: rawServer.pid, note: 'no MCP, no JSON-RPC', call: () => rawGet() },
  ];
  /** @type {Map<string, number[]>} */
  const samples = new Map(contenders.map((k) => [k.name, []]));
  /** @type {Map<string, number>} */
  const wall = new Map(contenders.map((k) => [k.name, 0]));
  const burst = async (/** @type {(typeof contenders)[number]} */ k) => {
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (_, i) => {
        for (let n = 0; n < perClient; n++) {
          const s0 = performance.now();
          await k.call(i);
          samples.get(k.name)?.push(performance.now() - s0);
        }
      }),
    );
    wall.set(k.name, (wall.get(k.name) ?? 0) + performance.now() - t0);
  };
  for (const k of contenders) {
    await burst(k); // warm-up
    samples.set(k.name, []);
    wall.set(k.name, 0);
    resetPeakRss(k.pid);
  }
  for (let round = 0; round < rounds; round++) for (let j = 0; j < contenders.length; j++) await burst(contenders[(round + j) % contenders.length]);
  const rows = contenders.map((k) => ({ ...resultRow('http-16', k, samples.get(k.name) ?? [], wall.get(k.name) ?? 1), rssMiB: peakRssMiB(k.pid) }));
  await Promise.all([...clients, ...sdkClients].map((c) => c.close()));
  await server.stop();
  await sdk.stop();
  unregisterRaw();
  rawServer.kill('SIGTERM');
  rawAgent.destroy();
  return rows;
}

/**
 * Counts the programs a server executes per call of each case, with strace attached to it.
 * @param {any[]} cases
 * @param {Record<string, any>} servers
 * @param {(m: string) => void} log
 */
async function countExecs(cases, servers, log) {
  if (spawnSync('strace', ['-V'], { stdio: 'ignore' }).status !== 0) return undefined;
  /** @type {Record<string, Record<string, { perCall: number, programs: Record<string, number> }>>} */
  const out = {};
  const CALLS = 3;
  for (const c of cases) {
    if (!c.servers) continue;
    for (const [key, fn] of Object.entries(c.servers)) {
      const s = servers[key.split(':')[0]];
      if (!s) continue;
      const file = path.join(servers.tmp, `strace-${c.id}-${key}.txt`);
      // Every thread of the server: a spawn may come from any of them.
      const tasks = readdirSync(`/proc/${s.pid}/task`);
      const tracer = spawn('strace', ['-f', '-qq', '-e', 'trace=execve', '-o', file, ...tasks.flatMap((t) => ['-p', t])], { stdio: 'ignore' });
      const untrace = atExit(() => killPid(tracer.pid));
      await sleep(300);
      for (let i = 0; i < CALLS; i++) {
        c.before?.();
        await fn(s);
      }
      await sleep(100);
      tracer.kill('SIGINT');
      await new Promise((r) => tracer.once('exit', r));
      untrace();
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {}
      const progs = [...text.matchAll(/execve\("([^"]+)".*= 0$/gm)].map((m) => path.basename(m[1]));
      /** @type {Record<string, number>} */
      const counts = {};
      for (const p of progs) counts[p] = (counts[p] ?? 0) + 1;
      (out[c.id] ??= {})[key] = { perCall: progs.length / CALLS, programs: Object.fromEntries(Object.entries(counts).map(([p, n]) => [p, n / CALLS])) };
      log(`bench:   execs ${c.id} ${key}: ${(progs.length / CALLS).toFixed(1)}/call ${Object.keys(counts).join(' ')}`);
    }
  }
  return out;
}

/**
 * The whole comparison; bench/run.mjs turns its result into BENCHMARKS.md.
 * @param {{ only?: string[], log?: (m: string) => void, peers?: boolean }} [opts] peers: false runs
 *   agentbox and the raw baselines only (the smoke run: the peers are installed by `npm run bench`)
 */
export async function runComparison({ only, log = (m) => process.stderr.write(`${m}\n`), peers = true } = {}) {
  const w = createWorkspace(SMOKE ? { files: 300 } : {});
  const removeWorkspace = removeOnExit(w.base);
  const home = path.join(w.base, 'home');
  mkdirSync(home);
  const env = benchEnv(home);
  const tmp = path.join(w.base, 'tmp');
  mkdirSync(tmp);
  const dcOk = peers && canUnshareNet();
  const keys = ['agentbox', ...(process.env.AGENTBOX_BENCH_BASELINE ? ['baseline'] : []), ...(peers ? ['filesystem'] : []), ...(dcOk ? ['dc'] : [])];
  if (peers && !dcOk) log('bench: `unshare -rn` does not work here, so Desktop Commander is skipped (it would reach the network)');
  /** @type {Record<string, any>} */
  const servers = { tmp };
  /** @type {{ rows: any[], skipped: string[], workspace: { files: number, typescript: string }, execs?: any, caseTitles: Record<string, string>, rss: Record<string, number | undefined> }} */
  const results = {
    rows: [],
    skipped: [...(peers ? [] : ['filesystem', 'dc']), ...(peers && !dcOk ? ['dc'] : [])],
    workspace: { files: w.files, typescript: w.tsVersion },
    rss: {},
    caseTitles: {},
  };
  /** @type {Awaited<ReturnType<typeof startSpawner>> | undefined} */
  let spawner;
  /** @type {any[]} */
  let cases = [];
  try {
    for (const k of keys) servers[k] = await startServer(k, w.ws, home);
    const sandbox = await agentboxSandbox({ ws: w.ws, tmp, env, home });
    const wanted = (/** @type {string} */ id) => !only || only.some((o) => id.includes(o));
    /** @type {{ current?: Awaited<ReturnType<typeof startSpawner>> }} */
    const bigSpawner = {};
    cases = defineCases(w, env, sandbox, bigSpawner).filter((c) => wanted(c.id));
    for (const c of cases) {
      log(`bench: ${c.id}`);
      if (c.id === 'exec-true' && results.rss) {
        // The fair raw baseline: a parent with as much anonymous memory as the server has now, after
        // the earlier cases (fork copies the page tables of that memory; file-backed pages such as
        // Node's own code are shared without copying).
        const serverAnon = anonMiB(servers.agentbox.pid) ?? 60;
        spawner = bigSpawner.current = await startSpawner(sandbox, serverAnon, { cwd: w.ws, env });
        Object.assign(results.rss, {
          agentboxAtExec: rssNowMiB(servers.agentbox.pid),
          agentboxAnon: serverAnon,
          spawner: spawner.mib,
          spawnerAnon: spawner.anon,
          bench: rssNowMiB(process.pid),
          benchAnon: anonMiB(process.pid),
        });
      }
      const contenders = [];
      if (c.fresh) {
        for (const k of keys) {
          /** @type {number | undefined} */
          let last;
          contenders.push({
            name: SERVERS[/** @type {keyof typeof SERVERS} */ (k)].label,
            kind: kindOf(k),
            server: k,
            fn: async () => {
              const s = await startServer(/** @type {keyof typeof SERVERS} */ (k), w.ws, home);
              last = s.pid ? peakRssMiB(s.pid) : undefined;
              await s.close();
            },
            rss: () => last,
          });
        }
      } else {
        // A key "server:variant" is a second way of doing the case with the same server.
        // The baseline agentbox does what agentbox does, unless the case says otherwise.
        const calls = servers.baseline && c.servers.agentbox && !c.servers.baseline ? { ...c.servers, baseline: c.servers.agentbox } : c.servers;
        for (const [id, fn] of Object.entries(calls)) {
          const [k, variant] = id.split(':');
          if (!k || !servers[k]) continue;
          const label = SERVERS[/** @type {keyof typeof SERVERS} */ (k)].label;
          const name = variant ? `${label} (${variant})` : label;
          contenders.push({ name, kind: kindOf(k), server: k, pid: servers[k].pid, note: c.notes?.[id], fn: () => /** @type {any} */ (fn)(servers[k]) });
        }
      }
      for (const r of c.raw ?? []) contenders.push({ name: r.name, kind: 'raw', rawId: r.id, note: r.note, pid: r.id === 'bwrap-rss' ? spawner?.pid : undefined, fn: r.fn });
      results.rows.push(...(await runCase(c, contenders)));
      if (c.id === 'exec-50mb' && servers.agentbox?.pid && results.rss && !SMOKE) {
        const s = servers.agentbox;
        resetPeakRss(s.pid);
        const cmd = `yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ | head -c ${HUGE_OUTPUT}`;
        expectOk('agentbox', await s.call('exec_command', { cmd, yield_time_ms: 30_000, timeout_ms: 120_000 }), /^Process exited with code 0/);
        results.rss.agentboxHugePeak = peakRssMiB(s.pid);
      }
    }
    spawner?.close();
    spawner = undefined;
    if (wanted('http-16')) {
      log('bench: http-16');
      results.rows.push(...(await runHttpCase(w, home, env)));
    }
    if (process.env.BENCH_STRACE !== '0' && !SMOKE) {
      log('bench: counting executed programs per call (strace)');
      results.execs = await countExecs(cases, servers, log);
    }
  } finally {
    spawner?.close();
    for (const k of keys) await servers[k]?.close().catch(() => undefined);
    removeWorkspace();
  }
  results.caseTitles = Object.fromEntries(defineCases(w, env, undefined, undefined).map((c) => [c.id, c.title]));
  results.caseTitles['http-16'] = `${HTTP_CLIENTS} concurrent clients over HTTP, read_file 4 KB`;
  return results;
}
