// Lists a directory as a small tree: entries with their type and size, in a fixed order
// (directories first, then by name), down to `depth` levels, capped at `limit` entries.
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { SafePath } from '../sandbox/index.js';
import { formatBytes } from '../util/format.js';
import { fail, ok, type Result } from '../util/result.js';
import { statFailure } from './read.js';

/** Directories listed but never expanded: they are large and rarely what a model wants. */
const NOT_EXPANDED = new Set(['.git', 'node_modules']);

export async function listDirectory(
  dir: SafePath,
  shownPath: string,
  opts: { depth: number; limit: number },
): Promise<Result<string>> {
  try {
    const info = await lstat(dir);
    if (!info.isDirectory()) return fail('not_a_directory', `${shownPath} is not a directory.`, 'Use read_file to read a file.');
  } catch (err) {
    return statFailure(err, shownPath);
  }
  const lines: string[] = [];
  let count = 0;
  let truncated = false;

  const visit = async (current: string, level: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch (err) {
      lines.push(`${'  '.repeat(level)}[cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}]`);
      return;
    }
    entries.sort((a, b) => {
      const da = a.isDirectory() ? 0 : 1;
      const db = b.isDirectory() ? 0 : 1;
      return da - db || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    });
    for (const entry of entries) {
      if (count >= opts.limit) {
        truncated = true;
        return;
      }
      count++;
      const abs = path.join(current, entry.name);
      const indent = '  '.repeat(level);
      if (entry.isSymbolicLink()) {
        const target = await readlink(abs).catch(() => '?');
        lines.push(`${indent}${entry.name} -> ${target}`);
      } else if (entry.isDirectory()) {
        const skip = NOT_EXPANDED.has(entry.name) && level + 1 < opts.depth;
        lines.push(`${indent}${entry.name}/${skip ? ' (not expanded)' : ''}`);
        if (level + 1 < opts.depth && !skip) await visit(abs, level + 1);
      } else if (entry.isFile()) {
        const size = await lstat(abs).then((s) => s.size, () => undefined);
        lines.push(`${indent}${entry.name}${size === undefined ? '' : `  ${formatBytes(size)}`}`);
      } else {
        lines.push(`${indent}${entry.name}  (special file)`);
      }
    }
  };
  await visit(dir, 0);

  const header = `${shownPath}/: ${count} entr${count === 1 ? 'y' : 'ies'}${opts.depth > 1 ? ` (depth ${opts.depth})` : ''}`;
  const note = truncated ? `\n[stopped at the limit of ${opts.limit} entries; list a subdirectory, lower depth or raise limit]` : '';
  return ok(`${header}${note}\n${lines.join('\n')}`);
}
