// The benchmark harness in its smoke mode (BENCH_SMOKE=1, bench/run.mjs): a 300-file workspace,
// agentbox and the raw baselines only, one round. It checks that `npm run bench` still runs end to
// end against the current build (bench/ imports dist/ modules directly, so an API change in src/
// can break it without any other test noticing) and that the report has its rows and verdicts.
// Nothing here depends on how fast anything was: timing is reported, never asserted.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function runSmoke(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'run.mjs')], {
      cwd: ROOT,
      env: { ...process.env, BENCH_SMOKE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench (smoke mode)', () => {
  it('runs every case and reports agentbox beside a raw baseline', { timeout: 90_000 }, async () => {
    const { code, stdout, stderr } = await runSmoke();
    expect(code, stderr.slice(-3000)).toBe(0);
    const cases = [
      'read a 4 KB file', 'first 100 lines of a 9 MB file', 'list a directory', 'glob `', 'grep `', 'exec `true`', 'exec a command printing 50 MB',
      'apply a 50-hunk patch', 'git_status on a', 'server start to initialize', '16 concurrent clients over HTTP',
    ];
    for (const title of cases) {
      const rows = stdout.split('\n').filter((l) => l.startsWith(`| ${title}`));
      expect(rows.some((l) => l.includes('| **agentbox** |')), `agentbox row for ${title}`).toBe(true);
    }
    expect(stdout).toMatch(/^\| read a 4 KB file \| \*raw:\* `cat small\.txt` \| \d/m);
    expect(stdout).toMatch(/^\| exec `true` \| \*raw:\* raw `bwrap … true` \(agentbox's sandbox args\) \| \d/m);
    expect(stdout).toMatch(/^\| exec `true` \| \*raw:\* raw `bwrap … true` from a process of agentbox's size/m);
    expect(stdout).toMatch(/^\| 16 concurrent clients over HTTP, read_file 4 KB \| \*raw:\* bare MCP SDK server/m);
    // One verdict line per target, whatever the verdict.
    const targets = stdout.slice(stdout.indexOf('## Targets'), stdout.indexOf('## Slower'));
    expect(targets.split('\n').filter((l) => /^- (\*\*met\*\*|\*\*NOT met\*\*|not measured): /.test(l))).toHaveLength(7);
  });
});
