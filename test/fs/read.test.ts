// readFileForModel on files above the whole-read size (1 MiB), which it reads chunk by chunk
// (64 KiB) and only as far as the requested window: line numbers, UTF-8 characters split between
// two chunks, windows past the first chunk, lines longer than a chunk, and a FIFO that must not block.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileForModel } from '../../src/fs/index.js';
import type { SafePath } from '../../src/sandbox/index.js';
import { tempDir, type TempDir } from '../support/workspace.js';

const LIMITS = { maxLines: 2000, maxBytes: 256 * 1024 };

describe('readFileForModel on a large file', () => {
  let ws: TempDir;
  // 3-byte characters at every position mod 3 around each 64 KiB boundary: with 20-character
  // lines ("€€€…" plus a number), some character always straddles a chunk edge.
  const lines = Array.from({ length: 60_000 }, (_, i) => `${'€'.repeat(6)} ${String(i + 1).padStart(6, '0')}`);
  const read = async (file: string, opts: { offset?: number; limit?: number }) => {
    const r = await readFileForModel(ws.path(file) as SafePath, file, opts, LIMITS);
    if (!r.ok) throw new Error(r.error.message);
    if (r.value.kind !== 'text') throw new Error('not text');
    return r.value.text.split('\n');
  };

  beforeAll(() => {
    ws = tempDir();
    ws.write('big.txt', `${lines.join('\n')}\n`);
    ws.write('wide.txt', `${'w'.repeat(200_000)}\nafter the wide line\n${'filler\n'.repeat(200_000)}`);
    execFileSync('mkfifo', [ws.path('pipe')]);
  });
  afterAll(() => ws.cleanup());

  it('reads the first lines, from the first chunk only', async () => {
    const out = await read('big.txt', { limit: 3 });
    expect(out[0]).toMatch(/^big\.txt: lines 1-3, /);
    expect(out).toContain(`1\t${lines[0]}`);
    expect(out).toContain(`3\t${lines[2]}`);
  });

  it('keeps every character whole across chunk boundaries, far into the file', async () => {
    const out = await read('big.txt', { offset: 30_001, limit: 2000 });
    const body = out.filter((l) => /^\d+\t/.test(l));
    expect(body).toHaveLength(2000);
    body.forEach((l, i) => expect(l).toBe(`${30_001 + i}\t${lines[30_000 + i]}`));
    expect(out.join('\n')).not.toContain('\uFFFD');
  });

  it('reads the last line of a file that does not end in a newline', async () => {
    ws.write('no-eol.txt', `${lines.join('\n')}`);
    const out = await read('no-eol.txt', { offset: 59_999 });
    expect(out.slice(-2)).toEqual([`59999\t${lines[59_998]}`, `60000\t${lines[59_999]}`]);
  });

  it('cuts a line longer than a chunk and reads on after it', async () => {
    const out = await read('wide.txt', { limit: 2 });
    // Memory stays flat on an enormous line, so the count of what was cut is a lower bound.
    expect(out.find((l) => l.startsWith('1\t'))).toMatch(new RegExp(`^1\t${'w'.repeat(2000)}… \\[\\d+ more characters\\]$`));
    expect(out).toContain('2\tafter the wide line');
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const r = await readFileForModel(ws.path('pipe') as SafePath, 'pipe', {}, LIMITS);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('not a regular file');
  });
});
