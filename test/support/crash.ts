// The tree and patch the crash tests interrupt: every kind of step a commit makes. In-place
// updates and an Add over a small file (old bytes in the journal), a delete, a deleted symlink and
// an update moved elsewhere (set aside), an Add over a file too large to read (set aside, then
// written), a large file moved unread (renamed) and a large file deleted (set aside), new files in
// new directories, and optionally a heavy new file that makes the commit last long enough for
// timed kills to land inside it. Large files are sparse, so making them costs no disk writes.
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MAX_EDIT_BYTES } from '../../src/fs/index.js';
import type { TreeEntry } from './tree.js';

/** Over the in-memory limit, so the plan neither reads nor keeps these files. */
const LARGE = MAX_EDIT_BYTES + 4096;

export interface CrashFixture {
  patch: string;
  /** Writes the old tree into `dir` (emptied first). */
  reset(dir: string): void;
}

/** The fixture; `heavyBytes` adds a new file of about that size to the patch. */
export function crashFixture(heavyBytes = 0): CrashFixture {
  const heavyLines = Math.ceil(heavyBytes / 64);
  const heavy = Array.from({ length: heavyLines }, (_, i) => `+heavy line ${i} ${'h'.repeat(48)}`);
  const patch = [
    '*** Begin Patch',
    '*** Update File: src/app.py',
    '@@',
    ' def main():',
    '-    print("old")',
    '+    print("new")',
    '*** Add File: fresh/deep/new.txt',
    '+brand new',
    '*** Delete File: gone.txt',
    '*** Delete File: link-to-app',
    '*** Update File: notes.txt',
    '*** Move to: docs/moved/notes.md',
    '@@',
    ' keep',
    '-change me',
    '+changed',
    '*** Update File: big/moved.bin',
    '*** Move to: archive/moved.bin',
    '*** Delete File: big/deleted.bin',
    '*** Add File: big/replaced.bin',
    '+small now',
    '*** Add File: dup.txt',
    '+new dup',
    ...(heavyLines > 0 ? ['*** Add File: heavy.txt', ...heavy] : []),
    '*** End Patch',
  ].join('\n');
  return {
    patch,
    reset(dir) {
      for (const name of readdirSync(dir)) rmSync(path.join(dir, name), { recursive: true, force: true });
      const write = (rel: string, content: string, mode?: number) => {
        mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        writeFileSync(path.join(dir, rel), content);
        if (mode !== undefined) chmodSync(path.join(dir, rel), mode);
      };
      write('src/app.py', 'def main():\n    print("old")\n', 0o755);
      write('notes.txt', 'keep\nchange me\n', 0o600);
      write('gone.txt', 'delete me\n');
      write('dup.txt', 'old dup\n');
      symlinkSync('src/app.py', path.join(dir, 'link-to-app'));
      for (const name of ['moved', 'deleted', 'replaced']) {
        write(`big/${name}.bin`, `${name}: a large file\n`);
        truncateSync(path.join(dir, `big/${name}.bin`), LARGE);
      }
    },
  };
}

/**
 * The tree; a file too large for apply_patch to read is its inode, size and first bytes (the
 * patch only ever renames those, so the very same file must be back where it was), a file over
 * 1 MiB its digest. Without `ino`, for comparing trees made apart (each reset makes new files).
 */
export function treeOf(dir: string, opts: { ino?: boolean } = {}): Record<string, TreeEntry | { kind: 'large'; ino?: number; size: number; head: string }> {
  const out: ReturnType<typeof treeOf> = {};
  for (const rel of (readdirSync(dir, { recursive: true }) as string[]).sort()) {
    const abs = path.join(dir, rel);
    const info = lstatSync(abs);
    if (info.isSymbolicLink()) out[rel] = { kind: 'link', target: readlinkSync(abs) };
    else if (info.isDirectory()) out[rel] = { kind: 'dir', mode: info.mode & 0o7777 };
    else if (info.size > MAX_EDIT_BYTES) out[rel] = { kind: 'large', ...(opts.ino === false ? {} : { ino: info.ino }), size: info.size, head: head(abs) };
    else {
      const bytes = readFileSync(abs);
      const content = bytes.length > 1024 * 1024 ? `sha256:${createHash('sha256').update(bytes).digest('hex')}` : bytes.toString('base64');
      out[rel] = { kind: 'file', bytes: content, mode: info.mode & 0o7777 };
    }
  }
  return out;
}

function head(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64);
    return buf.subarray(0, readSync(fd, buf, 0, 64, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Names below `dir` that a write leaves only while it runs. */
export function leftoverNames(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => /\.agentbox-(tmp|del)$/.test(p));
}
