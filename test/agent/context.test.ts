import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENTS_MD_MAX_BYTES, environmentContext, loadAgentsMd, openingItems, permissionsText } from '../../src/agent/context.js';
import { buildPolicy } from '../../src/sandbox/index.js';
import { tempDir, tempRepo, type TempDir } from '../support/workspace.js';

let dirs: TempDir[] = [];
afterEach(() => {
  for (const d of dirs) d.cleanup();
  dirs = [];
});

describe('AGENTS.md discovery', () => {
  it('joins the files from the repository root down to cwd, root first, override winning per directory', async () => {
    const outer = tempDir();
    dirs.push(outer);
    outer.write('AGENTS.md', 'OUTSIDE THE REPO\n');
    const repo = tempRepo({ 'AGENTS.md': 'root rules\n', 'pkg/AGENTS.md': 'pkg rules\n', 'pkg/sub/AGENTS.md': 'sub plain\n', 'pkg/sub/AGENTS.override.md': 'sub override\n' });
    dirs.push(repo);
    const found = await loadAgentsMd(repo.path('pkg', 'sub'));
    expect(found?.text).toBe('root rules\n\npkg rules\n\nsub override');
    expect(found?.files).toEqual([repo.path('AGENTS.md'), repo.path('pkg', 'AGENTS.md'), repo.path('pkg', 'sub', 'AGENTS.override.md')]);
    expect(found?.text).not.toContain('OUTSIDE');
  });

  it('outside a repository reads only the cwd', async () => {
    const t = tempDir();
    dirs.push(t);
    t.write('AGENTS.md', 'parent\n');
    t.write('child/AGENTS.md', 'child\n');
    const found = await loadAgentsMd(t.path('child'));
    expect(found?.text).toBe('child');
  });

  it('stops at 32 KiB', async () => {
    const repo = tempRepo({ 'AGENTS.md': `${'x'.repeat(40 * 1024)}\n`, 'a/AGENTS.md': 'never reached\n' });
    dirs.push(repo);
    const found = await loadAgentsMd(repo.path('a'));
    expect(found?.text.startsWith('x'.repeat(1000))).toBe(true);
    expect(found?.text).toContain(`cut at ${AGENTS_MD_MAX_BYTES} bytes`);
    expect(found?.text).not.toContain('never reached');
    expect(Buffer.byteLength(found!.text)).toBeLessThan(AGENTS_MD_MAX_BYTES + 100);
  });

  it('reads AGENTS.md through the read check: a link to agentbox\'s home, a deny_read file or a FIFO is not read', async () => {
    const t = tempDir();
    dirs.push(t);
    const home = t.write('home/config.toml', 'auth_token = "HOME-TOKEN"\n');
    const key = t.write('creds/.ssh/id_ed25519', 'PRIVATE-KEY\n');
    mkdirSync(t.path('ws/a'), { recursive: true });
    mkdirSync(t.path('ws/b'), { recursive: true });
    symlinkSync(home, t.path('ws/a/AGENTS.md'));
    symlinkSync(key, t.path('ws/b/AGENTS.md'));
    execFileSync('mkfifo', [t.path('ws/AGENTS.md')]);
    const policy = buildPolicy({ mode: 'workspace-write', roots: [t.path('ws')], readRoots: [t.path('creds')], tmpDir: t.path('tmp'), home: t.path('home'), denyRead: [t.path('creds/.ssh')] });
    expect(await loadAgentsMd(t.path('ws/a'), policy)).toBeUndefined();
    expect(await loadAgentsMd(t.path('ws/b'), policy)).toBeUndefined();
    expect(await loadAgentsMd(t.path('ws'), policy)).toBeUndefined();
    // Without the checks (no policy) the link would be followed: the test above can fail.
    expect((await loadAgentsMd(t.path('ws/a')))?.text).toContain('HOME-TOKEN');
  });

  it('returns nothing when there is no AGENTS.md', async () => {
    const t = tempDir();
    dirs.push(t);
    mkdirSync(t.path('x'));
    expect(await loadAgentsMd(t.path('x'))).toBeUndefined();
  });
});

describe('the opening of a thread', () => {
  const policy = (mode: 'read-only' | 'workspace-write' | 'danger-full-access', network = false) =>
    buildPolicy({ mode, roots: ['/work/project'], tmpDir: '/tmp/agentbox-x', network });

  it('states the sandbox, network and approval rules in force', () => {
    const tools = new Set(['exec_command', 'apply_patch']);
    const ww = permissionsText(policy('workspace-write'), 'on-request', tools);
    expect(ww).toContain('Sandbox: workspace-write');
    expect(ww).toContain('/work/project');
    expect(ww).toContain('Network access is disabled');
    expect(ww).toContain('sandbox_permissions "require_escalated"');
    expect(permissionsText(policy('read-only'), 'never', tools)).toContain('Never set sandbox_permissions');
    expect(permissionsText(policy('workspace-write', true), 'untrusted', tools)).toContain('Network access is enabled');
    expect(permissionsText(policy('danger-full-access'), 'on-request', tools)).not.toContain('sandbox_permissions');
    // Without a sandbox, untrusted still asks before commands not known to be read-only.
    expect(permissionsText(policy('danger-full-access'), 'untrusted', tools)).toContain('Approval policy: untrusted. Any command not known to be read-only needs the user\'s approval');
    expect(permissionsText(policy('danger-full-access'), 'never', tools)).toContain('Approval policy: never. Commands run without asking');
  });

  it('orders developer rules, AGENTS.md and the environment, with developer instructions and the output format', async () => {
    const repo = tempRepo({ 'AGENTS.md': 'use tabs\n' });
    dirs.push(repo);
    const items = await openingItems({
      cwd: repo.dir,
      policy: buildPolicy({ mode: 'workspace-write', roots: [repo.dir], tmpDir: '/tmp/agentbox-x' }),
      approvalPolicy: 'never',
      toolNames: new Set(['exec_command']),
      developerInstructions: 'Be terse.',
      outputSchema: { type: 'object' },
      now: new Date('2025-06-01T12:00:00Z'),
    });
    expect(items.map((i) => (i.type === 'message' ? i.role : i.type))).toEqual(['developer', 'user', 'user']);
    const [dev, agents, env] = items as Array<{ content: string }>;
    expect(dev!.content).toMatch(/<permissions>[\s\S]*<\/permissions>\n\nBe terse\.\n\nYour final message must be only a JSON value/);
    expect(agents!.content).toBe(`# AGENTS.md instructions for ${repo.dir}\n\n<INSTRUCTIONS>\nuse tabs\n</INSTRUCTIONS>`);
    expect(env!.content).toContain(`<cwd>${repo.dir}</cwd>`);
    expect(env!.content).toContain('<sandbox_mode>workspace-write</sandbox_mode>');
  });

  it('describes the environment', () => {
    const text = environmentContext({ cwd: '/w', policy: policy('read-only'), approvalPolicy: 'never', now: new Date('2025-06-01T12:00:00Z') });
    expect(text).toMatch(/^<environment_context>\n {2}<cwd>\/w<\/cwd>\n {2}<shell>bash<\/shell>\n {2}<current_date>2025-0[56]-\d\d<\/current_date>/);
    expect(text).toContain('<network_access>restricted</network_access>');
  });
});
