// The three write tools, through the real server, never write where the sandbox forbids: a
// symlink inside the workspace that leads out (to a file, a directory, or nowhere), the protected
// .git and .agentbox directories, and anything at all in read-only mode (where a host is not even
// offered them, and the subagent's copies refuse). Each refusal is an
// isError result and the whole temp tree, outside included, stays byte-for-byte the same. Deleting
// a symlink (as in Codex) removes the link itself, never what it points to.
import { mkdirSync, symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { allTools } from '../../src/server.js';
import { createSessionContext } from '../../src/session.js';
import { connectStdio, type Connected } from '../support/client.js';
import { testRuntime } from '../support/runtime.js';
import { snapshotTree } from '../support/tree.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let conn: Connected | undefined;
let outer: TempDir | undefined;
afterEach(async () => {
  await conn?.close();
  conn = undefined;
  outer?.cleanup();
});

/** outer/ws is the workspace; outer/outside is not. */
function layout(): { outer: TempDir; ws: string } {
  outer = tempDir('agentbox-confine-');
  outer.write('outside/secret.txt', 'secret\n');
  outer.write('ws/inside.txt', 'alpha\nbeta\n');
  outer.write('ws/.git/config', '[core]\n');
  outer.write('ws/.agentbox/state.json', '{}\n');
  symlinkSync('../outside/secret.txt', outer.path('ws/link-to-file'));
  symlinkSync('../outside', outer.path('ws/link-to-dir'));
  symlinkSync('../outside/not-yet.txt', outer.path('ws/dangling'));
  symlinkSync('.git/config', outer.path('ws/link-to-git'));
  return { outer, ws: outer.path('ws') };
}

const patch = (body: string) => `*** Begin Patch\n${body}\n*** End Patch`;

const attempts: Array<[string, string, Record<string, unknown>, RegExp]> = [
  ['write_file through a symlink to a file outside', 'write_file', { path: 'link-to-file', content: 'pwned\n' }, /outside the writable roots/],
  ['write_file into a symlinked directory outside', 'write_file', { path: 'link-to-dir/new.txt', content: 'pwned\n' }, /outside the writable roots/],
  ['write_file through a dangling symlink leading out', 'write_file', { path: 'dangling', content: 'pwned\n' }, /resolves to .*outside.*not-yet.txt\) is outside the writable roots/],
  ['edit_file through a symlink to a file outside', 'edit_file', { path: 'link-to-file', old_string: 'secret', new_string: 'pwned' }, /outside the writable roots/],
  ['apply_patch updating through a symlink outside', 'apply_patch', { patch: patch('*** Update File: link-to-file\n@@\n-secret\n+pwned') }, /outside the writable roots/],
  ['apply_patch adding into a symlinked directory outside', 'apply_patch', { patch: patch('*** Add File: link-to-dir/new.txt\n+pwned') }, /outside the writable roots/],
  ['apply_patch deleting below a symlinked directory outside', 'apply_patch', { patch: patch('*** Delete File: link-to-dir/secret.txt') }, /outside the writable roots/],
  ['apply_patch moving into a symlinked directory outside', 'apply_patch', { patch: patch('*** Update File: inside.txt\n*** Move to: link-to-dir/moved.txt\n@@\n-alpha\n+pwned') }, /outside the writable roots/],
  ['apply_patch adding through a dangling symlink leading out', 'apply_patch', { patch: patch('*** Add File: dangling\n+pwned') }, /resolves to .*outside.*not-yet.txt\) is outside the writable roots/],
  ['write_file into .git', 'write_file', { path: '.git/config', content: 'x' }, /\.git is protected/],
  ['write_file through a symlink into .git', 'write_file', { path: 'link-to-git', content: 'x' }, /\.git is protected/],
  ['edit_file in .git', 'edit_file', { path: '.git/config', old_string: 'core', new_string: 'x' }, /\.git is protected/],
  ['apply_patch updating .git', 'apply_patch', { patch: patch('*** Update File: .git/config\n@@\n-[core]\n+x') }, /\.git is protected/],
  ['apply_patch adding under .agentbox', 'apply_patch', { patch: patch('*** Add File: .agentbox/evil.json\n+{}') }, /\.agentbox is protected/],
  ['apply_patch moving into .git', 'apply_patch', { patch: patch('*** Update File: inside.txt\n*** Move to: .git/hooks/pre-commit\n@@\n-alpha\n+x') }, /\.git is protected/],
  ['apply_patch with an absolute path outside', 'apply_patch', { patch: patch('*** Add File: /var/tmp/agentbox-should-not-exist.txt\n+x') }, /outside the writable roots/],
];

