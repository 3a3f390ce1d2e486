// The shell tools as a host uses them: the built server over stdio, a temp git repository as the
// workspace, the real bwrap sandbox and real processes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { eventually, marker, parseExec, processesMatching } from '../support/exec.js';
import { PROJECT_ROOT } from '../support/paths.js';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';

let conn: Connected;
let repo: TempDir;

beforeAll(async () => {
  repo = tempRepo({ 'README.md': '# test\n' });
  conn = await connectStdio({
    args: ['--root', repo.dir],
    env: { OPENAI_API_KEY: 'sk-test-secret-value', MY_SERVICE_TOKEN: 'tok-123', GREETING: 'hello' },
  });
});

afterAll(async () => {
  await conn?.close();
  repo?.cleanup();
});

const run = async (cmd: string, extra: Record<string, unknown> = {}) => {
  const r = await conn.call('exec_command', { cmd, ...extra });
  return { ...parseExec(r.text), text: r.text, isError: r.isError, result: r };
};

describe('exec_command in workspace-write', () => {
  it('returns exit code and output as plain text, no structuredContent', async () => {
    const r = await run('echo hello');
    expect(r.text).toMatch(/^Process exited with code 0\nWall time: \d+\.\d{3} seconds\nOutput:\nhello\n$/);
    expect(r.result.structuredContent).toBeUndefined();
  });

  it('returns both stdout and stderr of a command that fails at once', async () => {
    const r = await run('echo to-stdout; echo to-stderr >&2; exit 3');
    expect(r.exitCode).toBe(3);
    expect(r.isError).toBeFalsy();
    expect(r.output).toContain('to-stdout');
    expect(r.output).toContain('to-stderr');
  });

  it('writes inside the workspace and in /tmp', async () => {
    const r = await run('echo data > inside.txt && mkdir -p sub && echo t > /tmp/scratch && cat /tmp/scratch && echo $TMPDIR');
    expect(r.exitCode).toBe(0);
    expect(r.output).toBe('t\n/tmp\n');
    expect(readFileSync(repo.path('inside.txt'), 'utf8')).toBe('data\n');
  });

  it('cannot write outside the workspace', async () => {
    const outsideDir = mkdtempSync(path.join(PROJECT_ROOT, '.outside-'));
    const hostTmp = tempDir('agentbox-outside-');
    try {
      const r = await run(`echo x > ${outsideDir}/f; echo x > ${hostTmp.dir}/f; echo x > $HOME/.agentbox-test-escape; touch /etc/agentbox-escape`);
      // Read-only, or hidden when the checkout itself lives under /tmp.
      expect(r.output).toMatch(new RegExp(`${outsideDir}/f: (Read-only file system|No such file or directory)`));
      // The host's /tmp is hidden behind the private /tmp: the directory is not even there.
      expect(r.output).toMatch(new RegExp(`${hostTmp.dir}/f: No such file or directory`));
      expect(r.output).toMatch(/touch: cannot touch '\/etc\/agentbox-escape': Read-only file system/);
      expect(existsSync(path.join(outsideDir, 'f'))).toBe(false);
      expect(existsSync(hostTmp.path('f'))).toBe(false);
      expect(existsSync('/etc/agentbox-escape')).toBe(false);
    } finally {
      rmSync(outsideDir, { recursive: true, force: true });
      hostTmp.cleanup();
    }
  });

  it('cannot modify .git or create .agentbox', async () => {
    const configBefore = readFileSync(repo.path('.git/config'), 'utf8');
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo.dir, encoding: 'utf8' });
    const r = await run(
      'echo "[core] fsmonitor = evil" >> .git/config; mkdir .git/hooks/x; rm -f .git/HEAD; mv .git g; ' +
        'git commit -q --allow-empty -m sneaky; mkdir -p .agentbox/x; git status --short | head -3',
    );
    expect(r.output).toMatch(/\.git\/config: Read-only file system/);
    expect(r.output).toMatch(/cannot create directory '\.git\/hooks\/x': Read-only file system/);
    expect(r.output).toMatch(/rm: cannot remove '\.git\/HEAD': Read-only file system/);
    expect(r.output).toMatch(/cannot move '\.git' to 'g': Device or resource busy/);
    expect(r.output).toMatch(/\.agentbox\/x'?: Read-only file system/);
    expect(readFileSync(repo.path('.git/config'), 'utf8')).toBe(configBefore);
    expect(execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo.dir, encoding: 'utf8' })).toBe(head);
    // The missing .agentbox is masked: bwrap's empty mount point is all the host sees (removed at shutdown).
    expect(readdirSync(repo.path('.agentbox'))).toEqual([]);
  });

  it('adds one line saying what to do when the sandbox made a command fail, and none otherwise', async () => {
    const git = await run('echo x >> .git/config');
    expect(git.exitCode).not.toBe(0);
    expect(git.header).toMatch(/^Note: \.git is read-only in the sandbox: change the repository with the git tools/m);
    const outside = await run('touch /etc/agentbox-hint-test');
    expect(outside.header).toMatch(/^Note: The sandbox allows writes only in the workspace roots and \/tmp, or retry with sandbox_permissions: "require_escalated"/m);
    const dns = await run('exec 3<>/dev/tcp/example.com/80');
    expect(dns.header).toMatch(/^Note: The network is off in the sandbox/m);
    const plain = await run('echo nothing to see; exit 3');
    expect(plain.header).not.toMatch(/^Note:/m);
    expect(git.header.match(/^Note:/gm)).toHaveLength(1);
  });

  it('keeps secret-looking variables of the server environment out of commands', async () => {
    const r = await run('env');
    expect(r.output).not.toContain('sk-test-secret-value');
    expect(r.output).not.toContain('OPENAI_API_KEY');
    expect(r.output).not.toContain('tok-123');
    expect(r.output).not.toContain('GREETING');
    expect(r.output).toMatch(/^AGENTBOX_SANDBOX=workspace-write$/m);
    expect(r.output).toMatch(/^PAGER=cat$/m);
  });

  it('kills the whole process group with exit code 124 when timeout_ms passes, leaving no process', async () => {
    const m1 = marker();
    const m2 = marker();
    const r = await run(`sleep ${m1} & (setsid sleep ${m2} &); sleep ${m1}`, { timeout_ms: 500 });
    expect(r.exitCode).toBe(124);
    expect(r.header).toMatch(/Timed out after 500 ms/);
    expect(processesMatching(`sleep ${m1}`)).toEqual([]);
    expect(processesMatching(`sleep ${m2}`)).toEqual([]);
  });

  it('treats a timeout_ms beyond what a timer can hold as the longest one, instead of killing at once', async () => {
    for (const timeout_ms of [2 ** 31, 1e12]) {
      const r = await run('sleep 0.3; echo survived', { timeout_ms });
      expect(r.exitCode, r.text).toBe(0);
      expect(r.output).toBe('survived\n');
    }
  });

  it.each(['workspace-write', 'danger-full-access'])('kills a command that ignores SIGTERM with SIGKILL after the grace period (%s)', async (mode) => {
    const ws = tempDir();
    const m = marker();
    const own = await connectStdio({ args: ['--root', ws.dir, '--sandbox', mode] });
    try {
      // An ignored SIGTERM is inherited across exec: sleep ignores it too, so only SIGKILL ends it.
      const r = parseExec((await own.call('exec_command', { cmd: `trap '' TERM; sleep ${m}; echo not-reached`, timeout_ms: 300 })).text);
      expect(r.exitCode).toBe(124);
      expect(r.output).not.toContain('not-reached');
      expect(processesMatching(`sleep ${m}`)).toEqual([]);
    } finally {
      await own.close();
      ws.cleanup();
    }
  });

  it('kills the running command when the call is cancelled', async () => {
    const m = marker();
    const controller = new AbortController();
    const call = conn.client.callTool({ name: 'exec_command', arguments: { cmd: `sleep ${m}`, yield_time_ms: 30_000 } }, undefined, {
      signal: controller.signal,
    });
    expect(await eventually(() => processesMatching(`sleep ${m}`).length > 0)).toBe(true);
    controller.abort();
    await expect(call).rejects.toThrow();
    expect(await eventually(() => processesMatching(`sleep ${m}`).length === 0)).toBe(true);
  });

  it.each([false, true])('completes an interactive `read` through write_stdin (tty: %s), its last line included', async (tty) => {
    const started = await run('read -r x; echo "got:$x"', { yield_time_ms: 250, tty });
    expect(started.sessionId, started.text).toBeGreaterThan(0);
    let r = parseExec((await conn.call('write_stdin', { session_id: started.sessionId, chars: 'hello there\n', yield_time_ms: 5000 })).text);
    let output = r.output;
    // Under load the command may need longer than 5 s: wait for its end, then check what it printed.
    for (let i = 0; i < 5 && r.exitCode === undefined; i++) {
      r = parseExec((await conn.call('write_stdin', { session_id: started.sessionId, yield_time_ms: 10_000 })).text);
      output += r.output;
    }
    expect(r.exitCode, output).toBe(0);
    expect(output).toContain('got:hello there');
  });

  it('gives a PTY session a terminal and a real Ctrl-C', async () => {
    const started = await run('test -t 0 && echo is-a-tty; trap "echo interrupted; exit 7" INT; while :; do sleep 0.1; done', { yield_time_ms: 500, tty: true });
    expect(started.sessionId).toBeGreaterThan(0);
    expect(started.output).toContain('is-a-tty');
    const r = parseExec((await conn.call('write_stdin', { session_id: started.sessionId, chars: '\u0003', yield_time_ms: 5000 })).text);
    expect(r.exitCode).toBe(7);
    expect(r.output).toContain('interrupted');
  });

  it('ends a piped command\'s input with close_stdin, and with a PTY through Ctrl-D', async () => {
    for (const tty of [false, true]) {
      const started = await run('sort; echo sorted', { yield_time_ms: 250, tty });
      expect(started.sessionId, started.text).toBeGreaterThan(0);
      let r = parseExec((await conn.call('write_stdin', { session_id: started.sessionId, chars: 'b\na\n', close_stdin: true, yield_time_ms: 5000 })).text);
      let output = r.output;
      for (let i = 0; i < 5 && r.exitCode === undefined; i++) {
        r = parseExec((await conn.call('write_stdin', { session_id: started.sessionId })).text);
        output += r.output;
      }
      expect(r.exitCode, `tty=${tty}: ${output}`).toBe(0);
      expect(output.replace(/\r/g, '')).toMatch(/^a\nb\nsorted\n$/m);
    }
  });

  it('says that Ctrl-C does nothing in a session without a terminal', async () => {
    const started = await run('sleep 30', { yield_time_ms: 250 });
    const r = await conn.call('write_stdin', { session_id: started.sessionId, chars: '\u0003' });
    expect(r.text).toMatch(/^Note: Ctrl-C .* without a terminal \(tty: true\) it interrupts nothing\. Use kill_session/m);
    expect(parseExec(r.text).sessionId).toBe(started.sessionId);
    await conn.call('kill_session', { session_id: started.sessionId });
  });

  it('waits for new output when write_stdin has no chars', async () => {
    const started = await run('sleep 0.5; echo later; read x', { yield_time_ms: 250 });
    expect(started.sessionId).toBeGreaterThan(0);
    let seen = '';
    for (let i = 0; i < 5 && !seen.includes('later'); i++) {
      const r = parseExec((await conn.call('write_stdin', { session_id: started.sessionId, yield_time_ms: 10_000 })).text);
      seen += r.output;
    }
    expect(seen).toContain('later');
    await conn.call('kill_session', { session_id: started.sessionId });
  });

  it('collects output until yield_time_ms when write_stdin polls: a line every 100 ms for 5 s takes at most two polls', async () => {
    const started = await run('for i in $(seq 1 50); do echo "line $i"; sleep 0.1; done', { yield_time_ms: 250 });
    expect(started.sessionId).toBeGreaterThan(0);
    let seen = started.output;
    let polls = 0;
    let exitCode: number | undefined;
    while (exitCode === undefined && polls < 10) {
      const r = parseExec((await conn.call('write_stdin', { session_id: started.sessionId })).text);
      polls++;
      seen += r.output;
      exitCode = r.exitCode;
    }
    expect(exitCode).toBe(0);
    expect(seen.trim().split('\n')).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i + 1}`));
    expect(polls).toBeLessThanOrEqual(2);
  });

  it('lists sessions as structured data and kills one with everything it started', async () => {
    const m = marker();
    const started = await run(`sleep ${m} & sleep ${m}`, { yield_time_ms: 250 });
    const id = started.sessionId!;
    const list = await conn.call('list_sessions');
    const sessions = (list.structuredContent as { sessions: Array<{ session_id: number; running: boolean; command: string }> }).sessions;
    expect(sessions).toContainEqual(expect.objectContaining({ session_id: id, running: true, command: `sleep ${m} & sleep ${m}` }));
    const killed = parseExec((await conn.call('kill_session', { session_id: id })).text);
    expect(killed.header).toMatch(/Killed on request/);
    expect(killed.exitCode).toBeGreaterThan(128);
    expect(processesMatching(`sleep ${m}`)).toEqual([]);
    const after = (await conn.call('list_sessions')).structuredContent as { sessions: Array<{ session_id: number }> };
    expect(after.sessions.map((s) => s.session_id)).not.toContain(id);
    const again = await conn.call('write_stdin', { session_id: id });
    expect(again.isError).toBe(true);
    expect(again.text).toMatch(/no session/);
  });

  it('cuts long output in the middle for the model and says how much', async () => {
    const r = await run('seq 1 100000');
    expect(r.exitCode).toBe(0);
    expect(r.text).toMatch(/^Output \(588895 bytes, \d+ omitted from the middle; to see all of it, run the command again with its output redirected to a file, then grep or read_file it\):$/m);
    expect(r.output.startsWith('1\n2\n3\n')).toBe(true);
    expect(r.output.endsWith('99999\n100000\n')).toBe(true);
    expect(r.output).toMatch(/\[\.\.\. \d+ bytes omitted \.\.\.\]/);
    expect(Buffer.byteLength(r.output)).toBeLessThan(10_000 + 100);
  });

  it('refuses a workdir outside the workspace', async () => {
    const r = await conn.call('exec_command', { cmd: 'pwd', workdir: '/etc' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/outside the readable roots/);
  });
});

describe('server lifetime', () => {
  // Outside the sandbox nothing but agentbox's own cleanup ends the command (no bwrap --die-with-parent).
  it.each(['workspace-write', 'danger-full-access'])('kills every running session when the host disconnects (%s)', async (mode) => {
    const ws = tempDir();
    const m = marker();
    const own = await connectStdio({ args: ['--root', ws.dir, '--sandbox', mode] });
    const r = parseExec((await own.call('exec_command', { cmd: `sleep ${m}`, yield_time_ms: 250 })).text);
    expect(r.sessionId).toBeGreaterThan(0);
    expect(processesMatching(`sleep ${m}`).length).toBeGreaterThan(0);
    await own.close();
    expect(await eventually(() => processesMatching(`sleep ${m}`).length === 0)).toBe(true);
    ws.cleanup();
  });

  it('removes the empty mount points of masked paths when it shuts down', async () => {
    const ws = tempDir();
    const own = await connectStdio({ args: ['--root', ws.dir] });
    try {
      const r = parseExec((await own.call('exec_command', { cmd: 'ls -A; touch .git/x 2>&1 | grep -c Read-only' })).text);
      expect(r.output).toBe('.agentbox\n.git\n1\n');
    } finally {
      await own.close();
    }
    expect(await eventually(() => !existsSync(ws.path('.git')) && !existsSync(ws.path('.agentbox')))).toBe(true);
    ws.cleanup();
  });
});

describe('the exec_command description', () => {
  it('names the file tools only when they are published', async () => {
    const ws = tempDir();
    const all = await connectStdio({ args: ['--root', ws.dir] });
    const shellOnly = await connectStdio({ args: ['--root', ws.dir, '--tools', 'shell'] });
    try {
      const desc = async (c: Connected) => (await c.client.listTools()).tools.find((t) => t.name === 'exec_command')?.description ?? '';
      expect(await desc(all)).toMatch(/For workspace files use the file tools, not cat or sed/);
      expect(await desc(all)).toMatch(/reads all but agentbox's home and sandbox\.deny_read \(file tools: roots and \/tmp\); writes only the workspace and \/tmp/);
      expect(await desc(all)).toMatch(/use the git tools/);
      expect(await desc(shellOnly)).not.toMatch(/file tools|git tools|apply_patch/);
    } finally {
      await all.close();
      await shellOnly.close();
      ws.cleanup();
    }
  });
});

describe('other sandbox modes', () => {
  it('read-only: nothing is writable but the private /tmp, for commands and file tools alike', async () => {
    const ws = tempDir();
    const ro = await connectStdio({ args: ['--root', ws.dir, '--sandbox', 'read-only'] });
    try {
      const cmd = 'echo x > a.txt; echo y > /tmp/b && cat /tmp/b; echo z > /dev/shm/c; echo $AGENTBOX_SANDBOX; cat /etc/hostname >/dev/null && echo can-read';
      const text = (await ro.call('exec_command', { cmd })).text;
      const r = parseExec(text);
      expect(r.output, text).toMatch(/a\.txt: Read-only file system/);
      expect(r.output, text).toMatch(/^y$/m);
      expect(r.output, text).toMatch(/\/dev\/shm\/c: Read-only file system/);
      // stdout and stderr are two pipes: their lines interleave in any order.
      expect(r.output, text).toMatch(/^read-only$/m);
      expect(r.output, text).toMatch(/^can-read$/m);
      expect(existsSync(ws.path('a.txt'))).toBe(false);
      // Programs that need a temporary directory work (mktemp, test runners).
      const t = (await ro.call('exec_command', { cmd: 'f=$(mktemp) && echo ok > "$f" && cat "$f"' })).text;
      expect(parseExec(t).output, t).toBe('ok\n');
      // The file tools that write are not published: they could only refuse.
      const names = (await ro.client.listTools()).tools.map((t) => t.name);
      for (const tool of ['write_file', 'edit_file', 'apply_patch']) expect(names, tool).not.toContain(tool);
      expect(names).toEqual(expect.arrayContaining(['read_file', 'grep', 'exec_command']));
      const desc = (await ro.client.listTools()).tools.find((t) => t.name === 'exec_command')!.description!;
      expect(desc).toContain('writes only /tmp');
    } finally {
      await ro.close();
      ws.cleanup();
    }
  });

  it('danger-full-access: runs without the sandbox', async () => {
    const ws = tempDir();
    const outside = tempDir('agentbox-outside-');
    const full = await connectStdio({ args: ['--root', ws.dir, '--sandbox', 'danger-full-access'] });
    try {
      const r = parseExec((await full.call('exec_command', { cmd: `echo x > ${outside.dir}/f && echo $AGENTBOX_SANDBOX` })).text);
      expect(r.exitCode).toBe(0);
      expect(r.output).toBe('danger-full-access\n');
      expect(readFileSync(outside.path('f'), 'utf8')).toBe('x\n');
    } finally {
      await full.close();
      ws.cleanup();
      outside.cleanup();
    }
  });
});
