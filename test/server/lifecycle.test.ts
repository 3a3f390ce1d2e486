// The stdio server's life as a host manages it: JSON-RPC only on stdout, clean exit on stdin close
// and on SIGINT followed by SIGTERM (what Claude Code sends), leaving no child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../support/paths.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let ws: TempDir | undefined;
let child: ChildProcess | undefined;
const markers: string[] = [];
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  // A failing test must not leave its command running on the machine.
  for (const marker of markers.splice(0)) for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
  ws?.cleanup();
});

/** Pids of processes whose command line contains `marker`, from /proc. */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(marker)) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Starts a long command in a background shell session; returns the marker in its command line. */
async function startLongCommand(s: ReturnType<typeof startServer>): Promise<string> {
  const marker = `${300 + Math.floor(Math.random() * 1000)}.${Date.now() % 100000}`;
  s.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'exec_command', arguments: { cmd: `sleep ${marker}`, yield_time_ms: 250 } } });
  const r = await s.waitFor(3);
  expect(r.result.content[0].text).toContain('Process running with session ID');
  markers.push(`sleep ${marker}`);
  expect(processesWith(`sleep ${marker}`).length).toBeGreaterThan(0);
  return `sleep ${marker}`;
}

async function gone(marker: string): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    if (processesWith(marker).length === 0) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function startServer(extraArgs: string[] = []) {
  ws = tempDir();
  ws.write('a.txt', 'hello\n');
  const proc = spawn(process.execPath, [CLI, 'serve', '--stdio', '--root', ws.dir, ...extraArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: ws.dir, AGENTBOX_HOME: ws.path('.home'), AGENTBOX_LOG_LEVEL: 'debug' },
  });
  child = proc;
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d) => (stdout += d));
  proc.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const send = (msg: object) => proc.stdin!.write(`${JSON.stringify(msg)}\n`);
  const waitFor = async (id: number) => {
    for (let i = 0; i < 200; i++) {
      const line = stdout.split('\n').find((l) => l.includes(`"id":${id}`));
      if (line) return JSON.parse(line);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no response ${id}; stderr: ${stderr}`);
  };
  return { proc, exited, send, waitFor, stdout: () => stdout, stderr: () => stderr };
}

async function handshake(s: ReturnType<typeof startServer>) {
  s.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
  await s.waitFor(1);
  s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  s.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'grep', arguments: { pattern: 'hello' } } });
  const r = await s.waitFor(2);
  expect(r.result.content[0].text).toContain('a.txt');
}

describe('stdio lifecycle', () => {
  it('writes only JSON-RPC on stdout and logs on stderr', async () => {
    const s = startServer();
    await handshake(s);
    s.proc.stdin!.end();
    await s.exited;
    for (const line of s.stdout().split('\n').filter(Boolean)) expect(JSON.parse(line).jsonrpc).toBe('2.0');
    expect(s.stderr()).toContain('agentbox ready on stdio');
  });

  it('exits with code 0 when stdin closes, leaving no process it started', async () => {
    const s = startServer();
    await handshake(s);
    const marker = await startLongCommand(s);
    s.proc.stdin!.end();
    const { code } = await s.exited;
    expect(code).toBe(0);
    expect(await gone(marker)).toBe(true);
  });

  it('exits cleanly on SIGINT followed by SIGTERM 100 ms later, leaving no process it started', async () => {
    const s = startServer();
    await handshake(s);
    const marker = await startLongCommand(s);
    s.proc.kill('SIGINT');
    setTimeout(() => s.proc.exitCode === null && s.proc.kill('SIGTERM'), 100);
    const { code } = await s.exited;
    expect(code).toBe(0);
    expect(s.stderr()).toContain('stdio server stopping');
    expect(await gone(marker)).toBe(true);
  });

  it('kills what it started on shutdown even without the sandbox (danger-full-access: no bwrap to die with it)', async () => {
    const s = startServer(['--sandbox', 'danger-full-access']);
    await handshake(s);
    const marker = await startLongCommand(s);
    s.proc.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
    expect(await gone(marker)).toBe(true);
  });

  it('exits cleanly on SIGTERM alone', async () => {
    const s = startServer();
    await handshake(s);
    s.proc.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });
});
