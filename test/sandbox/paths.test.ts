import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildPolicy, isInside, resolveEntryForWrite, resolveForRead, resolveForWrite, type Policy } from '../../src/sandbox/index.js';
import { tempDir, type TempDir } from '../support/workspace.js';

describe('isInside', () => {
  it.each([
    ['/ws', '/ws', true],
    ['/ws', '/ws/a/b', true],
    ['/ws', '/ws2', false],
    ['/ws', '/ws2/a', false],
    ['/ws', '/', false],
    ['/ws', '/ws/../etc', false],
    ['/ws', '/ws/..hidden', true],
    ['/', '/anything', true],
  ])('isInside(%s, %s) is %s', (root, candidate, expected) => {
    expect(isInside(root, path.normalize(candidate))).toBe(expected);
  });

  it('blocks similar directory names (prefix vulnerability)', () => {
    expect(isInside('/home/user/project', '/home/user/project-evil/file')).toBe(false);
  });
});

describe('resolveForRead / resolveForWrite', () => {
  let ws: TempDir;
  let outside: TempDir;
  let policy: Policy;
  const made: TempDir[] = [];
  const dir = (parent?: string) => {
    const d = tempDir('agentbox-test-', parent);
    made.push(d);
    return d;
  };
  const setup = (mode: Policy['mode'] = 'workspace-write') => {
    // Not under /tmp: an absolute /tmp path outside the roots means the private temp dir.
    ws = dir('/var/tmp');
    outside = dir('/var/tmp');
    outside.write('secret.txt', 'secret');
    ws.write('inside.txt', 'ok');
    policy = buildPolicy({ mode, roots: [ws.dir], tmpDir: dir().dir });
  };
  afterEach(() => {
    for (const d of made.splice(0)) d.cleanup();
  });

  it('resolves a relative path against the first root', async () => {
    setup();
    const r = await resolveForRead(policy, 'inside.txt');
    expect(r).toEqual({ ok: true, value: ws.path('inside.txt') });
  });

  it('refuses .. escapes', async () => {
    setup();
    const r = await resolveForRead(policy, `../${path.basename(outside.dir)}/secret.txt`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('outside_workspace');
  });

  it('refuses absolute paths outside the roots', async () => {
    setup();
    expect((await resolveForRead(policy, outside.path('secret.txt'))).ok).toBe(false);
    expect((await resolveForRead(policy, '/etc/passwd')).ok).toBe(false);
  });

  it('refuses a symlink that points out, and says where it resolves', async () => {
    setup();
    symlinkSync(outside.path('secret.txt'), ws.path('link.txt'));
    const r = await resolveForRead(policy, 'link.txt');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain(`resolves to ${outside.path('secret.txt')}`);
  });

  it('refuses a path below a symlinked parent directory that points out (also for files not yet created)', async () => {
    setup();
    symlinkSync(outside.dir, ws.path('linkdir'));
    expect((await resolveForRead(policy, 'linkdir/secret.txt')).ok).toBe(false);
    expect((await resolveForWrite(policy, 'linkdir/new-file.txt')).ok).toBe(false);
    expect((await resolveForWrite(policy, 'linkdir/deeper/new-file.txt')).ok).toBe(false);
  });

  it('refuses /proc/self/root escapes', async () => {
    setup();
    const r = await resolveForRead(policy, `/proc/self/root${outside.path('secret.txt')}`);
    expect(r.ok).toBe(false);
  });

  it('allows a symlink that stays inside the workspace', async () => {
    setup();
    mkdirSync(ws.path('real'));
    ws.write('real/a.txt', 'a');
    symlinkSync(ws.path('real'), ws.path('alias'));
    const r = await resolveForRead(policy, 'alias/a.txt');
    expect(r).toEqual({ ok: true, value: ws.path('real/a.txt') });
  });

  it('follows a dangling symlink to where a write would really land', async () => {
    setup();
    symlinkSync(outside.path('planted.txt'), ws.path('notes.txt'));
    symlinkSync(outside.path('missing-dir'), ws.path('danglingdir'));
    symlinkSync('chain2', ws.path('chain1'));
    symlinkSync(outside.path('end.txt'), ws.path('chain2'));
    for (const requested of ['notes.txt', 'danglingdir/x.txt', 'chain1']) {
      const write = await resolveForWrite(policy, requested);
      expect(write.ok, requested).toBe(false);
      if (!write.ok) expect(write.error.message).toContain(outside.dir);
      expect((await resolveForRead(policy, requested)).ok, requested).toBe(false);
    }
    symlinkSync('later.txt', ws.path('inside-link.txt'));
    expect(await resolveForWrite(policy, 'inside-link.txt')).toEqual({ ok: true, value: ws.path('later.txt') });
  });

  it('gives up on symlink loops with a clear error', async () => {
    setup();
    symlinkSync('loop-b', ws.path('loop-a'));
    symlinkSync('loop-a', ws.path('loop-b'));
    const r = await resolveForWrite(policy, 'loop-a');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('too many levels of symbolic links');
  });

  it('never exposes /proc, /sys or agentbox\'s own home, even with / as a root', async () => {
    const home = dir();
    home.write('config.toml', 'auth_token = "x"');
    policy = buildPolicy({ mode: 'workspace-write', roots: ['/'], tmpDir: dir().dir, home: home.dir });
    for (const requested of ['/proc/self/environ', '/proc/1/cmdline', '/sys/kernel', home.path('config.toml')]) {
      const r = await resolveForRead(policy, requested);
      expect(r.ok, requested).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('hidden_path');
    }
    expect((await resolveForRead(policy, '/etc/hostname')).ok).toBe(true);
  });

  it('refuses paths in sandbox.deny_read entries, for reads and writes, in every mode, also through a symlink, naming the setting', async () => {
    const user = dir('/var/tmp');
    user.write('.ssh/id_ed25519', 'key');
    user.write('.netrc', 'machine x');
    for (const mode of ['workspace-write', 'read-only', 'danger-full-access'] as const) {
      policy = buildPolicy({ mode, roots: [user.dir], tmpDir: dir().dir, denyRead: [user.path('.ssh'), user.path('.netrc'), user.path('.kube')] });
      for (const requested of [user.path('.ssh/id_ed25519'), user.path('.ssh'), user.path('.netrc'), user.path('.ssh/new-key')]) {
        for (const resolve of [resolveForRead, resolveForWrite]) {
          const r = await resolve(policy, requested);
          expect(r.ok, `${mode} ${requested}`).toBe(false);
          if (!r.ok) {
            expect(r.error.code).toBe('denied_path');
            expect(r.error.message).toContain('is hidden by sandbox.deny_read.');
            expect(r.error.hint).toContain('sandbox.deny_read in ~/.agentbox/config.toml');
          }
        }
      }
    }
    policy = buildPolicy({ mode: 'workspace-write', roots: [user.dir], tmpDir: dir().dir, denyRead: [user.path('.ssh')] });
    symlinkSync(user.path('.ssh/id_ed25519'), user.path('innocent.txt'));
    const viaLink = await resolveForRead(policy, 'innocent.txt');
    expect(viaLink.ok).toBe(false);
    if (!viaLink.ok) expect(viaLink.error.message).toBe(`Access denied: innocent.txt lies in ${user.path('.ssh')}, which is hidden by sandbox.deny_read.`);
    // A name that only starts like an entry is not in it.
    user.write('.sshrc', 'x');
    expect((await resolveForRead(policy, '.sshrc')).ok).toBe(true);
  });

  it('says there is no workspace when there are no roots', async () => {
    policy = buildPolicy({ mode: 'workspace-write', roots: [], tmpDir: dir().dir });
    const r = await resolveForRead(policy, 'a.txt');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.hint).toContain('--root');
  });

  it('refuses an overlong name with a clear error instead of throwing', async () => {
    setup();
    const r = await resolveForWrite(policy, 'x'.repeat(300));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('too long');
  });

  it('allows configured read roots for reading only', async () => {
    ws = dir();
    outside = dir();
    outside.write('doc.txt', 'doc');
    policy = buildPolicy({ mode: 'workspace-write', roots: [ws.dir], readRoots: [outside.dir], tmpDir: dir().dir });
    expect((await resolveForRead(policy, outside.path('doc.txt'))).ok).toBe(true);
    expect((await resolveForWrite(policy, outside.path('doc.txt'))).ok).toBe(false);
  });

  it('refuses writes to .git and .agentbox, and everything in read-only mode', async () => {
    setup();
    const git = await resolveForWrite(policy, '.git/config');
    expect(git.ok).toBe(false);
    if (!git.ok) expect(git.error.code).toBe('protected_path');
    expect((await resolveForWrite(policy, 'sub/.agentbox/state')).ok).toBe(false);
    expect((await resolveForWrite(policy, 'inside.txt')).ok).toBe(true);
    setup('read-only');
    const ro = await resolveForWrite(policy, 'inside.txt');
    expect(ro.ok).toBe(false);
    if (!ro.ok) expect(ro.error.code).toBe('read_only');
  });

  it('takes a path given as /tmp/... to mean the private temp dir, unless it lies in a root; a .. escape is not mapped', async () => {
    const tmp = dir();
    const underTmp = dir(); // a root that really lives under /tmp
    policy = buildPolicy({ mode: 'workspace-write', roots: [underTmp.dir], tmpDir: tmp.dir });
    expect(await resolveForWrite(policy, '/tmp/build/a.txt')).toEqual({ ok: true, value: tmp.path('build/a.txt') });
    expect(await resolveForRead(policy, '/tmp')).toEqual({ ok: true, value: tmp.dir });
    expect(await resolveForWrite(policy, underTmp.path('x.txt'))).toEqual({ ok: true, value: underTmp.path('x.txt') });
    expect(await resolveForRead(policy, tmp.path('y'))).toEqual({ ok: true, value: tmp.path('y') });
    const escape = await resolveForRead(policy, `../${path.basename(tmp.dir)}-sibling/z`);
    expect(escape.ok).toBe(false);
  });

  it('lets read-only mode write the private temp dir and nothing else', async () => {
    setup('read-only');
    expect((await resolveForWrite(policy, '/tmp/scratch.txt')).ok).toBe(true);
    expect((await resolveForWrite(policy, 'inside.txt')).ok).toBe(false);
  });

  it('refuses nested .git entries and what a .git file points to, and allows worktrees under .agentbox/worktrees', async () => {
    setup();
    mkdirSync(ws.path('libs/inner/.git'), { recursive: true });
    mkdirSync(ws.path('store/inner.git'), { recursive: true });
    ws.write('linked/.git', `gitdir: ${ws.path('store/inner.git')}\n`);
    ws.write('.agentbox/worktrees/feat/.git', 'gitdir: /nowhere\n');
    ws.write('.agentbox/worktrees/feat/src/a.ts', 'x');
    for (const p of ['libs/inner/.git/config', 'store/inner.git/config', 'linked/.git', '.agentbox/state.json', '.agentbox/worktrees/feat/.git', '.agentbox/worktrees/other/a.ts', '.agentbox/worktrees/feat/sub/.git/x']) {
      const r = await resolveForWrite(policy, p);
      expect(r.ok, p).toBe(false);
      if (!r.ok) expect(r.error.code, p).toBe('protected_path');
    }
    expect((await resolveForWrite(policy, '.agentbox/worktrees/feat/src/a.ts')).ok).toBe(true);
    expect((await resolveForWrite(policy, '.agentbox/worktrees/feat/new/file.ts')).ok).toBe(true);
  });

  it('rejects empty paths and NUL bytes', async () => {
    setup();
    expect((await resolveForRead(policy, '')).ok).toBe(false);
    expect((await resolveForRead(policy, 'a\0b')).ok).toBe(false);
  });
});

