import { describe, expect, it } from 'vitest';
import { approvalMessage, approvalOutcome, decideApproval, isKnownReadOnly, splitCommand } from '../../src/exec/index.js';

describe('decideApproval', () => {
  it.each([
    // policy, mode, escalate, cmd, expected
    ['never', 'workspace-write', false, 'rm -rf build', { kind: 'run', sandboxed: true }],
    ['never', 'workspace-write', true, 'ls', 'refuse'],
    ['never', 'read-only', true, 'ls', 'refuse'],
    ['never', 'danger-full-access', true, 'ls', { kind: 'run', sandboxed: false }],
    ['on-request', 'workspace-write', false, 'rm -rf build', { kind: 'run', sandboxed: true }],
    ['on-request', 'workspace-write', true, 'npm install', { kind: 'ask', sandboxed: false }],
    ['on-request', 'danger-full-access', true, 'npm install', { kind: 'run', sandboxed: false }],
    ['untrusted', 'workspace-write', false, 'ls -la', { kind: 'run', sandboxed: true }],
    ['untrusted', 'workspace-write', false, 'git status && git diff', { kind: 'run', sandboxed: true }],
    ['untrusted', 'workspace-write', false, 'touch x', { kind: 'ask', sandboxed: true }],
    ['untrusted', 'workspace-write', true, 'ls', { kind: 'ask', sandboxed: false }],
    ['untrusted', 'danger-full-access', false, 'touch x', { kind: 'ask', sandboxed: false }],
  ] as const)('%s / %s / escalate=%s: %s', (policy, mode, escalate, cmd, expected) => {
    const d = decideApproval({ policy, mode, escalate, cmd });
    if (expected === 'refuse') {
      expect(d.kind).toBe('refuse');
      if (d.kind === 'refuse') expect(`${d.message} ${d.hint}`).toMatch(/never.*inside the sandbox/s);
    } else expect(d).toEqual(expected);
  });
});

describe('approvalOutcome', () => {
  it('lets only accept through', () => {
    expect(approvalOutcome('accept', { sandboxed: false, timeoutMs: 1000 }).ok).toBe(true);
    for (const answer of ['decline', 'cancel', 'timeout', 'unavailable'] as const) {
      const r = approvalOutcome(answer, { sandboxed: false, timeoutMs: 120_000 });
      expect(r.ok, answer).toBe(false);
      if (!r.ok) expect(r.error.code).toBe(`approval_${answer === 'decline' ? 'declined' : answer === 'cancel' ? 'cancelled' : answer}`);
    }
  });

  it('explains a timeout and a host without elicitation as declines', () => {
    const t = approvalOutcome('timeout', { sandboxed: false, timeoutMs: 120_000 });
    expect(!t.ok && t.error.message).toMatch(/within 120 s.*declined/);
    const u = approvalOutcome('unavailable', { sandboxed: false, timeoutMs: 120_000 });
    expect(!u.ok && u.error.message).toMatch(/elicitation.*declined/);
  });
});

describe('approvalMessage', () => {
  it('names the command, the directory and the justification', () => {
    const m = approvalMessage({ cmd: 'npm install', cwd: '.', justification: 'needs the registry', sandboxed: false, timeoutMs: 60_000 });
    expect(m).toContain('OUTSIDE the sandbox');
    expect(m).toContain('npm install');
    expect(m).toContain('Directory: .');
    expect(m).toContain('Reason given: needs the registry');
  });
});

describe('isKnownReadOnly', () => {
  it.each([
    'ls', 'ls -la src', 'cat a.txt | head -5', 'grep -rn "foo bar" src', 'git status', 'git log --oneline -5', 'git diff HEAD~1',
    'git branch', 'git branch -a', "sed -n '1,20p' file.ts", 'find . -name x.ts', 'wc -l a b && pwd', 'rg TODO', '[ -f a ]', 'uniq a',
  ])('%s is read-only', (cmd) => {
    expect(isKnownReadOnly(cmd)).toBe(true);
  });
  it.each([
    'rm a', 'touch a', 'echo hi > a', 'cat a >> b', 'ls; rm a', 'find . -delete', 'find . -exec rm {} ;', 'sort -o out in', 'git commit -m x',
    'git branch new', 'git -c core.pager=evil log', 'git diff --output=x', 'echo $(rm a)', 'echo `rm a`', 'ls &', 'rg --pre evil x', 'sed -i s/a/b/ f',
    'FOO=1 ls', './script.sh', 'ls *', 'cat "$HOME/x"', 'uniq a b', 'tree -o out', 'xxd -r a b', 'python3 -c "print(1)"', '', 'ls ( ',
  ])('%s is not known read-only', (cmd) => {
    expect(isKnownReadOnly(cmd)).toBe(false);
  });
});

describe('splitCommand', () => {
  it('splits at pipes, lists and newlines and unquotes words', () => {
    expect(splitCommand(`ls -la 'my dir' | grep "x y" && echo done\nwc -l`)).toEqual([
      ['ls', '-la', 'my dir'],
      ['grep', 'x y'],
      ['echo', 'done'],
      ['wc', '-l'],
    ]);
  });
  it('gives up on unbalanced quotes', () => {
    expect(splitCommand(`echo 'oops`)).toBeUndefined();
  });
});
