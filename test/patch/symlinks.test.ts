// Symlinks in a patch, as Codex treats them: Delete File and a Move's source act on the link
// itself (the link goes, what it points to stays; a dangling link can be deleted), while Update
// and Add follow links (and a link leading out of the workspace is refused as a write target).
// Undo puts a removed link back as it was.
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { nodePatchIo, type PatchIo } from '../../src/patch/index.js';
import { applyIn } from '../support/patch.js';
import { snapshotTree } from '../support/tree.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let outer: TempDir | undefined;
afterEach(() => outer?.cleanup());

const patch = (...ops: string[]) => `*** Begin Patch\n${ops.join('\n')}\n*** End Patch`;

/** outer/ws is the workspace, with links to a file inside, to a directory, outside, and nowhere. */
function layout(): { ws: string } {
  outer = tempDir('agentbox-links-');
  outer.write('outside/secret.txt', 'secret\n');
  outer.write('ws/target.txt', 'one\ntwo\n');
  outer.write('ws/dir/inner.txt', 'inner\n');
  symlinkSync('target.txt', outer.path('ws/link.txt'));
  symlinkSync('dir', outer.path('ws/link-dir'));
  symlinkSync('../outside/secret.txt', outer.path('ws/out-link'));
  symlinkSync('missing.txt', outer.path('ws/dangling'));
  symlinkSync('../outside/none.txt', outer.path('ws/dangling-out'));
  return { ws: outer.path('ws') };
}

const exists = (p: string) => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

describe('Delete File of a symlink', () => {
  it.each(['link.txt', 'link-dir', 'out-link', 'dangling', 'dangling-out'])('removes the link %s itself and nothing else', async (name) => {
    const { ws } = layout();
    const before = snapshotTree(outer!.dir);
    const r = await applyIn(ws, patch(`*** Delete File: ${name}`));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.text).toBe(`Success. Updated the following files:\nD ${name}`);
    const { [`ws/${name}`]: removed, ...rest } = before;
    expect(removed).toMatchObject({ kind: 'link' });
    expect(snapshotTree(outer!.dir)).toEqual(rest);
  });

  it('puts the link back when a later write fails', async () => {
    const { ws } = layout();
    const before = snapshotTree(outer!.dir);
    const io: PatchIo = { ...nodePatchIo, writeFile: async () => Promise.reject(Object.assign(new Error('EIO: injected'), { code: 'EIO' })) };
    const r = await applyIn(ws, patch('*** Delete File: link.txt', '*** Delete File: dangling', '*** Add File: new.txt', '+x'), { io });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('The files already written were restored; nothing was changed.');
    expect(snapshotTree(outer!.dir)).toEqual(before);
  });

  it('lets a later Add File create a regular file under the deleted link\'s name', async () => {
    const { ws } = layout();
    const r = await applyIn(ws, patch('*** Delete File: link.txt', '*** Add File: link.txt', '+now a file'));
    if (!r.ok) throw new Error(r.error.message);
    expect(lstatSync(`${ws}/link.txt`).isFile()).toBe(true);
    expect(readFileSync(`${ws}/link.txt`, 'utf8')).toBe('now a file\n');
    expect(readFileSync(`${ws}/target.txt`, 'utf8')).toBe('one\ntwo\n');
  });

  it('still refuses a link inside a protected directory', async () => {
    const { ws } = layout();
    mkdirSync(`${ws}/.git`);
    symlinkSync('../target.txt', `${ws}/.git/link`);
    const r = await applyIn(ws, patch('*** Delete File: .git/link'));
    expect(r).toMatchObject({ ok: false, error: { code: 'protected_path' } });
    expect(readlinkSync(`${ws}/.git/link`)).toBe('../target.txt');
  });
});

describe('Move of a symlink', () => {
  it('moves the content the link points to and removes the link, leaving its target alone', async () => {
    const { ws } = layout();
    const r = await applyIn(ws, patch('*** Update File: link.txt', '*** Move to: moved.txt', '@@', ' one', '-two', '+TWO'));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.text.split('\n\n')[0]).toBe('Success. Updated the following files:\nM moved.txt (moved from link.txt)');
    expect(exists(`${ws}/link.txt`)).toBe(false);
    expect(lstatSync(`${ws}/moved.txt`).isFile()).toBe(true);
    expect(readFileSync(`${ws}/moved.txt`, 'utf8')).toBe('one\nTWO\n');
    expect(readFileSync(`${ws}/target.txt`, 'utf8')).toBe('one\ntwo\n');
  });

  it('refuses to move a link that leads out of the workspace (its content is outside), changing nothing', async () => {
    const { ws } = layout();
    const before = snapshotTree(outer!.dir);
    const r = await applyIn(ws, patch('*** Update File: out-link', '*** Move to: copied.txt'));
    expect(r).toMatchObject({ ok: false, error: { code: 'outside_workspace' } });
    expect(snapshotTree(outer!.dir)).toEqual(before);
  });
});

describe('Update and Add through a symlink', () => {
  it('follow a link inside the workspace and keep the link', async () => {
    const { ws } = layout();
    const r = await applyIn(ws, patch('*** Update File: link.txt', '@@', '-one', '+ONE'));
    if (!r.ok) throw new Error(r.error.message);
    expect(readlinkSync(`${ws}/link.txt`)).toBe('target.txt');
    expect(readFileSync(`${ws}/target.txt`, 'utf8')).toBe('ONE\ntwo\n');
  });

  it('refuse a link leading out, even a dangling one', async () => {
    const { ws } = layout();
    const before = snapshotTree(outer!.dir);
    for (const op of ['*** Update File: out-link\n@@\n-secret\n+pwned', '*** Add File: dangling-out\n+pwned', '*** Add File: out-link\n+pwned']) {
      expect(await applyIn(ws, patch(op))).toMatchObject({ ok: false, error: { code: 'outside_workspace' } });
    }
    expect(snapshotTree(outer!.dir)).toEqual(before);
  });
});