describe('write tools in workspace-write mode', () => {
  it.each(attempts)('refuse %s', async (_, tool, args, message) => {
    const { outer, ws } = layout();
    const before = snapshotTree(outer.dir);
    conn = await connectStdio({ args: ['--root', ws] });
    const r = await conn.call(tool, args);
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(message);
    expect(snapshotTree(outer.dir)).toEqual(before);
  });

  it('still write through a symlink that stays inside the workspace', async () => {
    const { outer, ws } = layout();
    symlinkSync('inside.txt', outer.path('ws/alias.txt'));
    conn = await connectStdio({ args: ['--root', ws] });
    const r = await conn.call('edit_file', { path: 'alias.txt', old_string: 'alpha', new_string: 'ALPHA' });
    expect(r.isError).toBeFalsy();
    expect(snapshotTree(ws)['inside.txt']).toMatchObject({ bytes: Buffer.from('ALPHA\nbeta\n').toString('base64') });
    expect(snapshotTree(ws)['alias.txt']).toEqual({ kind: 'link', target: 'inside.txt' });
  });
});

describe('apply_patch deleting a symlink', () => {
  it('removes only the link, whether it leads out, to a directory outside, or nowhere', async () => {
    const { outer, ws } = layout();
    const before = snapshotTree(outer.dir);
    conn = await connectStdio({ args: ['--root', ws] });
    const r = await conn.call('apply_patch', { patch: patch('*** Delete File: link-to-file\n*** Delete File: link-to-dir\n*** Delete File: dangling') });
    expect(r.isError).toBeFalsy();
    expect(r.text).toBe('Success. Updated the following files:\nD link-to-file\nD link-to-dir\nD dangling');
    const expected = { ...before };
    for (const name of ['link-to-file', 'link-to-dir', 'dangling']) delete expected[`ws/${name}`];
    expect(snapshotTree(outer.dir)).toEqual(expected);
  });
});

describe('write tools in read-only mode', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['write_file', { path: 'new.txt', content: 'x' }],
    ['edit_file', { path: 'inside.txt', old_string: 'alpha', new_string: 'x' }],
    ['apply_patch', { patch: patch('*** Add File: new.txt\n+x') }],
    ['apply_patch', { patch: patch('*** Update File: inside.txt\n@@\n-alpha\n+x') }],
    ['apply_patch', { patch: patch('*** Delete File: inside.txt') }],
  ];

  it.each(cases)('are not published to a host, so %s %j changes nothing', async (tool, args) => {
    const { outer, ws } = layout();
    mkdirSync(outer.path('ws/sub'));
    const before = snapshotTree(outer.dir);
    conn = await connectStdio({ args: ['--root', ws, '--sandbox', 'read-only'] });
    const r = await conn.call(tool, args);
    expect(r.isError).toBe(true);
    expect(r.text).toContain(`Tool ${tool} not found`);
    expect(snapshotTree(outer.dir)).toEqual(before);
  });

  // The same ToolSpecs serve a delegate's subagent, whose session may be read-only: they refuse.
  it.each(cases)('refuse %s %j when called as the subagent calls them', async (tool, args) => {
    const { outer, ws } = layout();
    mkdirSync(outer.path('ws/sub'));
    const before = snapshotTree(outer.dir);
    const runtime = testRuntime({ roots: [ws], sandbox: { mode: 'read-only' } });
    try {
      const session = createSessionContext(runtime);
      const spec = allTools(session).find((t) => t.name === tool)!;
      const r = await spec.run(args, { signal: new AbortController().signal, progress: () => undefined, log: () => undefined, askApproval: async () => 'unavailable' });
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toContain('the sandbox is in read-only mode');
      expect(snapshotTree(outer.dir)).toEqual(before);
    } finally {
      await runtime.shutdown();
    }
  });
});
