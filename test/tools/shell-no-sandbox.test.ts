// When bubblewrap is missing, every command fails with a message that says why and how to fix it,
// and nothing runs unsandboxed; `agentbox doctor` says the same. Simulated with a PATH that holds
// bash but no bwrap.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio } from '../support/client.js';
import { parseExec } from '../support/exec.js';
import { CLI } from '../support/paths.js';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';
import { which } from '../../src/util/which.js';

let bin: TempDir;
let ws: TempDir;

beforeAll(() => {
  bin = tempDir('agentbox-nobwrap-');
  ws = tempDir();
  mkdirSync(bin.path('bin'));
  symlinkSync('/bin/bash', bin.path('bin', 'bash'));
});

afterAll(() => {
  bin.cleanup();
  ws.cleanup();
});

describe('without bubblewrap', () => {
  it('fails every command with the reason and the fix, running nothing', async () => {
    const conn = await connectStdio({ args: ['--root', ws.dir], env: { PATH: bin.path('bin') } });
    try {
      for (let i = 0; i < 2; i++) {
        const r = await conn.call('exec_command', { cmd: `echo ran > ${ws.dir}/ran.txt` });
        expect(r.isError).toBe(true);
        expect(r.text).toMatch(/sandbox is unavailable\. bubblewrap \(bwrap\) is not installed\./);
        expect(r.text).toMatch(/never runs commands unsandboxed/);
        expect(r.text).toMatch(/apt-get install -y bubblewrap/);
      }
      expect(existsSync(ws.path('ran.txt'))).toBe(false);
    } finally {
      await conn.close();
    }
  });

  it('grep and glob fall back to the built-in walker; the git tools are not published, and the instructions say why', async () => {
    // rg and git are installed, bwrap is not: rg and git would walk the tree unconfined.
    const tools = tempDir('agentbox-nobwrap-tools-');
    mkdirSync(tools.path('bin'));
    for (const name of ['bash', 'rg', 'git']) symlinkSync(which(name)!, tools.path('bin', name));
    const repo = tempRepo({ 'src/a.txt': 'needle\n' });
    const conn = await connectStdio({ args: ['--root', repo.dir], env: { PATH: tools.path('bin'), GIT_CONFIG_NOSYSTEM: '1' } });
    try {
      expect((await conn.call('grep', { pattern: 'needle' })).text).toContain('src/a.txt');
      expect((await conn.call('glob', { pattern: '**/*.txt' })).text).toContain('src/a.txt');
      // The git tools could only refuse: they are not published, and the server's instructions say why.
      const names = (await conn.client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('grep');
      expect(names.filter((n) => n.startsWith('git_'))).toEqual([]);
      expect(conn.client.getInstructions()).toContain('bubblewrap (bwrap) is not installed, so the git tools, which run git confined to the workspace, are not available');
    } finally {
      await conn.close();
      repo.cleanup();
      tools.cleanup();
    }
  });

  it('still runs commands in danger-full-access, which needs no sandbox', async () => {
    const conn = await connectStdio({ args: ['--root', ws.dir, '--sandbox', 'danger-full-access'], env: { PATH: bin.path('bin') } });
    try {
      const r = parseExec((await conn.call('exec_command', { cmd: 'echo $AGENTBOX_SANDBOX' })).text);
      expect(r.output).toBe('danger-full-access\n');
    } finally {
      await conn.close();
    }
  });

  it('agentbox doctor reports the same fix, and the sandbox state when bwrap is there', async () => {
    const doctor = async (PATH: string) => {
      const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'doctor', '--json', '--root', ws.dir], {
        env: { PATH, HOME: process.env.HOME ?? '/root', AGENTBOX_HOME: bin.path('home') },
      }).catch((err: { stdout: string }) => ({ stdout: err.stdout }));
      return JSON.parse(stdout) as { checks: Array<{ name: string; status: string; detail: string }>; healthy: boolean };
    };
    const missing = await doctor(bin.path('bin'));
    const sandbox = missing.checks.find((c) => c.name === 'sandbox')!;
    expect(sandbox.status).toBe('fix');
    expect(sandbox.detail).toMatch(/not installed.*apt-get install -y bubblewrap.*every command fails/);
    expect(missing.healthy).toBe(false);

    const present = await doctor(process.env.PATH ?? '');
    expect(present.checks.find((c) => c.name === 'sandbox')).toMatchObject({ status: 'ok' });
    expect(present.checks.find((c) => c.name === 'sandbox')?.detail).toMatch(/mode workspace-write.*\.git, \.agentbox; network off/);
    expect(missing.checks.find((c) => c.name === 'search and git')).toMatchObject({ status: 'fix' });
    expect(missing.checks.find((c) => c.name === 'search and git')?.detail).toMatch(/built-in walker.*every git tool fails/);
    expect(present.checks.find((c) => c.name === 'search and git')).toMatchObject({ status: 'ok' });
    for (const name of ['process limit', 'resource limits', 'environment', 'approvals', 'hidden']) {
      expect(present.checks.map((c) => c.name)).toContain(name);
    }
  });
});
