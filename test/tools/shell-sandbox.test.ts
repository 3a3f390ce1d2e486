// What a sandboxed command can and cannot reach besides the workspace, through the real server:
// named UNIX sockets of daemons outside the sandbox, agentbox's own home (tokens), a container
// engine socket, an unlimited /dev or /dev/shm; and the places shell and file tools must agree on:
// nested repositories, worktrees under .agentbox/worktrees/, and /tmp.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { parseExec } from '../support/exec.js';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';

let conns: Connected[] = [];
let cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of conns.splice(0)) await c.close();
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function serve(args: string[], env: Record<string, string> = {}): Promise<Connected> {
  const conn = await connectStdio({ args, env });
  conns.push(conn);
  return conn;
}

const exec = async (conn: Connected, cmd: string, extra: Record<string, unknown> = {}) => parseExec((await conn.call('exec_command', { cmd, ...extra })).text);

/** A listening UNIX socket at `file`; counts connections. */
async function listen(file: string): Promise<{ connections: () => number }> {
  let n = 0;
  const server = net.createServer((s) => {
    n++;
    s.on('error', () => undefined); // the client leaves at once
    s.end('hello\n');
  });
  await new Promise<void>((r) => server.listen(file, r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { connections: () => n };
}

/** Node inside the sandbox connecting to a UNIX socket: prints CONNECTED or the error code. */
const connectCmd = (file: string) =>
  `${process.execPath} -e "require('net').connect('${file}').on('connect',()=>{console.log('CONNECTED');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(0)})"`;

describe('named UNIX sockets', () => {
  // The test's own daemon socket lives in a fresh directory under /run, where daemons keep theirs.
  const runDir = existsSync('/run') ? (() => {
    try {
      return mkdtempSync('/run/agentbox-test-');
    } catch {
      return undefined;
    }
  })() : undefined;

  it.runIf(runDir !== undefined)('are out of reach in /run with the network off, and reachable with --network', async () => {
    cleanups.push(() => rmSync(runDir!, { recursive: true, force: true }));
    const sock = path.join(runDir!, 'daemon.sock');
    const daemon = await listen(sock);
    const ws = tempDir();
    cleanups.push(() => ws.cleanup());

    const off = await serve(['--root', ws.dir]);
    const r = await exec(off, `${connectCmd(sock)}; ls -A /run | wc -l`);
    expect(r.output).toMatch(/^ENOENT\n0\n$/);
    expect(daemon.connections()).toBe(0);

    const on = await serve(['--root', ws.dir, '--network']);
    expect((await exec(on, connectCmd(sock))).output).toBe('CONNECTED\n');
    expect(daemon.connections()).toBe(1);
  });

  it('never reach a container engine socket, not even with --network', async () => {
    const home = tempDir('agentbox-userhome-', '/var/tmp');
    cleanups.push(() => home.cleanup());
    mkdirSync(home.path('.docker/run'), { recursive: true });
    const sock = home.path('.docker/run/docker.sock');
    const docker = await listen(sock);
    const ws = tempDir();
    cleanups.push(() => ws.cleanup());
    const on = await serve(['--root', ws.dir, '--network'], { HOME: home.dir });
    const r = await exec(on, connectCmd(sock));
    expect(r.output).not.toContain('CONNECTED');
    expect(r.output).toMatch(/^(ECONNREFUSED|ENOTSOCK|EACCES)\n$/);
    expect(docker.connections()).toBe(0);
  });
});

describe('the kernel keyring', () => {
  it.each([false, true])('is out of reach: keyctl fails with EPERM (tty: %s)', async (tty) => {
    const ws = tempDir();
    cleanups.push(() => ws.cleanup());
    const conn = await serve(['--root', ws.dir]);
    // keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), add_key and request_key, by number (x86-64 or arm64).
    const nrs = process.arch === 'arm64' ? [219, 217, 218] : [250, 248, 249];
    const perl =
      `perl -e 'for my $c ([${nrs[0]}, 0, -3, 0], [${nrs[1]}, "user", "k", "v", 1, -3], [${nrs[2]}, "user", "k", 0, 0]) ` +
      `{ my ($nr, @args) = @$c; my $r = syscall($nr, @args); print $r < 0 ? "denied: $!\\n" : "allowed: $r\\n" }'`;
    const r = await exec(conn, perl, { tty });
    expect(r.output.replace(/\r/g, '')).toBe('denied: Operation not permitted\n'.repeat(3));
  });
});

describe("agentbox's own home", () => {
  it.each(['workspace-write', 'read-only'])('is hidden from commands (%s)', async (mode) => {
    const home = tempDir('agentbox-home-', '/var/tmp');
    cleanups.push(() => home.cleanup());
    home.write('config.toml', '# provider token: sk-home-secret-123\nlog_level = "warn"\n');
    const ws = tempDir();
    cleanups.push(() => ws.cleanup());
    const conn = await serve(['--root', ws.dir, '--sandbox', mode], { AGENTBOX_HOME: home.dir });
    const r = await exec(conn, `cat ${home.path('config.toml')}; ls -A ${home.dir} | wc -l; grep -rs sk-home-secret ${home.dir} || echo not-found`);
    expect(r.output).not.toContain('sk-home-secret-123');
    expect(r.output).toMatch(/No such file or directory/);
    expect(r.output).toMatch(/^0\nnot-found\n$/m);
    expect(readFileSync(home.path('config.toml'), 'utf8')).toContain('sk-home-secret-123');
  });
});

describe('memory outside a process: /dev and /dev/shm', () => {
  it('bounds /dev/shm by max_memory_mb (its size, and the memory cgroup where there is one) and keeps /dev itself read-only', async () => {
    const ws = tempDir();
    cleanups.push(() => ws.cleanup());
    const conn = await serve(['--root', ws.dir], { AGENTBOX_SANDBOX_MAX_MEMORY_MB: '64' });
    const shm = await exec(conn, 'df -m /dev/shm | tail -1; head -c 200000000 /dev/zero > /dev/shm/big && echo WROTE-200MB');
    expect(shm.output).toMatch(/^tmpfs\s+64\s/m);
    expect(shm.output).not.toMatch(/^WROTE-200MB$/m);
    const dev = await exec(conn, 'touch /dev/x');
    expect(dev.output).toMatch(/touch: cannot touch '\/dev\/x': Read-only file system/);
  });
});

describe('memory for a command as a whole', () => {
  /** Whether the server can give commands a memory cgroup here (root or a delegated cgroup v1 memory hierarchy). */
  const memoryCgroupWritable = (() => {
    const line = /^\d+:memory:(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'));
    if (!line) return false;
    try {
      rmdirSync(mkdtempSync(path.join('/sys/fs/cgroup/memory', line[1]!, 'agentbox-probe-')));
      return true;
    } catch {
      return false;
    }
  })();

  it.runIf(memoryCgroupWritable)('counts all processes and /dev/shm against max_memory_mb, and says so when a process is killed', async () => {
    const ws = tempDir();
    cleanups.push(() => ws.cleanup());
    const conn = await serve(['--root', ws.dir], { AGENTBOX_SANDBOX_MAX_MEMORY_MB: '64' });
    // Each part alone fits: 25 MB in one process (under RLIMIT_DATA), 50 MB in /dev/shm (under its size).
    const alone = await conn.call('exec_command', { cmd: `perl -e '$x = "a" x 25e6; print "survived\\n"' && head -c 50000000 /dev/zero > /dev/shm/a && echo shm-ok` });
    expect(parseExec(alone.text).output).toBe('survived\nshm-ok\n');
    // Together they do not: the memory cgroup ends the process that goes over.
    const both = await conn.call('exec_command', { cmd: `head -c 50000000 /dev/zero > /dev/shm/a && perl -e '$x = "a" x 25e6; print "survived\\n"'` });
    expect(parseExec(both.text).output).not.toMatch(/^survived$/m);
    expect(both.text).toMatch(/^Note: The command reached its memory limit \(sandbox\.max_memory_mb = 64 MB/m);
  });
});

describe('nested repositories', () => {
  it('keeps a nested .git read-only from the shell, as the file tools do', async () => {
    const repo = tempRepo();
    cleanups.push(() => repo.cleanup());
    mkdirSync(repo.path('libs/inner'), { recursive: true });
    execFileSync('git', ['init', '-q', repo.path('libs/inner')]);
    const before = readFileSync(repo.path('libs/inner/.git/config'), 'utf8');
    const conn = await serve(['--root', repo.dir]);
    const r = await exec(conn, 'echo "[core] fsmonitor = evil" >> libs/inner/.git/config; mkdir libs/inner/.git/hooks/x; echo ok > libs/inner/file.txt && cat libs/inner/file.txt');
    expect(r.output).toMatch(/libs\/inner\/\.git\/config: Read-only file system/);
    expect(r.output).toMatch(/cannot create directory 'libs\/inner\/\.git\/hooks\/x': Read-only file system/);
    expect(r.output).toMatch(/^ok$/m);
    expect(readFileSync(repo.path('libs/inner/.git/config'), 'utf8')).toBe(before);
    const w = await conn.call('write_file', { path: 'libs/inner/.git/config', content: 'x' });
    expect(w.isError).toBe(true);
    expect(w.text).toMatch(/\.git is protected/);
  });
});

describe('worktrees under .agentbox/worktrees/', () => {
  it('are writable from the shell and the file tools, their .git file and the rest of .agentbox are not', async () => {
    const repo = tempRepo();
    cleanups.push(() => repo.cleanup());
    execFileSync('git', ['worktree', 'add', '-q', '-b', 'feat', '.agentbox/worktrees/feat'], { cwd: repo.dir, stdio: 'pipe' });
    const wt = '.agentbox/worktrees/feat';
    const gitFile = readFileSync(repo.path(wt, '.git'), 'utf8');
    const conn = await serve(['--root', repo.dir]);

    const r = await exec(conn, `echo shell > ${wt}/from-shell.txt && cat ${wt}/from-shell.txt; echo x >> ${wt}/.git; touch .agentbox/evil; git -C ${wt} status --short`);
    expect(r.output).toMatch(/^shell$/m);
    expect(r.output).toMatch(/\.git: Read-only file system/);
    expect(r.output).toMatch(/\.agentbox\/evil': Read-only file system/);
    expect(r.output).toMatch(/^\?\? from-shell\.txt$/m);
    expect(readFileSync(repo.path(wt, '.git'), 'utf8')).toBe(gitFile);

    const ok = await conn.call('write_file', { path: `${wt}/from-tool.txt`, content: 'tool\n' });
    expect(ok.isError, ok.text).toBeFalsy();
    expect(readFileSync(repo.path(wt, 'from-tool.txt'), 'utf8')).toBe('tool\n');
    for (const p of [`${wt}/.git`, '.agentbox/evil.txt', '.agentbox/worktrees/new/file.txt']) {
      const refused = await conn.call('write_file', { path: p, content: 'x' });
      expect(refused.isError, p).toBe(true);
      expect(refused.text, p).toMatch(/is protected/);
    }
  });
});

describe('/tmp', () => {
  it('means the private temp dir for workdir and the file tools, as it does inside commands', async () => {
    const ws = tempDir();
    cleanups.push(() => ws.cleanup());
    const conn = await serve(['--root', ws.dir]);
    expect((await exec(conn, 'mkdir -p /tmp/build && echo from-shell > /tmp/build/a.txt')).exitCode).toBe(0);
    const read = await conn.call('read_file', { path: '/tmp/build/a.txt' });
    expect(read.isError, read.text).toBeFalsy();
    expect(read.text).toContain('from-shell');
    const write = await conn.call('write_file', { path: '/tmp/build/b.txt', content: 'from-tool\n' });
    expect(write.isError, write.text).toBeFalsy();
    expect(write.text).toContain('/tmp/build/b.txt');
    expect(write.text).not.toMatch(/agentbox-/);
    const r = await exec(conn, 'pwd; cat b.txt', { workdir: '/tmp/build' });
    expect(r.output).toBe('/tmp/build\nfrom-tool\n');
    expect(existsSync('/tmp/build/b.txt') && readFileSync('/tmp/build/b.txt', 'utf8') === 'from-tool\n').toBe(false);
  });
});
