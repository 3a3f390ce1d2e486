// Race tests for the confinement of the file, search and git tools: a tree with a workspace and
// places the workspace must never reach, a swapper that an attacker starts through agentbox's own
// tools, and a ledger that counts, call by call, every result or effect that crossed the line.
//
// The attack: inside the workspace, `d` is a real directory and `s` a symlink to a directory
// outside. A sandboxed process exchanges the two names over and over (renameat2 RENAME_EXCHANGE,
// atomic), so a tool that checks `d/x.txt` and then opens it again by name may check the inside
// file and use the outside one. A tool that binds its check to what it uses never leaks, however
// the names move; one that does not leaks on some share of the calls.
//
// The tree lives under /var/tmp, not /tmp: sandboxed commands see a private /tmp, and the link
// `s -> <outside>` must lead to the same place inside the sandbox as for the server.
//
// A clean result counts only if the race really ran: raceCalls keeps calling until RACE_CALLS
// calls had the swapper swap while they ran (read from its live counter), and each file checks
// that the swapper made thousands of swaps and stopped cleanly.
//
// Knobs: $RACE_CALLS (calls per tool, default 300), $RACE_SWAPPER=c|shell (force a swapper; by
// default `c` when the sandbox has cc), $RACE_CONTROL=1 (links lead inside the workspace: nothing
// can leak, every test must pass; a check for false alarms).
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Connected } from './client.js';
import { parseExec } from './exec.js';
import { snapshotTree, type TreeEntry } from './tree.js';
import { tempDir, type TempDir } from './workspace.js';

/** Calls per tool in the race tests ($RACE_CALLS overrides, e.g. for a quick look). */
export const RACE_CALLS = Number(process.env.RACE_CALLS ?? 300);

/**
 * $RACE_CONTROL=1: every link leads to a copy of `d` inside the workspace instead, so nothing can
 * leak and every race test must pass on any code: a check that the leak detection itself raises no
 * false alarm (the delegate test's "some reads were refused" evidence is skipped then).
 */
export const RACE_CONTROL = Boolean(process.env.RACE_CONTROL);

/** Swaps the swapper must make over a whole test file, for a clean result to count. */
export const MIN_SWAPS = 2000;

/** Where race trees go: visible at the same path inside the sandbox (unlike /tmp). */
export const RACE_PARENT = '/var/tmp';

export interface RaceTree {
  tmp: TempDir;
  /** The workspace root: a git repository with a commit, holding the real directory `d`. */
  ws: string;
  /** A directory outside the workspace with the same layout as `d`, every file holding `secret`. */
  outside: string;
  /** The server's $AGENTBOX_HOME: config.toml and a file named after `homeMarker` hold it. */
  home: string;
  /** Unique text in every outside file and in one outside file's name. */
  secret: string;
  /** Unique text in the home's config.toml and in one home file's name. */
  homeMarker: string;
  /** `d` itself whatever its name is now (/proc/self/fd/N of a descriptor opened at setup). */
  inside: string;
  /**
   * Writes `name` in the real `d` (through its descriptor, whatever the swaps do) and in outside:
   * a file a call is about to delete or move, so a leak changes something outside.
   */
  twin(name: string, inside: string, outside: string): void;
  /** The outside files `twin` made, with their content. */
  twins: ReadonlyMap<string, string>;
  /** Twins outside that are gone or changed (a delete or move that leaked). */
  changedTwins(): string[];
  /** Closes the descriptor and removes the tree. */
  cleanup(): void;
}

/**
 * The race tree:
 *   ws/            git repository (README.md, d/ committed); race/, s, h, d.swap, *-control excluded
 *   ws/d/          x.txt "inside A", config.toml, nested/deep.txt
 *   outside/       the same names holding `secret`, plus `<secret>.txt` (a leak by name)
 *   home/          config.toml with `homeMarker`, plus `<homeMarker>.txt`
 */
