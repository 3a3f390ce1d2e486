import { describe, expect, it } from 'vitest';
import { stripControls, stripControlsDeep } from '../../src/terminal/sanitize.js';

describe('stripControls', () => {
  it('keeps plain text, newlines, tabs and non-ASCII', () => {
    expect(stripControls('a\tb\nc — ✓ é')).toBe('a\tb\nc — ✓ é');
  });

  it('removes CSI sequences (colours, cursor moves, clear screen)', () => {
    expect(stripControls('\x1b[31mred\x1b[0m \x1b[2J\x1b[H\x1b[1;1Hx \x1b[?25l')).toBe('red x ');
    expect(stripControls('\x9b2Jy')).toBe('y');
  });

  it('removes OSC sequences ended by BEL or ST, and unterminated ones', () => {
    expect(stripControls('a\x1b]0;owned title\x07b')).toBe('ab');
    expect(stripControls('a\x1b]52;c;ZXZpbA==\x1b\\b')).toBe('ab');
    expect(stripControls('a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b')).toBe('alinkb');
    expect(stripControls('a\x1b]0;never ends')).toBe('a');
    expect(stripControls('a\x1bPq#0;2;0;0;0\x1b\\b')).toBe('ab');
  });

  it('removes two-byte and charset escapes and a lone ESC', () => {
    expect(stripControls('a\x1bcb\x1b(Bc\x1b')).toBe('abc');
  });

  it('removes other C0 and C1 controls, carriage returns and DEL', () => {
    expect(stripControls('a\rb\r\nc\x07d\x08e\x00f\x7fg\x85h\x0bi')).toBe('ab\ncdefghi');
  });

  it('removes bidirectional overrides and isolates, which reorder what is displayed', () => {
    expect(stripControls('x\u202ey\u2066z\u2069')).toBe('xyz');
  });

  it('strips every string of a value, leaving other values alone', () => {
    expect(stripControlsDeep({ a: '\x1b[1mx', b: ['y\x07', 3, null], c: { d: true } })).toEqual({ a: 'x', b: ['y', 3, null], c: { d: true } });
  });
});
