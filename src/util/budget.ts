// The reply budget: the most characters one tool result may carry to the host's model
// (output.max_chars). Hosts cut or divert results above their own limit (Claude Code keeps about
// 50,000 characters inline, then saves the result to a file the model never reads), so every tool
// that returns a payload stays within this budget and says, when it cut, what the next call is.

/** Characters kept free for a result's header and notes when a payload is sized to the budget. */
export const BUDGET_RESERVE = 1_000;

/** The payload room left in `budget` for a result whose header and notes take up to BUDGET_RESERVE. */
export function payloadRoom(budget: number, narrower?: number): number {
  const room = Math.max(500, budget - BUDGET_RESERVE);
  return narrower === undefined ? room : Math.min(room, narrower);
}

/**
 * `text` cut at its last whole line within `max` characters (the note included), followed by the
 * note that `noteFor(omittedLines)` writes. Unchanged when it fits.
 */
export function fitLines(text: string, max: number, noteFor: (omittedLines: number) => string): string {
  if (text.length <= max) return text;
  // The note's length depends on the count only through its digits: size it for the worst case.
  const room = Math.max(0, max - noteFor(text.split('\n').length).length - 1);
  const nl = text.lastIndexOf('\n', room);
  const kept = nl > 0 ? text.slice(0, nl) : text.slice(0, room);
  const omitted = text.slice(kept.length).split('\n').filter((l) => l !== '').length;
  return `${kept}\n${noteFor(Math.max(1, omitted))}`;
}

/** "30,000" */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * Drops items from the end of the longest of `data`'s `lists` until its JSON fits `max`
 * characters; returns how many were dropped (0 when it already fit). Mutates `data`.
 */
export function fitLists(data: Record<string, unknown>, lists: readonly string[], max: number): number {
  let dropped = 0;
  let size = JSON.stringify(data).length;
  while (size > max) {
    let longest: unknown[] | undefined;
    for (const key of lists) {
      const list = data[key];
      if (Array.isArray(list) && list.length > 0 && (!longest || list.length > longest.length)) longest = list;
    }
    if (!longest) break;
    // Drop a tenth at a time (at least one), re-measuring after each cut.
    const n = Math.max(1, Math.floor(longest.length / 10));
    longest.splice(longest.length - n, n);
    dropped += n;
    size = JSON.stringify(data).length;
  }
  return dropped;
}
