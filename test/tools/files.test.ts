// The read-only file tools as a host sees them: an SDK Client over stdio against a temp workspace.
import { mkdirSync, symlinkSync, utimesSync, writeFileSync, openSync, ftruncateSync, closeSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { tempDir, type TempDir } from '../support/workspace.js';

// 1x1 transparent PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

// The same behaviour is expected with ripgrep and with the built-in fallback (no rg on PATH).
describe.each([
  { search: 'ripgrep', env: {} as Record<string, string> },
  { search: 'the JS fallback', env: { PATH: '/nonexistent-agentbox-test' } },
])('file tools with $search', ({ env }) => {
  let ws: TempDir;
  let outside: TempDir;
  let conn: Connected;

  beforeAll(async () => {
    // Not under /tmp, which the file tools (as the sandbox) take to mean the private temp dir.
    ws = tempDir('agentbox-test-', '/var/tmp');
    outside = tempDir('agentbox-test-', '/var/tmp');
    outside.write('secret.txt', 'TOP SECRET\n');
    ws.write('a.txt', 'alpha\nbeta\ngamma\n');
    ws.write('crlf.txt', 'one\r\ntwo\r\n');
    ws.write('long.txt', Array.from({ length: 3000 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    ws.write('short-lines.txt', 'x\n'.repeat(3000));
    ws.write('wide.txt', `${'x'.repeat(5000)}\nshort\n`);
    ws.write('empty.txt', '');
    ws.write('img.png', PNG);
    ws.write('bin.dat', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x02]));
    ws.write('src/main.ts', 'export const needle = 1;\nconst other = 2;\n');
    ws.write('src/util/helper.ts', 'function needle() {}\n');
    ws.write('src/util/Notes.md', 'NEEDLE in caps\n');
    ws.write('ignored/skip.ts', 'needle hidden by gitignore\n');
    ws.write('.gitignore', 'ignored/\n*.log\n');
    ws.write('src/app.log', 'log line with haystack\n');
    ws.write('src/keep/.gitignore', '!important.log\n');
    ws.write('src/keep/important.log', 'important haystack\n');
    ws.write('wide-lines.txt', `${'y'.repeat(1900)}\n`.repeat(200));
    execFileSync('mkfifo', [ws.path('pipe')]);
    ws.write('.config/settings.ts', 'needle in a hidden dir\n');
    mkdirSync(ws.path('emptydir'));
    symlinkSync(outside.path('secret.txt'), ws.path('escape-link.txt'));
    symlinkSync(outside.dir, ws.path('escape-dir'));
    // Distinct mtimes, so "newest first" is observable.
    const t = Date.now() / 1000;
    utimesSync(ws.path('src/main.ts'), t - 300, t - 300);
    utimesSync(ws.path('src/util/helper.ts'), t - 100, t - 100);
    utimesSync(ws.path('.config/settings.ts'), t - 200, t - 200);
    // A sparse 2 GiB file: reading its head must not load it whole.
    const fd = openSync(ws.path('huge.log'), 'w');
    // Text up front (past the 8 KiB binary sniff), then a hole: the file reads as text.
    writeFileSync(fd, `first line of a huge file\nsecond\n${'filler line\n'.repeat(2000)}`);
    ftruncateSync(fd, 2 * 1024 * 1024 * 1024);
    closeSync(fd);
    conn = await connectStdio({ args: ['--root', ws.dir], env });
  });

  afterAll(async () => {
    await conn?.close();
    ws?.cleanup();
    outside?.cleanup();
  });

  describe('read_file', () => {
    it('returns numbered lines with a header of facts', async () => {
      const r = await conn.call('read_file', { path: 'a.txt' });
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toBeUndefined();
      expect(r.text).toBe('a.txt: lines 1-3 of 3, 17 B\n1\talpha\n2\tbeta\n3\tgamma');
    });

    it('pages with offset and limit and says how to read on', async () => {
      const r = await conn.call('read_file', { path: 'long.txt', offset: 10, limit: 5 });
      expect(r.text).toContain('long.txt: lines 10-14 of 3000');
      expect(r.text).toContain('call read_file with offset=15');
      expect(r.text).toContain('10\tline 10');
      expect(r.text).not.toContain('line 15');
    });

    it('keeps the default page within the 30,000-character reply budget and names the offset to read on', async () => {
      for (const file of ['wide-lines.txt', 'long.txt']) {
        const r = await conn.call('read_file', { path: file });
        const last = Number(/lines 1-(\d+) of/.exec(r.text)?.[1]);
        expect(r.text.length, file).toBeLessThanOrEqual(30_000);
        expect(r.text).toContain(`[truncated at the 30,000-character reply budget; call read_file with offset=${last + 1} to read on]`);
        expect(r.text.trimEnd().endsWith(`${last}\t${file === 'long.txt' ? `line ${last}` : 'y'.repeat(1900)}`)).toBe(true);
        const next = await conn.call('read_file', { path: file, offset: last + 1 });
        expect(next.text).toContain(`lines ${last + 1}-`);
      }
    });

    it('caps the number of lines by default', async () => {
      const r = await conn.call('read_file', { path: 'short-lines.txt' });
      expect(r.text).toContain('lines 1-2000 of 3000');
      expect(r.text).toContain('offset=2001');
    });

    it('strips CRLF line endings in the view and cuts very long lines', async () => {
      expect((await conn.call('read_file', { path: 'crlf.txt' })).text).toContain('1\tone\n2\ttwo');
      const wide = await conn.call('read_file', { path: 'wide.txt' });
      expect(wide.text).toContain('[3000 more characters]');
      expect(wide.text).toContain('line(s) longer than 2000 characters were cut');
    });

    it('reads the head of a 2 GiB file without loading it', async () => {
      const r = await conn.call('read_file', { path: 'huge.log', limit: 2 });
      expect(r.isError).toBeFalsy();
      expect(r.text).toContain('1\tfirst line of a huge file\n2\tsecond');
      expect(r.text).toContain('2.0 GB');
    });

    it('says so for an empty file', async () => {
      expect((await conn.call('read_file', { path: 'empty.txt' })).text).toContain('empty file');
    });

    it('returns images as MCP image content', async () => {
      const r = await conn.call('read_file', { path: 'img.png' });
      const image = r.content.find((c) => c.type === 'image');
      expect(image).toMatchObject({ type: 'image', mimeType: 'image/png', data: PNG.toString('base64') });
    });

    it('refuses binary files with a message saying what to do', async () => {
      const r = await conn.call('read_file', { path: 'bin.dat' });
      expect(r.isError).toBe(true);
      expect(r.text).toContain('bin.dat is a binary file');
      expect(r.text).toContain('exec_command');
    });

    it('reports a missing file and a directory clearly', async () => {
      const missing = await conn.call('read_file', { path: 'nope.txt' });
      expect(missing.isError).toBe(true);
      expect(missing.text).toContain('nope.txt does not exist');
      const dir = await conn.call('read_file', { path: 'src' });
      expect(dir.text).toContain('src is a directory');
    });

    it.each([
      ['a .. escape', () => `../${path.basename(outside.dir)}/secret.txt`],
      ['an absolute path outside', () => outside.path('secret.txt')],
      ['a symlink pointing out', () => 'escape-link.txt'],
      ['a symlinked parent directory', () => 'escape-dir/secret.txt'],
      ['/proc/self/root', () => `/proc/self/root${outside.path('secret.txt')}`],
      ['/etc/passwd', () => '/etc/passwd'],
    ])('refuses %s', async (_name, requested) => {
      const r = await conn.call('read_file', { path: requested() });
      expect(r.isError).toBe(true);
      expect(r.text).toContain('Access denied');
      expect(r.text).not.toContain('TOP SECRET');
    });
  });

  describe('list_dir', () => {
    it('lists directories first, then files with sizes, in a fixed order', async () => {
      const r = await conn.call('list_dir', {});
      expect(r.isError).toBeFalsy();
      const lines = r.text.split('\n').slice(1);
      const dirs = lines.filter((l) => l.endsWith('/'));
      expect(lines.slice(0, dirs.length)).toEqual(dirs);
      expect(r.text).toContain('a.txt  17 B');
      expect(r.text).toMatch(/escape-link.txt -> .*secret.txt/);
      expect(r.text).toContain('src/');
    });

    it('descends to the given depth and caps entries', async () => {
      const deep = await conn.call('list_dir', { path: 'src', depth: 2 });
      expect(deep.text).toContain('  helper.ts');
      const capped = await conn.call('list_dir', { limit: 3 });
      expect(capped.text).toContain('stopped at the limit of 3 entries');
    });

    it('counts nested entries against the limit and notes a cut only when one was made', async () => {
      const all = await conn.call('list_dir', { path: 'src', depth: 2 });
      const n = Number(/: (\d+) entries/.exec(all.text)?.[1]);
      expect(n).toBeGreaterThan(4);
      expect((await conn.call('list_dir', { path: 'src', depth: 2, limit: n })).text).not.toContain('stopped at the limit');
      const cut = await conn.call('list_dir', { path: 'src', depth: 2, limit: n - 1 });
      expect(cut.text).toContain(`stopped at the limit of ${n - 1} entries`);
      expect(cut.text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('src/') && !l.startsWith('['))).toHaveLength(n - 1);
    });

    it('refuses a directory outside the workspace and a file path', async () => {
      expect((await conn.call('list_dir', { path: 'escape-dir' })).text).toContain('Access denied');
      expect((await conn.call('list_dir', { path: 'a.txt' })).text).toContain('not a directory');
    });
  });

  describe('glob', () => {
    it('matches by name at any depth, newest first, skipping .gitignored files and .git', async () => {
      const r = await conn.call('glob', { pattern: '*.ts' });
      expect(r.isError).toBeFalsy();
      const paths = r.text.split('\n').slice(1);
      expect(paths).toEqual(['src/util/helper.ts', '.config/settings.ts', 'src/main.ts']);
    });

    it('matches path patterns relative to the search directory', async () => {
      const r = await conn.call('glob', { pattern: 'util/*.ts', path: 'src' });
      expect(r.text.split('\n').slice(1)).toEqual(['src/util/helper.ts']);
    });

    it('says when nothing matches', async () => {
      expect((await conn.call('glob', { pattern: '*.rs' })).text).toContain('No files match *.rs in the workspace root.');
    });

    it('never lists a .gitignored file, even one the pattern matches; a deeper negation re-includes', async () => {
      const r = await conn.call('glob', { pattern: '*.log' });
      expect(r.text.split('\n').slice(1)).toEqual(['src/keep/important.log']);
      const inSub = await conn.call('glob', { pattern: '*.log', path: 'src' });
      expect(inSub.text.split('\n').slice(1)).toEqual(['src/keep/important.log']);
    });

    it('anchors a leading "/" or "./" at the search directory', async () => {
      expect((await conn.call('glob', { pattern: '/src/*.ts' })).text.split('\n').slice(1)).toEqual(['src/main.ts']);
      expect((await conn.call('glob', { pattern: './src/*.ts' })).text.split('\n').slice(1)).toEqual(['src/main.ts']);
    });
  });

  describe('grep', () => {
    it('finds matches grouped by file with line numbers, honouring .gitignore', async () => {
      const r = await conn.call('grep', { pattern: 'needle' });
      expect(r.isError).toBeFalsy();
      expect(r.text).toMatch(/^3 matches in 3 files/);
      expect(r.text).toContain('src/main.ts\n1:export const needle = 1;');
      expect(r.text).toContain('.config/settings.ts\n1:needle in a hidden dir');
      expect(r.text).not.toContain('ignored/skip.ts');
    });

    it('supports ignore_case, glob, context and a single file', async () => {
      expect((await conn.call('grep', { pattern: 'needle', ignore_case: true, glob: '*.md' })).text).toContain('src/util/Notes.md\n1:NEEDLE in caps');
      const ctx = await conn.call('grep', { pattern: 'other', path: 'src/main.ts', context: 1 });
      expect(ctx.text).toContain('src/main.ts\n1-export const needle = 1;\n2:const other = 2;');
    });

    it('caps the number of matches and says how to narrow', async () => {
      const r = await conn.call('grep', { pattern: 'line', path: 'long.txt', max_results: 5 });
      expect(r.text).toMatch(/^5 matches in 1 file/);
      expect(r.text).toContain('stopped at the max_results cap of 5; narrow with a more specific pattern, path or glob');
    });

    it('honours .gitignore under a glob filter, and reports no match when the glob matches no file', async () => {
      const logs = await conn.call('grep', { pattern: 'haystack', glob: '*.log' });
      expect(logs.text).toMatch(/^1 match in 1 file/);
      expect(logs.text).toContain('src/keep/important.log');
      expect(logs.text).not.toContain('src/app.log');
      const none = await conn.call('grep', { pattern: 'needle', glob: '*.nothing' });
      expect(none.isError).toBeFalsy();
      expect(none.text).toContain('No matches for "needle" in the workspace root (files matching *.nothing).');
      const byPath = await conn.call('grep', { pattern: 'needle', glob: 'src/util/*.ts' });
      expect(byPath.text).toMatch(/^1 match in 1 file/);
      expect(byPath.text).toContain('src/util/helper.ts');
    });

    it('counts only files that have shown matches when the cap cuts in', async () => {
      const r = await conn.call('grep', { pattern: 'needle', max_results: 1 });
      expect(r.text).toMatch(/^1 match in 1 file /);
      expect(r.text.trim().split('\n')).toHaveLength(3);
    });

    it('says so when an explicitly named binary file matches', async () => {
      const r = await conn.call('grep', { pattern: 'ELF', path: 'bin.dat' });
      expect(r.text).toContain('bin.dat is binary and matches');
    });

    it('refuses a FIFO instead of blocking on it', async () => {
      const r = await conn.call('grep', { pattern: 'x', path: 'pipe' });
      expect(r.isError).toBe(true);
      expect(r.text).toContain('neither a file nor a directory');
      expect((await conn.call('read_file', { path: 'pipe' })).text).toContain('not a regular file');
    });

    it('explains an invalid regular expression', async () => {
      const r = await conn.call('grep', { pattern: 'foo(' });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/regex parse error|Invalid regular expression/);
    });

    it('refuses to search outside the workspace', async () => {
      const r = await conn.call('grep', { pattern: 'SECRET', path: outside.dir });
      expect(r.isError).toBe(true);
      expect(r.text).not.toContain('TOP SECRET');
    });
  });
});
