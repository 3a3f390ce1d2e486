// Directory trees as values, for asserting that a failed write left everything byte-for-byte as
// it was: every file's bytes and mode, every directory, every symlink's target.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export type TreeEntry = { kind: 'file'; bytes: string; mode: number } | { kind: 'dir'; mode: number } | { kind: 'link'; target: string };

/** Every entry below `dir`, keyed by relative path (file bytes as base64, so equality is exact). */
export function snapshotTree(dir: string): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  const visit = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(dir, r);
      const info = lstatSync(abs);
      if (info.isSymbolicLink()) out[r] = { kind: 'link', target: readlinkSync(abs) };
      else if (info.isDirectory()) {
        out[r] = { kind: 'dir', mode: info.mode & 0o7777 };
        visit(r);
      } else out[r] = { kind: 'file', bytes: readFileSync(abs).toString('base64'), mode: info.mode & 0o7777 };
    }
  };
  visit('');
  return out;
}

/** Regular files below `dir` with their contents as UTF-8 text (or base64 when not valid UTF-8). */
export function readFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rel, entry] of Object.entries(snapshotTree(dir))) {
    if (entry.kind !== 'file') continue;
    const bytes = Buffer.from(entry.bytes, 'base64');
    const text = bytes.toString('utf8');
    out[rel] = Buffer.from(text, 'utf8').equals(bytes) ? text : `base64:${entry.bytes}`;
  }
  return out;
}
