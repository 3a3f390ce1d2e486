// The Policy value: how sandbox.deny_read entries become absolute, real paths.
import { mkdirSync, symlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildPolicy, expandDenyRead } from '../../src/sandbox/index.js';
import { tempDir } from '../support/workspace.js';

describe('expandDenyRead', () => {
  it.each([
    [['~/.ssh', '~', '/srv/secrets', '/srv/../etc/x'], '/home/me', ['/home/me/.ssh', '/home/me', '/srv/secrets', '/etc/x']],
    [['~/.ssh', '/srv/secrets'], undefined, ['/srv/secrets']],
    [[], '/home/me', []],
  ] as const)('expandDenyRead(%j, %s) is %j', (entries, home, expected) => {
    expect(expandDenyRead(entries, home)).toEqual(expected);
  });
});

describe('buildPolicy', () => {
  it('keeps deny_read entries as real paths where they exist, and as given where they do not', () => {
    const user = tempDir('agentbox-userhome-', '/var/tmp');
    try {
      mkdirSync(user.path('dotfiles/ssh'), { recursive: true });
      symlinkSync(user.path('dotfiles/ssh'), user.path('.ssh'));
      const p = buildPolicy({ mode: 'workspace-write', roots: [user.dir], tmpDir: user.dir, denyRead: [user.path('.ssh'), user.path('.aws')] });
      expect(p.denyRead).toEqual([user.path('dotfiles/ssh'), user.path('.aws')]);
      expect(buildPolicy({ mode: 'read-only', roots: [user.dir], tmpDir: user.dir }).denyRead).toEqual([]);
    } finally {
      user.cleanup();
    }
  });
});