export function raceTree(): RaceTree {
  const tmp = tempDir('agentbox-race-', RACE_PARENT);
  const secret = `OUTSIDE-SECRET-${randomBytes(8).toString('hex')}`;
  const homeMarker = `HOME-MARKER-${randomBytes(8).toString('hex')}`;

  tmp.write('outside/x.txt', `${secret} x\n`);
  tmp.write('outside/config.toml', `# ${secret} config\n`);
  tmp.write('outside/nested/deep.txt', `${secret} deep\n`);
  tmp.write(`outside/${secret}.txt`, `${secret} named\n`);
  tmp.write('ws/README.md', '# race\n');
  tmp.write('ws/d/x.txt', 'inside A\n');
  tmp.write('ws/d/config.toml', '# inside config\n');
  tmp.write('ws/d/nested/deep.txt', 'inside deep\n');
  tmp.write('home/config.toml', `# ${homeMarker}\n`);
  tmp.write(`home/${homeMarker}.txt`, `${homeMarker}\n`);
  // agentbox's own crash journal (src/patch/journal.ts), made up front so that its appearance is no
  // change to the home; what happens inside it is agentbox's bookkeeping (OWN_STATE), not a leak.
  mkdirSync(tmp.path(`home/${OWN_STATE}`), { mode: 0o700 });

  const ws = tmp.path('ws');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ws, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'Test');
  git('config', 'user.email', 'test@example.com');
  git('config', 'commit.gpgsign', 'false');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  writeFileSync(path.join(ws, '.git', 'info', 'exclude'), '/race/\n/s\n/h\n/d.swap\n/*-control/\n');
  mkdirSync(path.join(ws, 'race'));

  const fd = openSync(path.join(ws, 'd'), 'r');
  const twins = new Map<string, string>();
  return {
    tmp,
    ws,
    outside: tmp.path('outside'),
    home: tmp.path('home'),
    secret,
    homeMarker,
    inside: `/proc/${process.pid}/fd/${fd}`,
    twins,
    twin(name, inside, outside) {
      writeFileSync(path.join(this.inside, name), inside);
      writeFileSync(path.join(this.outside, name), outside);
      twins.set(name, outside);
    },
    changedTwins() {
      return [...twins].filter(([name, content]) => {
        const file = path.join(this.outside, name);
        return !existsSync(file) || readFileSync(file, 'utf8') !== content;
      }).map(([name]) => name);
    },
    cleanup() {
      closeSync(fd);
      tmp.cleanup();
    },
  };
}

// ---- the swapper -----------------------------------------------------------------------------

/** Exchanges two names atomically until told to stop; stops on a multiple of 1024 swaps, so both names end as they began. */
export const SWAP_C = String.raw`// Exchanges DIR and LINK (renameat2 RENAME_EXCHANGE) over and over. Writes "<swaps> running"
// to COUNTFILE every 50 ms and "<swaps> done" at the end, and the count after every swap to
// COUNTFILE.live (8 bytes, little-endian, through a shared mapping); stops after SECONDS or once
// STOPFILE exists, after an even number of swaps, so DIR is the directory again.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

// Written to a temp file and renamed, so a reader never sees a half-written count.
static void report(const char *file, unsigned long n, const char *state) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", file);
  FILE *f = fopen(tmp, "w");
  if (f) {
    fprintf(f, "%lu %s\n", n, state);
    fclose(f);
    rename(tmp, file);
  }
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: swap DIR LINK SECONDS COUNTFILE STOPFILE\n");
    return 2;
  }
  double end = now() + atof(argv[3]), next = 0;
  unsigned long n = 0;
  char livePath[4096];
  snprintf(livePath, sizeof livePath, "%s.live", argv[4]);
  int fd = open(livePath, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || ftruncate(fd, 8) != 0) {
    perror(livePath);
    return 1;
  }
  volatile uint64_t *live = mmap(NULL, 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (live == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  for (;;) {
    if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) != 0) {
      perror("renameat2");
      report(argv[4], n, "failed");
      return 1;
    }
    n++;
    *live = n;
    if ((n & 1023) == 0) {
      double t = now();
      if (t >= end || access(argv[5], F_OK) == 0) break;
      if (t >= next) {
        report(argv[4], n, "running");
        next = t + 0.05;
      }
    }
  }
  report(argv[4], n, "done");
  return 0;
}
`;

/**
 * The same without a compiler: three renames per swap, so DIR is missing for an instant (a tool
 * may see ENOENT, or a write may create DIR anew and stop the loop: it then reports "failed").
 */
