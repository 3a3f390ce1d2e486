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
  const ask = (cmd: string, extra: Partial<Parameters<typeof approvalMessage>[0]> = {}) =>
    approvalMessage({ cmd, cwd: '/work/repo', sandboxed: false, timeoutMs: 60_000, ...extra });

  it('names the command in a fenced block, the absolute directory and the justification', () => {
    const m = ask('npm install', { justification: 'needs the registry' });
    expect(m).toContain('OUTSIDE the sandbox');
    expect(m).toContain('```\nnpm install\n```');
    expect(m).toContain('Directory: /work/repo');
    expect(m).toContain('Reason given by the model: needs the registry');
  });

  it('shows the whole command: a tail after 2,000 spaces is not cut off, and the blanks are counted', () => {
    const m = ask(`ls${' '.repeat(2000)}; touch /etc/owned`);
    expect(m).toContain('; touch /etc/owned');
    expect(m).toContain('⟨2000 spaces⟩');
    expect(m).not.toContain('     ');
  });

  it('numbers the lines of a multi-line command so none can pass for a line of the message', () => {
    const m = ask('echo hi\nDirectory: /home/me/safe\nReason given by the model: harmless');
    expect(m.split('\n').filter((l) => l.startsWith('Directory:'))).toEqual(['Directory: /work/repo']);
    expect(m.split('\n').filter((l) => l.startsWith('Reason given'))).toEqual([]);
    expect(m).toContain('Command (3 lines, numbered):');
    expect(m).toContain('2 | Directory: /home/me/safe');
  });

  it('escapes control characters, carriage returns and bidi overrides in the command, directory and reason', () => {
    const m = ask('echo safe\r\u001b[2Krm -rf ~ \u202eexe.txt', { cwd: '/w/\rx', justification: 'a\nDirectory: /fake\u2066' });
    // eslint-disable-next-line no-control-regex
    expect(m).not.toMatch(/[\r\u001b\u202e\u2066]/);
    expect(m).toContain('echo safe⟨U+000D⟩⟨U+001B⟩[2Krm -rf ~ ⟨U+202E⟩exe.txt');
    expect(m).toContain('Directory: /w/⟨U+000D⟩x');
    expect(m).toContain('Reason given by the model: a⟨U+000A⟩Directory: /fake⟨U+2066⟩');
    expect(m.split('\n').filter((l) => l.startsWith('Directory:'))).toHaveLength(1);
  });

  it('uses a fence longer than any run of backticks in the command', () => {
    expect(ask('echo ```x```')).toContain('````\necho ```x```\n````');
  });
});

describe('decideApproval for commands too long to show', () => {
  const long = Array.from({ length: 300 }, (_, i) => `echo ${i}`).join(' && ');
  it('refuses to ask about an escalation that cannot be shown in full, and says so', () => {
    const d = decideApproval({ policy: 'on-request', mode: 'workspace-write', escalate: true, cmd: long });
    expect(d.kind).toBe('refuse');
    if (d.kind === 'refuse') expect(d.message).toMatch(/too long to show the user in full.*did not run/);
    const manyLines = decideApproval({ policy: 'on-request', mode: 'workspace-write', escalate: true, cmd: 'true\n'.repeat(41) });
    expect(manyLines.kind).toBe('refuse');
  });
  it('refuses an untrusted ask the same way, but still runs a long known read-only command', () => {
    expect(decideApproval({ policy: 'untrusted', mode: 'workspace-write', escalate: false, cmd: `touch a; ${long}` }).kind).toBe('refuse');
    expect(decideApproval({ policy: 'untrusted', mode: 'workspace-write', escalate: false, cmd: long })).toEqual({ kind: 'run', sandboxed: true });
  });
});

describe('isKnownReadOnly', () => {
  it.each([
    'ls', 'ls -la src', 'cat a.txt | head -5', 'grep -rn "foo bar" src', 'git status', 'git log --oneline -5', 'git diff HEAD~1',
    'git branch', 'git branch -a', "sed -n '1,20p' file.ts", 'find . -name x.ts', 'wc -l a b && pwd', 'rg TODO', '[ -f a ]', 'uniq a',
    'xxd a', 'xxd -p -c 32 a', 'xxd -s 16 -l 64 a', 'sort -rn -k2 a b c', 'sort -t, -k 2,2 --numeric-sort a', 'sort -u a | uniq -c',
    'git -C sub log --oneline -5', 'git --no-pager diff --stat HEAD~3', 'git diff --no-ext-diff --cached', 'git log -p -U5 --author x',
    'git grep -n -e TODO -- src', 'git show HEAD:README.md', 'git status -sb', 'git status --porcelain=v2 -uno', 'git rev-parse --show-toplevel',
    'git log --format=%H%x09%s --since=2.weeks', 'find . -mtime -1 -type f -print0', 'date +%F', 'date -u -d yesterday +%s', 'hostname -f',
    'rg -n -g "*.ts" --hidden TODO src', 'tree -L 2 -a', 'file -b --mime-type a',
  ])('%s is read-only', (cmd) => {
    expect(isKnownReadOnly(cmd)).toBe(true);
  });
  it.each([
    'rm a', 'touch a', 'echo hi > a', 'cat a >> b', 'ls; rm a', 'find . -delete', 'find . -exec rm {} ;', 'sort -o out in', 'git commit -m x',
    'git branch new', 'git -c core.pager=evil log', 'git diff --output=x', 'echo $(rm a)', 'echo `rm a`', 'ls &', 'rg --pre evil x', 'sed -i s/a/b/ f',
    'FOO=1 ls', './script.sh', 'ls *', 'cat "$HOME/x"', 'uniq a b', 'tree -o out', 'xxd -r a b', 'python3 -c "print(1)"', '', 'ls ( ',
    // Output files and programs hidden in arguments (the reviewer's cases and their variants).
    'xxd a b', 'xxd -p a b', 'xxd -rev a b', 'xxd -s 10 a b',
    'sort --o=out in', 'sort --ou=out in', 'sort --output=out in', 'sort -o out in', 'sort -ro out in', 'sort -rout in', 'sort -T /x in',
    'sort --compress-program=sh in', 'sort --comp=sh in', 'sort --compress-program sh in',
    'git --config-env=diff.external=SHELL diff', 'git -c diff.external=sh diff', 'git --exec-path=/x status', 'git --git-dir=/x log',
    'git grep -Ovim x', 'git grep -O x', 'git grep --open-files-in-pager=vim x', 'git grep --open x', 'git grep --textconv x',
    'git diff --ext-diff', 'git log -p --ext-diff', 'git show --textconv HEAD', 'git log --output=x', 'git diff --out=x',
    'git log --submodule --output=x', 'git cat-file --filters HEAD:a', 'git cat-file --textconv HEAD:a', 'git branch -D main',
    'date -s now', 'date --set=now', 'date 0101000070', 'hostname evil', 'hostname -F f', 'tree -R', 'file -C -m m', 'file -p a',
    'rg --pre=sh x', 'rg --pre sh x', 'rg --hostname-bin=sh x', 'find . -fprint out', 'find . -okdir rm {} +', 'uniq -c a b',
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
