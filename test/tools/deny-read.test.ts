// Credentials stay hidden (sandbox.deny_read), and grep, glob and git keep working through the
// confined view, as a host sees it. The server's HOME is a temporary one holding an ssh key, AWS
// credentials and a git identity; it lies under /var/tmp, not /tmp, so that the sandbox's private
// /tmp does not hide it anyway.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { parseExec } from '../support/exec.js';
import { CLI } from '../support/paths.js';
import { tempDir, type TempDir } from '../support/workspace.js';

const KEY = 'PRIVATE-KEY-MATERIAL-4f1c';
const AWS = 'aws_secret_access_key = SECRET-9d2e';

let home: TempDir;
let ws: TempDir;
let outside: TempDir;
let conn: Connected;

/** The server's environment: HOME is the temporary one; no system git config. */
const env = (extra: Record<string, string> = {}) => ({ HOME: home.dir, GIT_CONFIG_NOSYSTEM: '1', ...extra });

beforeAll(async () => {
  home = tempDir('agentbox-home-', '/var/tmp');
  home.write('.ssh/id_ed25519', `${KEY}\n`);
  home.write('.aws/credentials', `[default]\n${AWS}\n`);
  home.write('.gitconfig', '[user]\n\tname = View Tester\n\temail = view@example.com\n');
  home.write('notes.txt', 'needle in home\n');
  outside = tempDir('agentbox-outside-', '/var/tmp');
  outside.write('secret.txt', 'needle outside\n');
  ws = tempDir('agentbox-ws-', '/var/tmp');
  ws.write('src/a.txt', 'needle inside\n');
  ws.write('README.md', '# view\n');
  symlinkSync(outside.dir, ws.path('link'));
  // A repository with no identity of its own: commits take it from HOME's .gitconfig.
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ws.dir, stdio: 'pipe', env: { ...process.env, ...env() } });
  git('init', '-q', '-b', 'main');
  git('add', 'README.md', 'src');
  git('commit', '-q', '-m', 'initial');
  conn = await connectStdio({ args: ['--root', ws.dir, '--root', home.dir], env: env() });
});

afterAll(async () => {
  await conn?.close();
  for (const d of [home, ws, outside]) d?.cleanup();
});

async function sh(c: Connected, cmd: string): Promise<string> {
  const r = parseExec((await c.call('exec_command', { cmd, workdir: ws.dir })).text);
  return r.output;
}

describe('sandbox.deny_read', () => {
  it('hides ~/.ssh and ~/.aws/credentials from commands', async () => {
    const out = await sh(conn, 'cat ~/.ssh/id_* ~/.aws/credentials 2>&1; ls -A ~/.ssh ~/.aws; echo done');
    expect(out).toContain('done');
    expect(out).not.toContain(KEY);
    expect(out).not.toContain('SECRET-9d2e');
    // Hidden, not gone: the rest of HOME is there.
    expect(await sh(conn, 'cat ~/notes.txt')).toBe('needle in home\n');
  });

  it('lets commands read them when the list leaves them out (so the test above can fail)', async () => {
    const c = await connectStdio({ args: ['--root', ws.dir], env: env({ AGENTBOX_SANDBOX_DENY_READ: '/nonexistent' }) });
    try {
      expect(await sh(c, 'cat ~/.ssh/id_*')).toContain(KEY);
    } finally {
      await c.close();
    }
  });

  it('makes read_file and write_file refuse them, naming the setting', async () => {
    for (const p of ['~/.ssh/id_ed25519', `${home.dir}/.aws/credentials`]) {
      const r = await conn.call('read_file', { path: p });
      expect(r.isError).toBe(true);
      expect(r.text).toContain(`Access denied: ${p} lies in ${p.includes('.ssh') ? '~/.ssh' : '~/.aws'}, which is hidden by sandbox.deny_read.`);
      expect(r.text).toContain('config.toml');
      expect(r.text).not.toContain(KEY);
    }
    const w = await conn.call('write_file', { path: '~/.ssh/authorized_keys', content: 'ssh-ed25519 AAAA attacker\n' });
    expect(w.isError).toBe(true);
    expect(w.text).toContain('hidden by sandbox.deny_read');
  });

  it('keeps them out of grep and glob over a root that holds them', async () => {
    const g = await conn.call('grep', { pattern: 'PRIVATE|SECRET|needle', path: home.dir });
    expect(g.text).toContain('needle in home');
    expect(g.text).not.toContain(KEY);
    expect(g.text).not.toContain('SECRET-9d2e');
    const files = await conn.call('glob', { pattern: '**/*', path: home.dir });
    expect(files.text).toContain('notes.txt');
    expect(files.text).not.toContain('id_ed25519');
    expect(files.text).not.toContain('credentials');
    // list_dir names a hidden directory but never lists what is in it.
    const listing = await conn.call('list_dir', { path: home.dir, depth: 3 });
    expect(listing.text).toMatch(/\.ssh\/ \(hidden: not listed\)/);
    expect(listing.text).toContain('notes.txt');
    expect(listing.text).not.toContain('id_ed25519');
    expect(listing.text).not.toContain('credentials');
  });

  it('is listed by agentbox doctor', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'doctor', '--json', '--root', ws.dir], {
      env: { PATH: process.env.PATH ?? '', ...env(), AGENTBOX_HOME: home.path('.agentbox') },
    }).catch((err: { stdout: string }) => ({ stdout: err.stdout }));
    const report = JSON.parse(stdout) as { checks: Array<{ name: string; status: string; detail: string }>; settings: Array<{ key: string; value: unknown }> };
    const hidden = report.checks.find((c) => c.name === 'hidden');
    expect(hidden?.detail).toMatch(/sandbox\.deny_read hides ~\/\.ssh, ~\/\.aws from commands, grep, glob, git and the file tools/);
    expect(hidden?.detail).toContain('not present: ~/.gnupg');
    expect(report.settings.find((s) => s.key === 'sandbox.deny_read')?.value).toContain('~/.ssh');
    expect(report.checks.find((c) => c.name === 'search and git')?.detail).toContain('confined view');
  });
});

