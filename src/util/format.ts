// Small formatting helpers shared by the tools' text output.

/** 1536 -> "1.5 KB"; bytes are shown as bytes below 1 KiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** A string quoted back to the model, cut to `max` characters (a long line from a minified file, a wrong patch). */
export function clip(s: string, max = 120): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** The first line of `text`; a longer one is cut to `max - 3` characters and `…`. */
export function firstLine(text: string, max = 160): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 3)}…` : line;
}

/** A path as the model should see it: relative to `base` when inside it, else absolute. */
export function displayPath(base: string | undefined, absolute: string): string {
  if (!base) return absolute;
  if (absolute === base) return '.';
  const prefix = base.endsWith('/') ? base : `${base}/`;
  return absolute.startsWith(prefix) ? absolute.slice(prefix.length) : absolute;
}
