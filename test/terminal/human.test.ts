import { describe, expect, it } from 'vitest';
import { diffStat, HumanRenderer } from '../../src/terminal/human.js';

describe('diffStat', () => {
  it('counts added and removed lines per file, git and plain diffs alike', () => {
    const diff = [
      'diff --git a/src/a.sql b/src/a.sql',
      'index 1..2 100644',
      '--- a/src/a.sql',
      '+++ b/src/a.sql',
      '@@ -1,3 +1,3 @@',
      ' select 1;',
      '--- a comment that starts with dashes',
      '+-- a better comment',
      ' select 2;',
      'diff --git a/new.txt b/new.txt',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/new.txt',
      '@@ -0,0 +1,2 @@',
      '+one',
      '+two',
      '--- a/gone.txt',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-bye',
      '\\ No newline at end of file',
      '',
    ].join('\n');
    expect(Object.fromEntries(diffStat(diff))).toEqual({
      'src/a.sql': { added: 1, removed: 1 },
      'new.txt': { added: 2, removed: 0 },
      'gone.txt': { added: 0, removed: 1 },
    });
  });
});

describe('HumanRenderer', () => {
  it('shows an assistant message as a note when work follows, and the last one as the answer on stdout', () => {
    let out = '';
    let err = '';
    const r = new HumanRenderer({ out: (t) => (out += t), err: (t) => (err += t), tty: false, color: false });
    r.event({ type: 'item.completed', item: { id: 'i0', type: 'agent_message', text: 'Looking at the tests.' } });
    r.event({ type: 'item.started', item: { id: 'i1', type: 'tool_call', tool: 'grep', arguments: { pattern: 'add(' }, status: 'in_progress' } });
    r.event({ type: 'item.completed', item: { id: 'i2', type: 'agent_message', text: 'Done.' } });
    r.finish({ threadId: 't', status: 'completed', content: 'Done.', diff: '', files_changed: [], usage: { input_tokens: 1, cached_input_tokens: 0, output_tokens: 2, reasoning_tokens: 0 }, duration_ms: 1500, turns: 2 });
    expect(out).toBe('Done.\n');
    expect(err).toContain('• Looking at the tests.\n› grep add(\n');
    expect(err).not.toContain('Done.');
    expect(err).toContain('no files changed');
    expect(err).toContain('completed · thread t');
  });

  it('prints no escape sequence or control character from the model or a command', () => {
    let out = '';
    let err = '';
    const r = new HumanRenderer({ out: (t) => (out += t), err: (t) => (err += t), tty: false, color: false });
    r.event({ type: 'item.started', item: { id: 'i0', type: 'command_execution', command: 'printf \x1b]0;pwned\x07', aggregated_output: '', exit_code: null, status: 'in_progress' } });
    r.event({ type: 'item.completed', item: { id: 'i0', type: 'command_execution', command: 'x', aggregated_output: 'ok\x1b[2J\x1b]52;c;ZXZpbA==\x07\r', exit_code: 0, status: 'completed' } });
    r.finish({ threadId: 't', status: 'failed', error: 'boom\x1b[8m', content: 'Done.\x1b[1A\x1b[K\x07', diff: '', files_changed: [], usage: { input_tokens: 1, cached_input_tokens: 0, output_tokens: 2, reasoning_tokens: 0 }, duration_ms: 1500, turns: 1 });
    expect(out).toBe('Done.\n');
    expect(err).toContain('$ printf\n');
    expect(err).toContain('· ok\n');
    expect(err).toContain('failed: boom ·');
    expect(err + out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  });
});
