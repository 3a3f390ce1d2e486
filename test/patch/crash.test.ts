// A crash loses nothing and leaves no mix: the real server (node dist/cli.js serve --stdio, its own
// AGENTBOX_HOME) is killed with SIGKILL in the middle of a multi-file apply_patch, a write_file or
// an edit_file, then started again on the same root. Each time the tree must be exactly the old
// one or exactly the new one, with no `.agentbox-tmp`, `.agentbox-del` or journal left over.
//
// Where the kill lands: for apply_patch, before every step of the commit in turn, through the
// test-only hook AGENTBOX_TEST_CRASH_AT_STEP=k (src/patch/journal.ts: the server SIGKILLs itself
// just before step k); and, without the hook, by this test after delays of 0 to 40 ms counted from
// the moment the journal appears, with a heavy file in the patch so the commit lasts that long.
// For write_file and edit_file, after delays counted from the moment the temp file appears.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectHttp, connectStdio, type Connected } from '../support/client.js';
import { crashFixture, leftoverNames, treeOf, type CrashFixture } from '../support/crash.js';
import { startHttpServer } from '../support/http-server.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let ws: TempDir;
let home: TempDir;
const open: Connected[] = [];
beforeEach(() => {
  ws = tempDir('agentbox-crash-ws-');
  home = tempDir('agentbox-crash-home-');
});
afterEach(async () => {
  for (const c of open.splice(0)) {
    if (c.pid) killQuietly(c.pid);
    await c.close().catch(() => undefined);
  }
  ws.cleanup();
  home.cleanup();
});

