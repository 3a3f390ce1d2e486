// Finds where a block of lines that did not match most nearly appears in a file, so an error can
// show the model the file's real text there instead of echoing its own guess back. Best effort and
// bounded: a first pass counts lines equal up to surrounding whitespace at every offset, a second
// scores the best few offsets by character-bigram similarity.

export interface ClosestWindow {
  /** 0-based line where the window starts. */
  start: number;
  /** Mean similarity of the compared lines, 0..1. */
  score: number;
  /** Index in the pattern of the first line that differs there (ignoring surrounding whitespace), if any. */
  firstDiff?: number;
}

/** Pattern lines compared per offset; keeps a long block from making this quadratic. */
const PROBE_LINES = 64;
/** Offsets rescored with bigram similarity after the cheap first pass. */
const CANDIDATES = 24;

/** 1 for lines equal up to surrounding whitespace, else the Dice coefficient of their character bigrams. */
export function lineSimilarity(a: string, b: string): number {
  const x = a.trim();
  const y = b.trim();
  if (x === y) return 1;
  if (x.length < 2 || y.length < 2) return 0;
  const grams = new Map<string, number>();
  for (let i = 0; i < x.length - 1; i++) {
    const g = x.slice(i, i + 2);
    grams.set(g, (grams.get(g) ?? 0) + 1);
  }
  let shared = 0;
  for (let i = 0; i < y.length - 1; i++) {
    const g = y.slice(i, i + 2);
    const n = grams.get(g);
    if (n) {
      shared++;
      grams.set(g, n - 1);
    }
  }
  return (2 * shared) / (x.length - 1 + (y.length - 1));
}

/** The window of `lines` (starting at or after `from`) that best resembles `pattern`. */
export function closestWindow(lines: readonly string[], pattern: readonly string[], from = 0): ClosestWindow | undefined {
  const probe = pattern.slice(0, PROBE_LINES);
  if (probe.length === 0 || from >= lines.length) return undefined;
  const trimmedPattern = probe.map((l) => l.trim());
  const last = Math.max(from, lines.length - probe.length);

  // Pass 1: lines equal up to whitespace, at every offset.
  const cheap: Array<{ start: number; score: number }> = [];
  for (let s = from; s <= last; s++) {
    let score = 0;
    for (let i = 0; i < probe.length && s + i < lines.length; i++) {
      if (lines[s + i]!.trim() === trimmedPattern[i]) score++;
    }
    cheap.push({ start: s, score });
  }
  let candidates: number[];
  if (cheap.some((c) => c.score > 0)) {
    candidates = cheap
      .sort((a, b) => b.score - a.score || a.start - b.start)
      .slice(0, CANDIDATES)
      .map((c) => c.start);
  } else {
    // Nothing equal anywhere: rank offsets by the first non-blank pattern line alone.
    const anchor = trimmedPattern.findIndex((l) => l !== '');
    if (anchor === -1) return undefined;
    const ranked: Array<{ start: number; score: number }> = [];
    for (let s = from; s <= last; s++) {
      const line = lines[s + anchor];
      if (line !== undefined) ranked.push({ start: s, score: lineSimilarity(line, probe[anchor]!) });
    }
    candidates = ranked
      .sort((a, b) => b.score - a.score || a.start - b.start)
      .slice(0, CANDIDATES)
      .map((c) => c.start);
  }

  let best: ClosestWindow | undefined;
  for (const start of candidates) {
    let total = 0;
    let firstDiff: number | undefined;
    for (let i = 0; i < probe.length; i++) {
      const line = lines[start + i];
      const sim = line === undefined ? 0 : lineSimilarity(line, probe[i]!);
      if (sim < 1 && firstDiff === undefined) firstDiff = i;
      total += sim;
    }
    const score = total / probe.length;
    if (!best || score > best.score || (score === best.score && start < best.start)) {
      best = firstDiff === undefined ? { start, score } : { start, score, firstDiff };
    }
  }
  return best && best.score > 0 ? best : undefined;
}

/** Lines `from..to` (0-based, exclusive end) numbered from 1 for a model, long lines cut. */
export function numberedLines(lines: readonly string[], from: number, to: number, maxLineChars = 240): string {
  const end = Math.min(to, lines.length);
  const width = String(end).length;
  const out: string[] = [];
  for (let i = Math.max(0, from); i < end; i++) {
    const line = lines[i]!;
    const shown = line.length > maxLineChars ? `${line.slice(0, maxLineChars)}… [cut]` : line;
    out.push(`${String(i + 1).padStart(width)}\t${shown}`);
  }
  return out.join('\n');
}