describe('resolveEntryForWrite (a path removed or renamed, not written)', () => {
  const made: TempDir[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) d.cleanup();
  });
  const setup = (mode: Policy['mode'] = 'workspace-write') => {
    const ws = tempDir();
    const outside = tempDir();
    const tmp = tempDir();
    made.push(ws, outside, tmp);
    outside.write('secret.txt', 'secret');
    ws.write('inside.txt', 'ok');
    symlinkSync(outside.path('secret.txt'), ws.path('out-link'));
    symlinkSync('missing.txt', ws.path('dangling'));
    symlinkSync(outside.dir, ws.path('out-dir'));
    mkdirSync(ws.path('.git'));
    symlinkSync('../inside.txt', ws.path('.git/link'));
    return { ws, outside, policy: buildPolicy({ mode, roots: [ws.dir], tmpDir: tmp.dir }) };
  };

  it('answers a symlink itself, wherever it points', async () => {
    const { ws, policy } = setup();
    expect(await resolveEntryForWrite(policy, 'out-link')).toEqual({ ok: true, value: ws.path('out-link') });
    expect(await resolveEntryForWrite(policy, 'dangling')).toEqual({ ok: true, value: ws.path('dangling') });
  });

  it('answers exactly what resolveForWrite does for anything that is not a symlink', async () => {
    const { policy } = setup();
    for (const requested of ['inside.txt', 'new.txt', '.', 'out-dir/secret.txt', '.git/config', '../x']) {
      expect(await resolveEntryForWrite(policy, requested), requested).toEqual(await resolveForWrite(policy, requested));
    }
  });

  it('still checks the link\'s directory: a link in .git, or below a link leading out, is refused', async () => {
    const { policy } = setup();
    expect(await resolveEntryForWrite(policy, '.git/link')).toMatchObject({ ok: false, error: { code: 'protected_path' } });
    expect(await resolveEntryForWrite(policy, 'out-dir/secret.txt')).toMatchObject({ ok: false, error: { code: 'outside_workspace' } });
  });

  it('answers a symlink given as /tmp/... in the private temp dir itself, as a relative one', async () => {
    const { policy } = setup();
    writeFileSync(path.join(policy.tmpDir, 'target.txt'), 'x');
    symlinkSync('target.txt', path.join(policy.tmpDir, 'tmp-link'));
    expect(await resolveEntryForWrite(policy, '/tmp/tmp-link')).toEqual({ ok: true, value: path.join(policy.tmpDir, 'tmp-link') });
  });

  it('refuses everything in read-only mode', async () => {
    const { policy } = setup('read-only');
    expect(await resolveEntryForWrite(policy, 'dangling')).toMatchObject({ ok: false, error: { code: 'read_only' } });
  });
});
