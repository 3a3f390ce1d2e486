// Locating a chunk's lines: exact first, then ignoring trailing whitespace, then surrounding
// whitespace, then typographic punctuation; each level over the whole file before the next.
import { describe, expect, it } from 'vitest';
import { normalisePunctuation, seekSequence } from '../../src/patch/index.js';

describe('seekSequence', () => {
  it.each([
    ['an exact match', ['foo', 'bar', 'baz'], ['bar', 'baz'], { index: 1, level: 0 }],
    ['a match ignoring trailing whitespace', ['foo   ', 'bar\t\t'], ['foo', 'bar'], { index: 0, level: 1 }],
    ['a match ignoring surrounding whitespace', ['    foo   ', '   bar\t'], ['foo', 'bar'], { index: 0, level: 2 }],
    ['a match normalising typographic punctuation', ['say \u201chi\u201d \u2014 ok'], ['say "hi" - ok'], { index: 0, level: 3 }],
    ['a match with non-breaking spaces', ['a\u00a0b'], ['a b'], { index: 0, level: 3 }],
  ])('finds %s', (_, lines, pattern, expected) => {
    expect(seekSequence(lines, pattern, 0, false)).toEqual(expected);
  });

  it('prefers an exact match later in the file over a loose one earlier', () => {
    expect(seekSequence(['  x', 'x'], ['x'], 0, false)).toEqual({ index: 1, level: 0 });
  });

  it('searches from the start position only', () => {
    expect(seekSequence(['x', 'y', 'x'], ['x'], 1, false)).toEqual({ index: 2, level: 0 });
    expect(seekSequence(['x', 'y'], ['x'], 1, false)).toBeUndefined();
  });

  it('with eof, matches only at the end of the file', () => {
    expect(seekSequence(['a', 'b', 'a', 'b', 'c'], ['a', 'b'], 0, true)).toBeUndefined();
    expect(seekSequence(['a', 'b', 'a', 'b'], ['a', 'b'], 0, true)).toEqual({ index: 2, level: 0 });
  });

  it('returns the start for an empty pattern and nothing for a pattern longer than the file', () => {
    expect(seekSequence(['a'], [], 0, false)).toEqual({ index: 0, level: 0 });
    expect(seekSequence(['just one line'], ['too', 'many', 'lines'], 0, false)).toBeUndefined();
  });

  it('does not match different text at any level', () => {
    expect(seekSequence(['alpha', 'beta'], ['gamma'], 0, false)).toBeUndefined();
  });

  it('normalises dashes, quotes and odd spaces to ASCII', () => {
    expect(normalisePunctuation(' \u2018a\u2019 \u201cb\u201d c\u2013d\u2212e\u3000f ')).toBe('\'a\' "b" c-d-e f');
  });
});