const journalDir = () => path.join(home.dir, 'journal');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** What is in the journal directory (a dead server's records, until recovery removes them). */
function journalFiles(): string[] {
  try {
    return readdirSync(journalDir());
  } catch {
    return [];
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function serve(env: Record<string, string> = {}): Promise<Connected> {
  const conn = await connectStdio({ args: ['--root', ws.dir], env: { AGENTBOX_HOME: home.dir, ...env } });
  open.push(conn);
  return conn;
}

/** Kills `conn`'s server with SIGKILL (if still there) and waits until the call and the process are over. */
async function killed(conn: Connected, call: Promise<unknown>): Promise<void> {
  killQuietly(conn.pid!);
  await call.catch(() => undefined);
  for (let i = 0; i < 1000; i++) {
    try {
      process.kill(conn.pid!, 0);
    } catch {
      return;
    }
    await sleep(5);
  }
  throw new Error(`server ${conn.pid} did not die`);
}

/** Waits, without blocking the event loop (the request may still be on its way), until `seen()` or the call is over. */
async function until(seen: () => boolean, call: Promise<unknown>): Promise<boolean> {
  let over = false;
  void call.then(
    () => (over = true),
    () => (over = true),
  );
  for (;;) {
    if (seen()) return true;
    if (over) return false;
    await tick();
  }
}

/** Waits `ms`: spinning for under 2 ms (the request is in by then, so blocking is fine), else a timer. */
async function pause(ms: number): Promise<void> {
  if (ms >= 2) return void (await sleep(ms));
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/**
 * After a restart: the tree is the old one or the new one, nothing half-made remains, the dead
 * server's records are gone, and the new server said what it recovered. Answers which tree.
 */
async function expectOldOrNew(conn: Connected, before: ReturnType<typeof treeOf>, after: ReturnType<typeof treeOf>, recordsAtCrash: string[], what: string) {
  // A call on that root: the server answers once its start-up recovery is over.
  const listed = await conn.call('list_dir', { path: '.' });
  expect(listed.isError, what).toBeFalsy();
  const now = treeOf(ws.dir);
  const old = JSON.stringify(now) === JSON.stringify(before);
  if (!old) expect(treeOf(ws.dir, { ino: false }), `${what}: neither the old tree nor the new one`).toEqual(after);
  expect(leftoverNames(ws.dir), what).toEqual([]);
  expect(journalFiles(), what).toEqual([]);
  const dead = recordsAtCrash.filter((n) => /\.(open|done)$/.test(n));
  const said = conn.stderr().split('\n').filter((l) => /an apply_patch a crash interrupted/.test(l));
  expect(said, what).toHaveLength(dead.length);
  return old ? 'old' : 'new';
}

/**
 * Kills the server before each step of the commit in turn (AGENTBOX_TEST_CRASH_AT_STEP=k) and
 * checks the tree after each restart; answers old or new for each k. The server for step k is also
 * the restart after the crash at step k-1, so it recovers that one first.
 */
async function stepTrials(fx: CrashFixture): Promise<Array<'old' | 'new'>> {
  const after = await newTreeOf(fx);
  const outcomes: Array<'old' | 'new'> = [];
  let atCrash: string[] = [];
  let before = treeOf(ws.dir);
  for (let k = 1; ; k++) {
    const conn = await serve({ AGENTBOX_TEST_CRASH_AT_STEP: String(k) });
    if (k > 1) outcomes.push(await expectOldOrNew(conn, before, after, atCrash, `after the crash at step ${k - 1}`));
    fx.reset(ws.dir);
    before = treeOf(ws.dir);
    const call = conn.call('apply_patch', { patch: fx.patch });
    const result = await call.then(
      (r) => r,
      () => undefined,
    );
    if (result) {
      // k is past the last step: the patch went through.
      expect(result.text).toMatch(/^Success/);
      expect(treeOf(ws.dir, { ino: false })).toEqual(after);
      await killed(conn, call);
      return outcomes;
    }
    await killed(conn, call);
    atCrash = journalFiles();
    // A journal, or for a single write the server's temp list.
    expect(atCrash, `a record at the crash at step ${k}`).toHaveLength(1);
  }
}

/** The fixture's new tree, from a run that is not interrupted. */
async function newTreeOf(fx: CrashFixture): Promise<ReturnType<typeof treeOf>> {
  fx.reset(ws.dir);
  const conn = await serve();
  const r = await conn.call('apply_patch', { patch: fx.patch });
  if (r.isError) throw new Error(r.text);
  const after = treeOf(ws.dir, { ino: false });
  await killed(conn, Promise.resolve());
  return after;
}

describe('apply_patch killed with SIGKILL', () => {
  it('leaves the old tree or the new one when killed before each step of the commit', async () => {
    const outcomes = await stepTrials(crashFixture());
    // Every step was a crash point; the first ones roll back, the last ones (after the journal
    // was marked done) finish.
    expect(outcomes.length).toBeGreaterThanOrEqual(20);
    expect(outcomes[0]).toBe('old');
    expect(outcomes.at(-1)).toBe('new');
  }, 600_000);

  it('leaves the old file or the new one when a single-file patch is killed before each step', async () => {
    const fx: CrashFixture = {
      patch: '*** Begin Patch\n*** Update File: only.txt\n@@\n-old line\n+new line\n*** Add File: new/dir/added.txt\n+added\n*** End Patch',
      reset(dir) {
        for (const n of readdirSync(dir)) rmSync(path.join(dir, n), { recursive: true, force: true });
        writeFileSync(path.join(dir, 'only.txt'), 'first\nold line\nlast\n');
      },
    };
    const single: CrashFixture = { ...fx, patch: '*** Begin Patch\n*** Add File: new/dir/added.txt\n+added\n*** End Patch' };
    // Before mkdir, before the write, before the finish, before the end.
    expect(await stepTrials(single)).toEqual(['old', 'old', 'new', 'new']);
    expect((await stepTrials(fx)).length).toBeGreaterThanOrEqual(5);
  }, 600_000);

  it('leaves the old tree or the new one when killed at moments from 0 to 40 ms into the commit', async () => {
    const fx = crashFixture(8 * 1024 * 1024);
    const after = await newTreeOf(fx);
    const delays = [0, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 10, 13, 16, 20, 25, 30, 35, 40];
    let conn = await serve();
    let midCommit = 0;
    for (const [i, ms] of delays.entries()) {
      fx.reset(ws.dir);
      const before = treeOf(ws.dir);
      const call = conn.call('apply_patch', { patch: fx.patch });
      const started = await until(() => journalFiles().some((n) => /\.(tmp|open)$/.test(n)), call);
      if (started) await pause(ms);
      await killed(conn, call);
      const atCrash = journalFiles();
      const leftAtCrash = leftoverNames(ws.dir);
      if (atCrash.length > 0 || leftAtCrash.length > 0) midCommit++;
      conn = await serve();
      await expectOldOrNew(conn, before, after, atCrash, `killed ${ms} ms into the commit (trial ${i + 1})`);
    }
    // The kills did land inside commits (the rest may have come just after one).
    expect(midCommit).toBeGreaterThanOrEqual(5);
  }, 600_000);

  it('is rolled back by another server on the same root before its next write', async () => {
    const fx = crashFixture();
    fx.reset(ws.dir);
    const before = treeOf(ws.dir);
    const survivor = await serve();
    const doomed = await serve({ AGENTBOX_TEST_CRASH_AT_STEP: '12' });
    const call = doomed.call('apply_patch', { patch: fx.patch });
    await expect(call).rejects.toThrow(); // it kills itself at step 12
    await killed(doomed, call);
    expect(journalFiles().filter((n) => n.endsWith('.open'))).toHaveLength(1);
    expect(treeOf(ws.dir)).not.toEqual(before);
    const w = await survivor.call('write_file', { path: 'after-crash.txt', content: 'hello\n' });
    expect(w.isError).toBeFalsy();
    expect(treeOf(ws.dir)).toEqual({ ...before, 'after-crash.txt': { kind: 'file', bytes: Buffer.from('hello\n').toString('base64'), mode: expect.any(Number) } });
    expect(journalFiles().filter((n) => !n.endsWith('.temps'))).toEqual([]);
    expect(survivor.stderr()).toMatch(/rolled back an apply_patch a crash interrupted/);
  }, 120_000);

  it('is rolled back when the server comes back over HTTP', async () => {
    const fx = crashFixture();
    fx.reset(ws.dir);
    const before = treeOf(ws.dir);
    const doomed = await serve({ AGENTBOX_TEST_CRASH_AT_STEP: '12' });
    const call = doomed.call('apply_patch', { patch: fx.patch });
    await expect(call).rejects.toThrow(); // it kills itself at step 12
    await killed(doomed, call);
    expect(journalFiles()).toHaveLength(1);
    const server = await startHttpServer({ args: ['--root', ws.dir], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', AGENTBOX_HOME: home.dir } });
    try {
      // Listening means recovered.
      expect(treeOf(ws.dir)).toEqual(before);
      expect(journalFiles()).toEqual([]);
      const client = await connectHttp(server.url);
      const listed = await client.call('list_dir', { path: '.' });
      expect(listed.isError).toBeFalsy();
      await client.close();
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe('write_file and edit_file killed with SIGKILL', () => {
  const MB = 1024 * 1024;
  const delays = [0, 0.1, 0.5, 1, 2, 4, 7, 11, 16, 25, 40];

  /** Kills a server at each delay after a temp file appears during `call`, restarting it each time. */
  async function trials(name: string, setup: () => void, call: (c: Connected) => Promise<unknown>, newTree: () => Promise<ReturnType<typeof treeOf>>) {
    const after = await newTree();
    let conn = await serve();
    let sawTemp = 0;
    for (const [i, ms] of delays.entries()) {
      setup();
      const before = treeOf(ws.dir);
      const running = call(conn);
      if (await until(() => leftoverNames(ws.dir).length > 0, running)) await pause(ms);
      await killed(conn, running);
      const tempAtCrash = leftoverNames(ws.dir).length > 0;
      if (tempAtCrash) sawTemp++;
      const atCrash = journalFiles();
      conn = await serve();
      const what = `${name} killed ${ms} ms after its temp file appeared (trial ${i + 1})`;
      await expectOldOrNew(conn, before, after, atCrash, what);
      // The temp file a kill left was named in the dead server's list, and the restart removed it.
      if (tempAtCrash) expect(conn.stderr(), what).toMatch(/temp files of writes a crashed agentbox left unfinished/);
    }
    expect(sawTemp, 'kills that left a temp file behind').toBeGreaterThanOrEqual(3);
  }

  it('write_file leaves the old file or the new one, and no temp file or new directory', async () => {
    const content = 'x'.repeat(16 * MB);
    const reset = () => {
      for (const n of readdirSync(ws.dir)) rmSync(path.join(ws.dir, n), { recursive: true, force: true });
      ws.write('existing.txt', 'old\n');
    };
    await trials(
      'write_file',
      reset,
      (c) => c.call('write_file', { path: 'new/deeper/written.txt', content }),
      async () => {
        reset();
        const c = await serve();
        await c.call('write_file', { path: 'new/deeper/written.txt', content });
        const t = treeOf(ws.dir, { ino: false });
        await killed(c, Promise.resolve());
        return t;
      },
    );
  }, 600_000);

  it('edit_file leaves the old file or the new one, and no temp file', async () => {
    const big = `${'y'.repeat(16 * MB)}\nMARKER\n`;
    const reset = () => {
      for (const n of readdirSync(ws.dir)) rmSync(path.join(ws.dir, n), { recursive: true, force: true });
      writeFileSync(ws.path('big.txt'), big);
    };
    const edit = (c: Connected) => c.call('edit_file', { path: 'big.txt', old_string: 'MARKER', new_string: 'EDITED BY THE TEST' });
    await trials('edit_file', reset, edit, async () => {
      reset();
      const c = await serve();
      const r = await edit(c);
      if (r.isError) throw new Error(r.text);
      expect(readFileSync(ws.path('big.txt'), 'utf8').endsWith('EDITED BY THE TEST\n')).toBe(true);
      const t = treeOf(ws.dir, { ino: false });
      await killed(c, Promise.resolve());
      return t;
    });
  }, 600_000);
});
