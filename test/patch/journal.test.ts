// The write journal (src/patch/journal.ts), in process. A "crashed" server is one whose commit
// stops for good before its k-th step: the filesystem operation (or journal step) never returns
// and nothing after it runs, which leaves the disk exactly as a SIGKILL there would. A second
// journal, owned by another (live) server that sees the first one as dead, then recovers. The
// real-process version, with SIGKILL, is crash.test.ts.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileLocks } from '../../src/fs/index.js';
import type { Logger } from '../../src/log.js';
import { applyPatch, decodeJournal, encodeJournal, finishForward, nodePatchIo, partialJournal, rollBack, WriteJournal, type CommitRecord, type PatchIo } from '../../src/patch/index.js';
import { ok } from '../../src/util/result.js';
import { crashFixture, leftoverNames, treeOf, type CrashFixture } from '../support/crash.js';
import { patchEnv } from '../support/patch.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let ws: TempDir;
let home: TempDir;
let dir: string;
beforeEach(() => {
  ws = tempDir('agentbox-journal-ws-');
  home = tempDir('agentbox-journal-home-');
  dir = path.join(home.dir, 'journal');
});
afterEach(() => {
  ws.cleanup();
  home.cleanup();
});

const never = () => new Promise<never>(() => undefined);

/** Counts a commit's steps (naming each in `steps`) and stops it for good at the k-th. */
class Crash {
  n = 0;
  readonly steps: string[] = [];
  readonly reached: Promise<void>;
  #hit!: () => void;
  constructor(
    readonly k: number,
    /** At a writeFile step: the temp file is already there, half written. */
    readonly partialTemp = false,
  ) {
    this.reached = new Promise((resolve) => (this.#hit = resolve));
  }

  step(what: string): boolean {
    this.steps.push(what);
    if (++this.n !== this.k) return false;
    this.#hit();
    return true;
  }

  io(): PatchIo {
    return {
      writeFile: async (file, data, opts) => {
        if (!this.step(`write ${rel(file)}`)) return nodePatchIo.writeFile(file, data, opts);
        if (this.partialTemp && opts.tmp) writeFileSync(opts.tmp, Buffer.from(data).subarray(0, data.length >> 1));
        return never();
      },
      rename: async (from, to) => (this.step(`rename ${rel(from)}`) ? never() : nodePatchIo.rename(from, to)),
      unlink: async (file) => (this.step(`unlink ${rel(file)}`) ? never() : nodePatchIo.unlink(file)),
      makeParents: async (d) => (this.step(`mkdir ${rel(d)}`) ? never() : nodePatchIo.makeParents(d)),
      rmdir: async (d) => (this.step(`rmdir ${rel(d)}`) ? never() : nodePatchIo.rmdir(d)),
    };
  }
}

/** The crashing server's journal: marking done and removing the journal are steps too. */
class CrashingJournal extends WriteJournal {
  constructor(private readonly crash: Crash) {
    super({ dir, log: quiet(), locks: new FileLocks(), owner: '1-1', alive: () => true });
  }

  override async begin(record: CommitRecord) {
    const begun = await super.begin(record);
    if (!begun.ok) return begun;
    const { committed, end } = begun.value;
    return ok({
      committed: async () => (this.crash.step('mark done') ? never() : committed()),
      end: async () => (this.crash.step('end') ? never() : end()),
    });
  }
}

/** The server that recovers: owner 2-2, which sees every other owner as dead. */
function survivor(log: Logger = quiet()): WriteJournal {
  return new WriteJournal({ dir, log, locks: new FileLocks(), owner: '2-2', alive: (pid) => pid === 2 });
}

function quiet(): Logger {
  return pino({ level: 'silent' });
}

function recording(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void out.push(s) });
  return { log, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const records = () => readdirSync(dir).sort();
const rel = (p: string) => path.relative(ws.dir, p);

/** The steps of the fixture's patch, in order (from a run that does not crash, on the old tree). */
async function stepsOf(fx: CrashFixture): Promise<string[]> {
  fx.reset(ws.dir);
  const probe = new Crash(Number.POSITIVE_INFINITY);
  await crashAt(fx.patch, probe);
  return probe.steps;
}

/** Runs the fixture's patch with a crash at step k; answers the journal's phase then, or undefined when the patch finished first. */
async function crashAt(patch: string, crash: Crash): Promise<'open' | 'done' | undefined> {
  const result = applyPatch(patch, { ...patchEnv(ws.dir, { io: crash.io() }), journal: new CrashingJournal(crash) });
  const finished = await Promise.race([crash.reached.then(() => false), result.then(() => true)]);
  if (finished) {
    const r = await result;
    if (!r.ok) throw new Error(r.error.message);
    return undefined;
  }
  const left = records();
  expect(left).toHaveLength(1);
  return left[0]!.endsWith('.done') ? 'done' : 'open';
}

describe('recovery of a crashed apply_patch', () => {
  it('restores the old tree from a crash before any step of the commit, and finishes a commit marked done', async () => {
    const fx = crashFixture();
    fx.reset(ws.dir);
    const applied = await applyPatch(fx.patch, { ...patchEnv(ws.dir), journal: survivor() });
    if (!applied.ok) throw new Error(applied.error.message);
    const after = treeOf(ws.dir, { ino: false });
    expect(records()).toEqual([]);

    let k = 1;
    const phases = new Set<string>();
    for (; ; k++) {
      let finished = false;
      for (const partialTemp of [false, true]) {
        fx.reset(ws.dir);
        const before = treeOf(ws.dir);
        const phase = await crashAt(fx.patch, new Crash(k, partialTemp));
        if (!phase) {
          expect(treeOf(ws.dir, { ino: false })).toEqual(after);
          finished = true;
          break;
        }
        phases.add(phase);
        const { log, lines } = recording();
        await survivor(log).recover();
        const what = `crash at step ${k}${partialTemp ? ' (temp half written)' : ''}`;
        if (phase === 'done') expect(treeOf(ws.dir, { ino: false }), what).toEqual(after);
        else expect(treeOf(ws.dir), what).toEqual(before);
        expect(leftoverNames(ws.dir)).toEqual([]);
        expect(records()).toEqual([]);
        const said = lines().filter((l) => /apply_patch a crash interrupted/.test(String(l.msg)));
        expect(said).toHaveLength(1);
        expect(said[0]!.level).toBe(40);
      }
      if (finished) break;
    }
    // Every step of this patch was a crash point: 5 set aside, a rename, 5 writes, each with its
    // directories, the mark, 5 unlinks and the end.
    expect(k).toBeGreaterThan(20);
    expect([...phases].sort()).toEqual(['done', 'open']);
  }, 120_000);

  it('ends at the same tree when recovery itself is cut short at any step and run again', async () => {
    const fx = crashFixture();
    fx.reset(ws.dir);
    await applyPatch(fx.patch, { ...patchEnv(ws.dir), journal: survivor() });
    const after = treeOf(ws.dir, { ino: false });
    const steps = await stepsOf(fx);
    let before = treeOf(ws.dir);
    const reset = () => {
      fx.reset(ws.dir);
      before = treeOf(ws.dir);
    };

    /** Recovery that dies at its r-th operation (a rewrite leaves its temp file half written). */
    const dyingAt = (r: number): PatchIo => {
      let n = 0;
      const cut = () => Object.assign(new Error('killed'), { code: 'EKILLED' });
      return {
        writeFile: async (f, data, opts) => {
          if (++n !== r) return nodePatchIo.writeFile(f, data, opts);
          if (opts.tmp) writeFileSync(opts.tmp, Buffer.from(data).subarray(0, data.length >> 1));
          throw cut();
        },
        rename: async (from, to) => (++n === r ? Promise.reject(cut()) : nodePatchIo.rename(from, to)),
        unlink: async (f) => (++n === r ? Promise.reject(cut()) : nodePatchIo.unlink(f)),
        makeParents: nodePatchIo.makeParents,
        rmdir: async (d) => (++n === r ? Promise.reject(cut()) : nodePatchIo.rmdir(d)),
      };
    };
    /** One recovery run cut at r; false when it finished first. */
    const recoverCutAt = async (phase: 'open' | 'done', r: number) => {
      const journal = decodeJournal(readFileSync(path.join(dir, records()[0]!)))!;
      return (phase === 'done' ? finishForward(journal, dyingAt(r)) : rollBack(journal, dyingAt(r))).then(
        () => false,
        () => true,
      );
    };
    const check = (phase: 'open' | 'done', what: string) => {
      if (phase === 'done') expect(treeOf(ws.dir, { ino: false }), what).toEqual(after);
      else expect(treeOf(ws.dir), what).toEqual(before);
      expect(leftoverNames(ws.dir)).toEqual([]);
      expect(records()).toEqual([]);
    };

    // From the crash at every commit step: recovery runs again and again, each cut one operation
    // later than the last, each starting where the one before stopped; then a full one.
    let chained = 0;
    for (let k = 1; k <= steps.length; k++) {
      reset();
      const phase = (await crashAt(fx.patch, new Crash(k, true)))!;
      for (let r = 1; r < 100 && (await recoverCutAt(phase, r)); r++) chained++;
      await survivor().recover();
      check(phase, `commit crash before ${steps[k - 1]}, recovery cut again and again`);
    }
    expect(chained).toBeGreaterThan(100);

    // From the crash with the most to undo (everything written, nothing unlinked yet): recovery cut
    // at each of its operations in turn, then a full one from there.
    const mark = steps.indexOf('mark done') + 1;
    for (let r = 1; r < 100; r++) {
      reset();
      expect(await crashAt(fx.patch, new Crash(mark, true))).toBe('open');
      const cutShort = await recoverCutAt('open', r);
      await survivor().recover();
      check('open', `commit crash before the mark, recovery cut at operation ${r}`);
      if (!cutShort) {
        expect(r).toBeGreaterThan(10);
        break;
      }
    }
  }, 300_000);

  it('records a commit that is a single write in the temp list, not a journal, and recovers it the same', async () => {
    const patch = '*** Begin Patch\n*** Add File: new/dir/file.txt\n+hello\n*** End Patch';
    const reset = () => {
      rmSync(ws.dir, { recursive: true, force: true });
      mkdirSync(ws.dir);
      writeFileSync(ws.path('keep.txt'), 'keep\n');
    };
    let k = 1;
    const outcomes = new Set<string>();
    for (; ; k++) {
      let finished = false;
      for (const partialTemp of [false, true]) {
        reset();
        const before = treeOf(ws.dir);
        const crash = new Crash(k, partialTemp);
        const result = applyPatch(patch, { ...patchEnv(ws.dir, { io: crash.io() }), journal: new CrashingJournal(crash) });
        if (await Promise.race([crash.reached.then(() => false), result.then(() => true)])) {
          expect((await result).ok).toBe(true);
          finished = true;
          break;
        }
        expect(records()).toEqual([expect.stringMatching(/^1-1-[0-9a-f]+\.temps$/)]);
        await survivor().recover();
        const now = treeOf(ws.dir);
        const old = JSON.stringify(now) === JSON.stringify(before);
        if (!old) expect(Object.keys(now)).toEqual(['keep.txt', 'new', 'new/dir', 'new/dir/file.txt']);
        outcomes.add(old ? 'old' : 'new');
        expect(leftoverNames(ws.dir)).toEqual([]);
        expect(records()).toEqual([]);
      }
      if (finished) break;
    }
    // mkdir, write, end.
    expect(k).toBe(4);
    expect([...outcomes].sort()).toEqual(['new', 'old']);
  });

  it('never acts through a directory that was swapped for a symlink since the crash', async () => {
    const fx = crashFixture();
    fx.reset(ws.dir);
    const outside = tempDir('agentbox-journal-outside-');
    try {
      // Stop just before the mark: everything is written, big/deleted.bin is set aside in big/.
      const steps = await stepsOf(fx);
      fx.reset(ws.dir);
      expect(await crashAt(fx.patch, new Crash(steps.indexOf('mark done') + 1))).toBe('open');
      const aside = readdirSync(ws.path('big')).find((n) => n.startsWith('.deleted.bin.'))!;
      // Someone replaces big/ by a link to a directory outside, holding a file of the same names.
      renameSync(ws.path('big'), ws.path('big-was'));
      symlinkSync(outside.dir, ws.path('big'));
      outside.write(aside, 'outside\n');
      outside.write('replaced.bin', 'outside replaced\n');
      const outsideBefore = treeOf(outside.dir);
      const { log, lines } = recording();
      await survivor(log).recover();
      expect(treeOf(outside.dir)).toEqual(outsideBefore);
      const said = lines().find((l) => /apply_patch a crash interrupted/.test(String(l.msg)))!;
      expect(said.kept).toEqual(
        expect.arrayContaining([`${ws.path('big', 'deleted.bin')} (its directory is not where it was)`, `${ws.path('big', 'moved.bin')} (its directory is not where it was)`]),
      );
      expect(records()).toEqual([]);
    } finally {
      outside.cleanup();
    }
  }, 60_000);

  it('leaves a file someone changed after the crash as it is, and says so', async () => {
    const fx = crashFixture();
    // Crash right after src/app.py was written.
    const steps = await stepsOf(fx);
    fx.reset(ws.dir);
    const before = treeOf(ws.dir);
    await crashAt(fx.patch, new Crash(steps.indexOf('write src/app.py') + 2));
    expect(readFileSync(ws.path('src/app.py'), 'utf8')).toContain('new');
    writeFileSync(ws.path('src/app.py'), 'edited by hand\n');
    const { log, lines } = recording();
    await survivor(log).recover();
    expect(readFileSync(ws.path('src/app.py'), 'utf8')).toBe('edited by hand\n');
    const { ['src/app.py']: _edited, ...rest } = treeOf(ws.dir);
    const { ['src/app.py']: _old, ...restBefore } = before;
    expect(rest).toEqual(restBefore);
    const said = lines().find((l) => /apply_patch a crash interrupted/.test(String(l.msg)))!;
    expect(said.kept).toEqual([`${ws.path('src/app.py')} (changed since the crash)`]);
  });

  it('does not touch the journal of a server that still runs', async () => {
    const fx = crashFixture();
    fx.reset(ws.dir);
    await crashAt(fx.patch, new Crash(8));
    const during = treeOf(ws.dir);
    const left = records();
    const neighbour = new WriteJournal({ dir, log: quiet(), locks: new FileLocks(), owner: '2-2', alive: () => true });
    await neighbour.ready();
    await neighbour.recover();
    expect(treeOf(ws.dir)).toEqual(during);
    expect(records()).toEqual(left);
  });

  it('recovers before a write when a dead server left a journal (ready)', async () => {
    const fx = crashFixture();
    fx.reset(ws.dir);
    const before = treeOf(ws.dir);
    await crashAt(fx.patch, new Crash(8));
    await survivor().ready();
    expect(treeOf(ws.dir)).toEqual(before);
    expect(records()).toEqual([]);
  });
});

describe('the journal file', () => {
  it('reads back what was written, refuses every shorter prefix of it and tells those from a damaged journal', () => {
    const record: CommitRecord = {
      asides: [{ path: '/w/a', aside: '/w/.a.1.agentbox-del' }],
      renames: [{ from: '/w/b', to: '/w/c/b', ino: 7, size: 9 }],
      writes: [
        { path: '/w/d', tmp: '/w/.d.2.agentbox-tmp', data: Buffer.from('new d'), old: { kind: 'file', bytes: Buffer.from('old d\n'), mode: 0o640, uid: 1, gid: 2, undoTmp: '/w/.d.3.agentbox-tmp' } },
        { path: '/w/e', tmp: '/w/.e.4.agentbox-tmp', data: Buffer.from('e'), old: { kind: 'absent' } },
        { path: '/w/f', tmp: '/w/.f.5.agentbox-tmp', data: Buffer.from(''), old: { kind: 'file', bytes: Buffer.from([0, 1, 2, 255]), mode: 0o600, uid: 0, gid: 0, undoTmp: '/w/.f.6.agentbox-tmp' } },
      ],
    };
    const bytes = encodeJournal(record, ['/w/c']);
    const back = decodeJournal(bytes)!;
    expect(back.dirs).toEqual(['/w/c']);
    expect(back.asides).toEqual(record.asides);
    expect(back.renames).toEqual(record.renames);
    expect(back.writes.map((w) => w.old)).toEqual(record.writes.map((w) => w.old));
    expect(back.writes[0]!.size).toBe(5);
    for (let n = 0; n < bytes.length; n++) {
      expect(decodeJournal(bytes.subarray(0, n))).toBeUndefined();
      // Cut short while written: the commit never started, so recovery may delete it.
      expect(partialJournal(bytes.subarray(0, n)), `prefix of ${n} bytes`).toBe(true);
    }
    expect(partialJournal(bytes)).toBe(false);
    // Damaged (a flipped byte, a tail of zeros after a power cut, bytes too many): kept for a human.
    const flipped = Buffer.from(bytes);
    flipped[3] = flipped[3]! ^ 0xff;
    expect(partialJournal(flipped)).toBe(false);
    const zeros = Buffer.concat([bytes.subarray(0, 30), Buffer.alloc(200)]);
    expect(partialJournal(zeros)).toBe(false);
    expect(decodeJournal(Buffer.concat([bytes, Buffer.from('x')]))).toBeUndefined();
    expect(partialJournal(Buffer.concat([bytes, Buffer.from('x')]))).toBe(false);
  });

  it('deletes a journal cut short while it was written, and keeps a damaged one aside', async () => {
    const bytes = encodeJournal({ asides: [], renames: [], writes: [{ path: ws.path('a'), tmp: ws.path('.a.1.agentbox-tmp'), data: Buffer.from('x'), old: { kind: 'absent' } }] }, []);
    mkdirSync(dir);
    writeFileSync(path.join(dir, '1-1-aa.open'), bytes.subarray(0, bytes.length - 3));
    writeFileSync(path.join(dir, '1-1-bb.open'), Buffer.concat([bytes.subarray(0, 30), Buffer.alloc(64)]));
    const { log, lines } = recording();
    await survivor(log).recover();
    expect(records()).toEqual(['2-2-bb.open.broken']);
    expect(lines().map((l) => l.msg)).toEqual([expect.stringMatching(/before its first change/), expect.stringMatching(/cannot be read; it was kept/)]);
  });
});

describe('the temp names of write_file and edit_file', () => {
  it('removes a temp file and the directories a write was making when its server died', async () => {
    const server = new WriteJournal({ dir, log: quiet(), locks: new FileLocks(), owner: '1-1', alive: () => true });
    const target = ws.path('new/deeper/file.txt');
    // A finished write first: the directory it made stays, even once someone has moved its file away.
    await server.withTemp(ws.path('kept/done.txt'), async (tmp) => {
      mkdirSync(ws.path('kept'));
      writeFileSync(tmp, 'done\n');
      renameSync(tmp, ws.path('kept/done.txt'));
    });
    renameSync(ws.path('kept/done.txt'), ws.path('moved-away.txt'));
    // Then one that dies with its temp file half written.
    let reached!: () => void;
    const dying = new Promise<void>((resolve) => (reached = resolve));
    void server.withTemp(target, async (tmp) => {
      mkdirSync(ws.path('new/deeper'), { recursive: true });
      writeFileSync(tmp, 'half');
      reached();
      return never();
    });
    await dying;
    expect(leftoverNames(ws.dir)).toHaveLength(1);
    const { log, lines } = recording();
    await survivor(log).recover();
    expect(treeOf(ws.dir)).toEqual({ kept: { kind: 'dir', mode: expect.any(Number) }, 'moved-away.txt': expect.objectContaining({ kind: 'file' }) });
    expect(records()).toEqual([]);
    expect(lines().filter((l) => /temp files of writes/.test(String(l.msg)))).toHaveLength(1);
    await server.close();
  });

  it('keeps its own list small: emptied once no write runs', async () => {
    const server = new WriteJournal({ dir, log: quiet(), locks: new FileLocks(), owner: '1-1', alive: () => true });
    for (let i = 0; i < 400; i++) await server.withTemp(ws.path(`f${i % 3}.txt`), async () => undefined);
    const [list] = records();
    expect(list).toMatch(/^1-1-[0-9a-f]+\.temps$/);
    expect(readFileSync(path.join(dir, list!)).length).toBeLessThan(80 * 1024);
    await server.close();
    expect(records()).toEqual([]);
  });
});
