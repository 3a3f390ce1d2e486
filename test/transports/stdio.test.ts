// The stdio transport's message size limit, through the real server: a request over
// stdio.max_message_bytes is refused alone (an error for that id; the server goes on), the default
// limit takes far more than the SDK's own 10 MiB, and a message too large whose id cannot be read
// ends the server through its normal stop, saying why, instead of a silent exit.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { CLI } from '../support/paths.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let conn: Connected | undefined;
let ws: TempDir | undefined;
afterEach(async () => {
  await conn?.close();
  conn = undefined;
  ws?.cleanup();
});

describe('stdio message size limit', () => {
  it('refuses one request over stdio.max_message_bytes with an error for it, and keeps serving', async () => {
    ws = tempDir();
    conn = await connectStdio({ args: ['--root', ws.dir], env: { AGENTBOX_STDIO_MAX_MESSAGE_BYTES: String(64 * 1024) } });
    await expect(conn.call('write_file', { path: 'big.txt', content: 'x'.repeat(100 * 1024) })).rejects.toThrow(
      /Request too large: 100 KB is over this server's limit of 64 KB per message \(stdio\.max_message_bytes\); nothing was done\./,
    );
    expect(existsSync(ws.path('big.txt'))).toBe(false);
    const small = await conn.call('write_file', { path: 'small.txt', content: 'fits\n' });
    expect(small.text).toBe('Created small.txt (5 bytes).');
    expect(conn.stderr()).toContain('stdio: refused a message over the size limit');
  });

  it('takes a write_file of 12 MiB by default (over the SDK\'s own 10 MiB buffer)', async () => {
    ws = tempDir();
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const content = `${'0123456789abcdef'.repeat(64)}\n`.repeat(12 * 1024);
    const r = await conn.call('write_file', { path: 'large.txt', content });
    expect(r.isError).toBeFalsy();
    expect(statSync(ws.path('large.txt')).size).toBe(12 * 1024 * 1025);
    expect((await conn.call('read_file', { path: 'large.txt', limit: 1 })).text).toContain('0123456789abcdef');
  });

  it('ends through the normal stop, logging why, when an oversized message has no readable id', async () => {
    ws = tempDir();
    const proc = spawn(process.execPath, [CLI, 'serve', '--stdio', '--root', ws.dir], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, HOME: ws.dir, AGENTBOX_HOME: ws.path('.home'), AGENTBOX_LOG_LEVEL: 'info', AGENTBOX_STDIO_MAX_MESSAGE_BYTES: String(64 * 1024) },
    });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    proc.stdout.resume();
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    proc.stdin.write(`{"jsonrpc":"2.0","method":"notifications/noise","params":{"t":"${'n'.repeat(100 * 1024)}"}}\n`);
    const code = await exited;
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(stderr).toMatch(/over stdio\.max_message_bytes = 65536, and its request id could not be read/);
    expect(stderr).toContain('stdio server stopping');
  });
});
