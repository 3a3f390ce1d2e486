import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { codexArgs, codexBinary, killTree, shortCommand } from '../../src/agent/codex.js';
import { descendants, isRunning } from '../../src/exec/tree.js';

describe('codexArgs', () => {
  it('maps a new thread\'s parameters to codex exec flags, the prompt read from stdin', () => {
    expect(
      codexArgs({
        prompt: 'ignored: it goes to stdin',
        cwd: '/w',
        model: 'gpt-5.5',
        provider: 'azure',
        sandbox: 'workspace-write',
        network: true,
        reasoningEffort: 'high',
        developerInstructions: 'Say "hi"\nthen stop',
        instructionsFile: '/t/base.md',
        outputSchemaFile: '/t/schema.json',
      }),
    ).toEqual([
      'exec', '--json', '--skip-git-repo-check', '-C', '/w', '-s', 'workspace-write',
      '-c', 'approval_policy="never"',
      '-m', 'gpt-5.5',
      '-c', 'model_provider="azure"',
      '-c', 'model_reasoning_effort="high"',
      '-c', 'sandbox_workspace_write.network_access=true',
      '-c', 'developer_instructions="Say \\"hi\\"\\nthen stop"',
      '-c', 'model_instructions_file="/t/base.md"',
      '--output-schema', '/t/schema.json',
      '-',
    ]);
  });

  it('resumes a thread with exec resume (no -C or -s there: the cwd and sandbox_mode instead)', () => {
    expect(codexArgs({ prompt: 'p', cwd: '/w', resumeId: '01a2-id', sandbox: 'read-only', network: false })).toEqual([
      'exec', 'resume', '--json', '--skip-git-repo-check', '-c', 'sandbox_mode="read-only"', '-c', 'approval_policy="never"', '01a2-id', '-',
    ]);
  });

  it('leaves model and provider to Codex\'s own config when not given', () => {
    const args = codexArgs({ prompt: 'p', cwd: '/w', sandbox: 'danger-full-access', network: false });
    expect(args).not.toContain('-m');
    expect(args.join(' ')).not.toContain('model_provider');
    expect(args.join(' ')).not.toContain('network_access');
  });
});

describe('codexBinary', () => {
  it('names codex.path when it is set but not executable, and how to install otherwise', () => {
    expect(codexBinary('/usr/bin/codex', undefined)).toEqual({ ok: true, value: '/usr/bin/codex' });
    const configured = codexBinary(undefined, '/opt/codex');
    expect(!configured.ok && configured.error.message).toContain('codex.path = "/opt/codex"');
    const missing = codexBinary(undefined, undefined);
    expect(!missing.ok && missing.error.hint).toContain('npm install -g @openai/codex');
  });
});

describe('shortCommand', () => {
  it('shows the command the model wrote, not Codex\'s shell wrapper', () => {
    expect(shortCommand("/bin/bash -lc 'npm test'")).toBe('npm test');
    expect(shortCommand("/bin/bash -lc 'echo '\\''hi'\\'''")).toBe("echo 'hi'");
    expect(shortCommand('git status')).toBe('git status');
  });
});

describe('killTree', () => {
  it('kills the whole tree: a grandchild in a session of its own that ignores SIGTERM too', async () => {
    const child = spawn('sh', ['-c', `setsid sh -c 'trap "" TERM; exec sleep 1000' & echo $!; wait`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const grandchild = await new Promise<number>((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
    const isSleep = () => {
      try {
        return readFileSync(`/proc/${grandchild}/cmdline`, 'utf8').startsWith('sleep');
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 100 && !isSleep(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(isSleep()).toBe(true);
    expect(descendants(child.pid!)).toContain(grandchild);
    await killTree(child.pid!, exited);
    for (let i = 0; i < 50 && isRunning(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
    expect(isRunning(grandchild)).toBe(false);
  });
});
