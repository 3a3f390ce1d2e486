// `agentbox serve --http --banner` (what `npm start` runs): prints the URL and host snippets,
// serves a real client, and stops cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { connectHttp } from '../support/client.js';
import { CLI } from '../support/paths.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let ws: TempDir | undefined;
afterEach(() => ws?.cleanup());

describe('serve --http --banner', () => {
  it('prints the URL and config snippets, serves clients, and exits 0 on SIGTERM', async () => {
    ws = tempDir();
    ws.write('a.txt', 'served\n');
    const proc = spawn(process.execPath, [CLI, 'serve', '--http', '--port', '0', '--banner', '--root', ws.dir], {
      env: { PATH: process.env.PATH, HOME: ws.dir, AGENTBOX_HOME: ws.path('.home'), AGENTBOX_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    proc.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    let url: string | undefined;
    for (let i = 0; i < 200 && !url; i++) {
      url = /listening on (http:\/\/\S+\/mcp)/.exec(stdout)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 25));
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(stdout).toContain(`claude mcp add --transport http agentbox ${url}`);
    expect(stdout).toContain('[mcp_servers.agentbox]');
    expect(stdout).toContain('"type": "http"');

    const conn = await connectHttp(url!);
    expect((await conn.call('read_file', { path: 'a.txt' })).text).toContain('served');
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