export const SWAP_SH = String.raw`# usage: swap.sh DIR LINK SECONDS COUNTFILE STOPFILE (see swap.c)
dir=$1 link=$2 seconds=$3 count=$4 stop=$5
n=0
swap() { mv -T "$dir" "$dir.swap" && mv -T "$link" "$dir" && mv -T "$dir.swap" "$link"; }
report() { echo "$n $1" > "$count.tmp" && mv -f "$count.tmp" "$count"; }
while (( SECONDS < seconds )) && [[ ! -e $stop ]]; do
  if ! swap; then report failed; exit 1; fi
  echo "$((n + 1))" > "$count.live"
  if ! swap; then report failed; exit 1; fi
  n=$((n + 2))
  echo "$n" > "$count.live"
  if (( n % 20 == 0 )); then report running; fi
done
report done
`;

export type SwapperKind = 'c' | 'shell';

export interface Swapper {
  /** Which program runs: the compiled swap.c, or the shell loop where no compiler exists. */
  kind: SwapperKind;
  sessionId: number;
  /** Swaps so far (the count file, rewritten every 50 ms by swap.c, every 20 swaps by swap.sh). */
  swaps(): number;
  /** Swaps so far, exact: the live counter each swap updates (swap.c: a shared 8-byte mapping; swap.sh: a line). */
  live(): number;
  /** "running", "done" or "failed" (the exchange itself failed: the tree was changed under it). */
  state(): string;
  /** Stops the loop (stop file, then kill_session), puts `dir` back, returns the total swaps; again: just the total. */
  stop(): Promise<number>;
}

export interface SwapperOptions {
  ws: string;
  /** The real directory, relative to the workspace (e.g. `d`). */
  dir: string;
  /** The link's name, relative to the workspace (e.g. `s`); created here with `ln -s`. */
  link: string;
  /** Where the link points (absolute). */
  target: string;
  /** Upper bound on the loop's life, in seconds (it is normally stopped sooner). */
  seconds?: number;
  /** Force a program; default: $RACE_SWAPPER, else `c` when the sandbox has `cc`, else `shell`. */
  kind?: SwapperKind;
}

/**
 * Starts the swapper the way an attacker would, through the server's own tools: write_file the
 * program, exec_command `ln -s` and `cc`, then exec_command it in the background (a session).
 */
