// Finds where a chunk's lines sit in a file, from strict to loose, as Codex does: models copy
// context with stray trailing spaces, re-indented, or with ASCII where the file has typographic
// punctuation, and a patch should still land. Each level scans every position before the next
// level is tried, so an exact match anywhere beats a loose match earlier in the file.

/** How loosely a sequence matched: 0 exact … 3 typographic punctuation normalised. */
export type MatchLevel = 0 | 1 | 2 | 3;

export const MATCH_LEVELS = ['exact', 'ignoring trailing whitespace', 'ignoring surrounding whitespace', 'normalising typographic punctuation'] as const;

export interface SeekResult {
  index: number;
  level: MatchLevel;
}

type Compare = (fileLine: string, patternLine: string) => boolean;

const COMPARES: Compare[] = [
  (a, b) => a === b,
  (a, b) => a.trimEnd() === b.trimEnd(),
  (a, b) => a.trim() === b.trim(),
  (a, b) => normalisePunctuation(a) === normalisePunctuation(b),
];

/**
 * First index at or after `start` where `pattern` occurs in `lines`. With `eof`, the pattern must
 * end the file (only the last position is tried). An empty pattern matches at `start`.
 */
export function seekSequence(lines: readonly string[], pattern: readonly string[], start: number, eof: boolean): SeekResult | undefined {
  if (pattern.length === 0) return { index: start, level: 0 };
  if (pattern.length > lines.length) return undefined;
  const lastStart = lines.length - pattern.length;
  const from = eof ? lastStart : start;
  if (from > lastStart) return undefined;
  for (let level = 0; level < COMPARES.length; level++) {
    const same = COMPARES[level]!;
    for (let i = from; i <= lastStart; i++) {
      let ok = true;
      for (let p = 0; p < pattern.length; p++) {
        if (!same(lines[i + p]!, pattern[p]!)) {
          ok = false;
          break;
        }
      }
      if (ok) return { index: i, level: level as MatchLevel };
    }
  }
  return undefined;
}

const PUNCTUATION: Record<string, string> = {
  // dashes and hyphens
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2013': '-', '\u2014': '-', '\u2015': '-', '\u2212': '-',
  // single quotes
  '\u2018': "'", '\u2019': "'", '\u201A': "'", '\u201B': "'",
  // double quotes
  '\u201C': '"', '\u201D': '"', '\u201E': '"', '\u201F': '"',
  // non-breaking and other odd spaces
  '\u00A0': ' ', '\u2002': ' ', '\u2003': ' ', '\u2004': ' ', '\u2005': ' ', '\u2006': ' ', '\u2007': ' ',
  '\u2008': ' ', '\u2009': ' ', '\u200A': ' ', '\u202F': ' ', '\u205F': ' ', '\u3000': ' ',
};
const PUNCTUATION_RE = new RegExp(`[${Object.keys(PUNCTUATION).join('')}]`, 'g');

/** Trims and maps typographic dashes, quotes and spaces to their ASCII forms. */
export function normalisePunctuation(s: string): string {
  return s.trim().replace(PUNCTUATION_RE, (c) => PUNCTUATION[c]!);
}
