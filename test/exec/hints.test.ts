import { describe, expect, it } from 'vitest';
import { sandboxHint, type HintContext } from '../../src/exec/hints.js';

const ctx: HintContext = { mode: 'workspace-write', network: false, escalation: true, gitTools: true };

describe('sandboxHint', () => {
  it.each([
    ["bash: line 1: .git/config: Read-only file system", /git tools \(git_add, git_commit/],
    ["error: could not lock config file /w/repo/.git/config: Read-only file system", /git tools/],
    ["fatal: Unable to create '/w/repo/.git/index.lock': Read-only file system", /git tools/],
    ["touch: cannot touch '/etc/x': Read-only file system", /writes only in the workspace roots and \/tmp, or retry with sandbox_permissions: "require_escalated"/],
    ["curl: (6) Could not resolve host: example.com", /network is off in the sandbox.*--network, or retry with sandbox_permissions/],
    ["fatal: unable to access 'https://github.com/x/y/': Could not resolve host: github.com", /network is off/],
    ['Error: getaddrinfo EAI_AGAIN registry.npmjs.org', /network is off/],
    ['bash: line 1: example.com: Temporary failure in name resolution', /network is off/],
    ['Error: connect ECONNREFUSED 127.0.0.1:5432', /network is off/],
    ['bash: connect: Connection refused', /network is off/],
  ])('%s', (output, expected) => {
    const hint = sandboxHint(`some output\n${output}\nmore`, ctx);
    expect(hint).toMatch(expected);
    expect(hint!.split('\n')).toHaveLength(1);
  });

  it('says nothing when the sandbox does not explain the failure', () => {
    for (const out of ['error TS2304: Cannot find name x', 'npm ERR! missing script: test', 'Permission denied', '']) expect(sandboxHint(out, ctx)).toBeUndefined();
  });

  it('says nothing about the network when it is on, and never offers escalation when it is disabled', () => {
    expect(sandboxHint('curl: (6) Could not resolve host: example.com', { ...ctx, network: true })).toBeUndefined();
    expect(sandboxHint("touch: cannot touch '/etc/x': Read-only file system", { ...ctx, escalation: false })).not.toMatch(/require_escalated/);
  });

  it('names the mode in read-only, and what git can do without the git tools', () => {
    expect(sandboxHint('a.txt: Read-only file system', { ...ctx, mode: 'read-only' })).toMatch(/^The sandbox is read-only: only \/tmp is writable/);
    expect(sandboxHint('.git/HEAD: Read-only file system', { ...ctx, gitTools: false })).toMatch(/git commands that write cannot run here/);
  });

  it('uses the first of two causes in the output', () => {
    expect(sandboxHint("x: Read-only file system\ncurl: (6) Could not resolve host: a", ctx)).toMatch(/writes only/);
    expect(sandboxHint("curl: (6) Could not resolve host: a\nx: Read-only file system", ctx)).toMatch(/network is off/);
  });
});