export async function startSwapper(conn: Connected, opts: SwapperOptions): Promise<Swapper> {
  const seconds = opts.seconds ?? 600;
  const name = opts.link.replace(/[^A-Za-z0-9]/g, '_');
  const count = `race/count-${name}`;
  const stopFile = `race/stop-${name}`;
  const exec = async (cmd: string, extra: Record<string, unknown> = {}) => {
    const r = await conn.call('exec_command', { cmd, yield_time_ms: 30_000, timeout_ms: 60_000, ...extra });
    return { ...parseExec(r.text), text: r.text, isError: r.isError };
  };
  const mustExec = async (cmd: string) => {
    const r = await exec(cmd);
    if (r.exitCode !== 0) throw new Error(`exec_command ${cmd} failed: ${r.text}`);
    return r;
  };

  if (RACE_CONTROL) {
    const copy = path.join(opts.ws, `${opts.link}-control`);
    execFileSync('cp', ['-a', path.join(opts.ws, opts.dir), copy]);
    opts = { ...opts, target: copy };
  }
  await mustExec(`ln -s ${shellQuote(opts.target)} ${shellQuote(opts.link)}`);
  let kind = opts.kind ?? (process.env.RACE_SWAPPER as SwapperKind | undefined);
  if (!kind) kind = (await exec('command -v cc')).exitCode === 0 ? 'c' : 'shell';
  let program: string;
  if (kind === 'c') {
    if (!existsSync(path.join(opts.ws, 'race', 'swap'))) {
      await mustWrite(conn, 'race/swap.c', SWAP_C);
      await mustExec('cc -O2 -o race/swap race/swap.c');
    }
    program = 'race/swap';
  } else {
    await mustWrite(conn, 'race/swap.sh', SWAP_SH);
    program = 'bash race/swap.sh';
  }
  const args = [opts.dir, opts.link, String(seconds), count, stopFile].map(shellQuote).join(' ');
  const started = await exec(`exec ${program} ${args}`, { yield_time_ms: 250, timeout_ms: (seconds + 30) * 1000 });
  if (started.sessionId === undefined) throw new Error(`the swapper did not keep running: ${started.text}`);
  const sessionId = started.sessionId;

  const countPath = path.join(opts.ws, count);
  const read = (): [number, string] => {
    const text = existsSync(countPath) ? readFileSync(countPath, 'utf8') : '';
    const m = /^(\d+) (\w+)\n/.exec(text);
    return m ? [Number(m[1]), m[2]!] : [0, 'starting'];
  };
  const deadline = Date.now() + 20_000;
  while (read()[0] === 0) {
    if (Date.now() > deadline) throw new Error(`the swapper made no swaps in 20 s (${read()[1]})`);
    await new Promise((r) => setTimeout(r, 25));
  }

  const livePath = `${countPath}.live`;
  let lastLive = 0;
  const live = (): number => {
    const bytes = existsSync(livePath) ? readFileSync(livePath) : Buffer.alloc(0);
    if (kind === 'c' && bytes.length === 8) lastLive = Number(bytes.readBigUInt64LE(0));
    // swap.sh rewrites the line in place: an empty or partial read keeps the last value.
    else if (kind === 'shell' && /^\d+\n$/.test(bytes.toString())) lastLive = Number(bytes.toString());
    return lastLive;
  };

  let stopped = false;
  return {
    kind,
    sessionId,
    swaps: () => read()[0],
    live,
    state: () => read()[1],
    async stop() {
      if (stopped) return read()[0];
      stopped = true;
      writeFileSync(path.join(opts.ws, stopFile), '');
      const until = Date.now() + 20_000;
      while (read()[1] === 'running' && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      await conn.call('kill_session', { session_id: sessionId }).catch(() => undefined);
      // Killed mid-swap (or the shell loop interrupted): put the directory back under its name.
      restore(opts.ws, opts.dir, opts.link);
      return read()[0];
    },
  };
}

async function mustWrite(conn: Connected, file: string, content: string): Promise<void> {
  const r = await conn.call('write_file', { path: file, content });
  if (r.isError) throw new Error(`write_file ${file} failed: ${r.text}`);
}

/** Leaves `dir` the real directory and `link` the link, whatever state a stopped swapper left. */
function restore(ws: string, dir: string, link: string): void {
  const d = path.join(ws, dir);
  const l = path.join(ws, link);
  const isDir = (p: string) => existsSync(p) && lstatSync(p).isDirectory();
  const swapName = `${d}.swap`;
  if (isDir(d)) return;
  if (existsSync(swapName) && isDir(swapName)) {
    // The shell loop stopped between its renames: the directory sits at DIR.swap.
    if (lstatSync(d, { throwIfNoEntry: false })?.isSymbolicLink()) renameSync(d, l);
    renameSync(swapName, d);
    return;
  }
  if (lstatSync(d, { throwIfNoEntry: false })?.isSymbolicLink() && isDir(l)) {
    renameSync(d, swapName);
    renameSync(l, d);
    renameSync(swapName, l);
  }
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Samples `dir`'s type from the host `samples` times: proof that the swapper really swaps (both a
 * directory and a symlink were seen), before a zero-leak result is taken as meaningful.
 */
export function sampleKinds(dir: string, samples = 5000): { dir: number; link: number; missing: number } {
  const seen = { dir: 0, link: 0, missing: 0 };
  for (let i = 0; i < samples; i++) {
    const info = lstatSync(dir, { throwIfNoEntry: false });
    if (!info) seen.missing++;
    else if (info.isSymbolicLink()) seen.link++;
    else if (info.isDirectory()) seen.dir++;
  }
  return seen;
}

// ---- what crossed the line -------------------------------------------------------------------

/** A directory's state as a value: every entry's kind, bytes and mode (snapshotTree) and its inode and times. */
/** The directory in agentbox's home that its write tools update on every call (the crash journal): not a leak. */
export const OWN_STATE = 'journal';

export interface DirState {
  tree: Record<string, TreeEntry>;
  stats: Record<string, string>;
}

/** The whole state of `dir` below it, times included (a file rewritten with the same bytes still differs). */
export function dirState(dir: string): DirState {
  const tree = snapshotTree(dir);
  const stats: Record<string, string> = { '.': statLine(dir) };
  for (const rel of Object.keys(tree)) stats[rel] = statLine(path.join(dir, rel));
  return { tree, stats };
}

function statLine(p: string): string {
  const s = lstatSync(p, { bigint: true });
  return `ino=${s.ino} size=${s.size} mtime=${s.mtimeNs} ctime=${s.ctimeNs} nlink=${s.nlink}`;
}

/**
 * What differs between two states, as short lines (empty when identical); `ignore` skips entries
 * (e.g. files a test made outside on purpose, and with them the directory's own times).
 */
export function diffStates(before: DirState, after: DirState, ignore: (rel: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const names = new Set([...Object.keys(before.stats), ...Object.keys(after.stats)]);
  for (const name of [...names].sort()) {
    if (ignore(name) || name === OWN_STATE || name.startsWith(`${OWN_STATE}/`)) continue;
    const a = before.stats[name];
    const b = after.stats[name];
    if (a === undefined) out.push(`+ ${name}`);
    else if (b === undefined) out.push(`- ${name}`);
    else if (a !== b || JSON.stringify(before.tree[name]) !== JSON.stringify(after.tree[name])) out.push(`~ ${name}`);
  }
  return out;
}

/** Files below `dir` a write tool leaves behind when interrupted (its temp and delete names). */
export function leftovers(dir: string): string[] {
  return Object.keys(snapshotTree(dir)).filter((rel) => /\.agentbox-(tmp|del)$/.test(rel));
}

/**
 * A cheap per-call fingerprint of a directory's top level: names, inodes, sizes and times of
 * every entry, and the bytes of the files named in `contents`. Enough to tell which call changed
 * it; dirState compares everything at the end.
 */
export function quickState(dir: string, contents: readonly string[] = []): string {
  const parts = [`. ${statLine(dir)}`];
  for (const name of readdirSync(dir).sort()) if (name !== OWN_STATE) parts.push(`${name} ${statLine(path.join(dir, name))}`);
  for (const name of contents) {
    const file = path.join(dir, name);
    parts.push(`${name}: ${existsSync(file) ? readFileSync(file).toString('base64') : '(none)'}`);
  }
  return parts.join('\n');
}

/** Blobs and other objects in a repository's object store whose content contains `needle`. */
export function objectsContaining(gitDir: string, needle: string, scanned = new Set<string>()): string[] {
  const found: string[] = [];
  const objects = path.join(gitDir, 'objects');
  for (const sub of readdirSync(objects)) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue;
    for (const name of readdirSync(path.join(objects, sub))) {
      const id = sub + name;
      if (scanned.has(id)) continue;
      scanned.add(id);
      const body = inflateSync(readFileSync(path.join(objects, sub, name)));
      if (body.includes(needle)) found.push(id);
    }
  }
  // Packed objects (after a gc) are read through git itself.
  const packs = existsSync(path.join(objects, 'pack')) ? readdirSync(path.join(objects, 'pack')).filter((n) => n.endsWith('.pack')) : [];
  if (packs.length > 0) {
    const all = execFileSync('git', ['--git-dir', gitDir, 'cat-file', '--batch-all-objects', '--batch'], { maxBuffer: 1 << 28 });
    if (all.includes(needle)) found.push('(in a pack)');
  }
  return found;
}

/**
 * A per-call check for git tools (RaceOptions.after): did the call put outside content into the
 * repository? A new object holding `secret` (every new loose object is inflated and searched), or
 * `file` staged anew as a blob already known to hold it (the same outside bytes hash to the same
 * object, so a second leak adds no object). Reads the index only, never the work tree.
 */
export function repoLeakCheck(ws: string, secret: string, file: string): () => string | undefined {
  const gitDir = path.join(ws, '.git');
  const scanned = new Set<string>();
  const secretObjects = new Set<string>();
  const staged = () => execFileSync('git', ['ls-files', '-s', '--', file], { cwd: ws, encoding: 'utf8' }).split(/\s/)[1] ?? '';
  for (const id of objectsContaining(gitDir, secret, scanned)) secretObjects.add(id);
  let before = staged();
  return () => {
    const found = objectsContaining(gitDir, secret, scanned);
    for (const id of found) secretObjects.add(id);
    const now = staged();
    const restaged = now !== before && secretObjects.has(now);
    before = now;
    if (found.length > 0) return `the object store now holds the secret in ${found.join(', ')}`;
    if (restaged) return `${file} is staged as ${now}, which holds the secret`;
    return undefined;
  };
}

export type ToolResult = CallToolResult & { text: string };

export interface RaceCall {
  /** The call, i from 0 to count - 1. */
  (i: number): Promise<ToolResult>;
}

/** raceCalls stops after this many times `count` calls even if fewer raced. */
export const MAX_CALLS_FACTOR = 6;

export interface RaceOptions {
  /** Shown in reports: the tool and what it was asked. */
  label: string;
  /** Calls that must race: the swapper swapped while they ran. More are made (up to MAX_CALLS_FACTOR times) until then. */
  count: number;
  /** Sets up call i (e.g. creates the file it deletes) before the watched directories' state is taken. */
  prepare?: (i: number) => void;
  call: RaceCall;
  /** Text that must never appear in a result (the outside secret, the home's marker). */
  secrets: readonly string[];
  /** Directories a call must not change (checked with quickState before and after each call). */
  watch?: readonly string[];
  /** Files in the watched directories whose bytes quickState also compares. */
  watchContents?: readonly string[];
  /** Extra per-call check after the call; a string is a leak (e.g. a git object holding the secret). */
  after?: (i: number, result: ToolResult) => string | undefined;
  /** The swapper, whose progress during the calls is reported. */
  swapper: Swapper;
}

export interface RaceReport {
  label: string;
  calls: number;
  /** Calls during which the swapper swapped at least once (the others could not have met the race). */
  raced: number;
  /** Calls whose result held a secret or which changed a watched directory. */
  leaked: number;
  /** Calls that returned isError (the race refused, or a name missing mid-swap): fine. */
  refused: number;
  /** Swaps the swapper made while these calls ran. */
  swaps: number;
  /** A few leaks, for the failure message. */
  examples: string[];
}

/**
 * Calls `call` one after another while the swapper runs, until `count` calls raced (the swapper
 * swapped during the call; on a busy machine it may be off the CPU for a while) or
 * MAX_CALLS_FACTOR * `count` calls were made, and counts the calls that leaked: a secret in the
 * result (anywhere in it: text, structured content, error) or a watched directory changed across
 * the call. A clean report means something only with `raced >= count`.
 */
export async function raceCalls(opts: RaceOptions): Promise<RaceReport> {
  const report: RaceReport = { label: opts.label, calls: 0, raced: 0, leaked: 0, refused: 0, swaps: 0, examples: [] };
  const watch = opts.watch ?? [];
  const swapsBefore = opts.swapper.live();
  for (let i = 0; report.raced < opts.count && i < opts.count * MAX_CALLS_FACTOR; i++) {
    opts.prepare?.(i);
    const before = watch.map((dir) => quickState(dir, opts.watchContents));
    const swapsAt = opts.swapper.live();
    const result = await opts.call(i);
    if (opts.swapper.live() > swapsAt) report.raced++;
    report.calls++;
    const whys: string[] = [];
    const json = JSON.stringify(result);
    for (const secret of opts.secrets) if (json.includes(secret)) whys.push(`result holds ${secret.slice(0, 14)}…: ${excerpt(json, secret)}`);
    watch.forEach((dir, k) => {
      const after = quickState(dir, opts.watchContents);
      if (after !== before[k]) whys.push(`changed ${dir}: ${changedLines(before[k]!, after)}`);
    });
    const extra = opts.after?.(i, result);
    if (extra) whys.push(extra);
    if (whys.length > 0) {
      report.leaked++;
      if (report.examples.length < 3) report.examples.push(`call ${i}: ${whys.join('; ')}`);
    } else if (result.isError) report.refused++;
  }
  report.swaps = opts.swapper.live() - swapsBefore;
  return report;
}

function excerpt(text: string, needle: string): string {
  const at = text.indexOf(needle);
  return text.slice(Math.max(0, at - 80), at + needle.length + 40);
}

function changedLines(before: string, after: string): string {
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  const gone = [...a].filter((l) => !b.has(l)).map((l) => `-${l.split(' ')[0]}`);
  const added = [...b].filter((l) => !a.has(l)).map((l) => `+${l.split(' ')[0]}`);
  return [...gone, ...added].slice(0, 6).join(' ');
}

/** One line per report, for the test log. */
export function formatReports(reports: readonly RaceReport[], kind: SwapperKind | undefined): string {
  const lines = reports.map(
    (r) => `  ${r.label.padEnd(46)} leaked ${String(r.leaked).padStart(3)} of ${r.calls} calls (${r.raced} raced)  refused ${String(r.refused).padStart(3)}  swaps ${r.swaps}`,
  );
  return [`race results (swapper: ${kind ?? 'not started'}):`, ...lines].join('\n');
}