describe('grep, glob and git in the confined view', () => {
  it('grep and glob find the workspace\'s content, and nothing through a symlink that leads out of it', async () => {
    const g = await conn.call('grep', { pattern: 'needle' });
    expect(g.isError).toBeFalsy();
    expect(g.text).toContain('src/a.txt');
    expect(g.text).toContain('needle inside');
    expect(g.text).not.toContain('needle outside');
    const files = await conn.call('glob', { pattern: '**/*.txt' });
    expect(files.text).toContain('src/a.txt');
    expect(files.text).not.toContain('secret.txt');
    // Named directly, the link is refused by the path check before any search runs.
    const direct = await conn.call('grep', { pattern: 'needle', path: 'link' });
    expect(direct.isError).toBe(true);
    expect(direct.text).not.toContain('needle outside');
  });

  it('grep returns nothing outside for a directory swapped for a symlink to an outside one', async () => {
    mkdirSync(ws.path('d'));
    ws.write('d/in.txt', 'needle in d\n');
    expect((await conn.call('grep', { pattern: 'needle', path: 'd' })).text).toContain('needle in d');
    // What a sandboxed command can do between a check and a search: swap d for a link.
    await sh(conn, `mv d d.old && ln -s ${outside.dir} d`);
    for (const args of [{ path: 'd' }, {}]) {
      const r = await conn.call('grep', { pattern: 'needle', ...args });
      expect(r.text).not.toContain('needle outside');
    }
    expect((await conn.call('glob', { pattern: 'd/**' })).text).not.toContain('secret.txt');
  });

  it('git status, add, commit (identity from HOME\'s .gitconfig), diff and log work', async () => {
    ws.write('src/b.txt', 'new file\n');
    ws.write('README.md', '# view, changed\n');
    const status = await conn.call('git_status', {});
    expect(status.isError).toBeFalsy();
    expect(status.structuredContent).toMatchObject({ branch: 'main', untracked: expect.arrayContaining(['src/b.txt']) });
    const diff = await conn.call('git_diff', {});
    expect(diff.text).toContain('+# view, changed');
    expect((await conn.call('git_add', { paths: ['src/b.txt', 'README.md'] })).isError).toBeFalsy();
    const committed = await conn.call('git_commit', { message: 'through the view' });
    expect(committed.isError, committed.text).toBeFalsy();
    const log = await conn.call('git_log', { max_count: 1 });
    expect(log.structuredContent).toMatchObject({ commits: [expect.objectContaining({ subject: 'through the view' })] });
    expect(execFileSync('git', ['log', '-1', '--format=%an <%ae>|%cn <%ce>'], { cwd: ws.dir, encoding: 'utf8' }).trim()).toBe(
      'View Tester <view@example.com>|View Tester <view@example.com>',
    );
    const staged = await conn.call('git_diff', { ref: 'HEAD~1' });
    expect(staged.text).toContain('+new file');
  });
});
