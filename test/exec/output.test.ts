import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeadTailBuffer, shapeForModel, truncateForModel } from '../../src/exec/index.js';

const bytes = (s: string) => Buffer.from(s);

describe('HeadTailBuffer', () => {
  it('keeps everything while it fits', () => {
    const b = new HeadTailBuffer(16);
    b.push(bytes('hello '));
    b.push(bytes('world'));
    const d = b.drain();
    expect(Buffer.concat([d.head, d.tail]).toString()).toBe('hello world');
    expect(d.omitted).toBe(0);
    expect(d.total).toBe(11);
  });

  it('keeps the first and last halves and counts what it dropped between them', () => {
    const b = new HeadTailBuffer(8);
    for (const c of 'abcdefghijklmnopqrstuvwxyz') b.push(bytes(c));
    const d = b.drain();
    expect(d.head.toString()).toBe('abcd');
    expect(d.tail.toString()).toBe('wxyz');
    expect(d.omitted).toBe(18);
    expect(d.total).toBe(26);
  });

  it('is empty after a drain', () => {
    const b = new HeadTailBuffer(8);
    b.push(bytes('0123456789'));
    b.drain();
    b.push(bytes('xy'));
    const d = b.drain();
    expect(Buffer.concat([d.head, d.tail]).toString()).toBe('xy');
    expect(d.total).toBe(2);
  });

  it('matches a naive head+tail for any sequence of chunks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 40 }), (cap, chunks) => {
        const b = new HeadTailBuffer(cap);
        for (const c of chunks) b.push(Buffer.from(c));
        const all = Buffer.concat(chunks.map((c) => Buffer.from(c)));
        const d = b.drain();
        const headCap = Math.ceil(cap / 2);
        const tailCap = Math.floor(cap / 2);
        if (all.length <= cap) {
          expect(Buffer.concat([d.head, d.tail])).toEqual(all);
          expect(d.omitted).toBe(0);
        } else {
          expect(d.head).toEqual(all.subarray(0, headCap));
          expect(d.tail).toEqual(all.subarray(all.length - tailCap));
          expect(d.omitted).toBe(all.length - headCap - tailCap);
        }
        expect(d.total).toBe(all.length);
      }),
    );
  });

  it('holds no more than its capacity however much is pushed', () => {
    const b = new HeadTailBuffer(1024);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 100; i++) b.push(chunk);
    const d = b.drain();
    expect(d.head.length + d.tail.length).toBe(1024);
    expect(d.total).toBe(100 * 64 * 1024);
  });
});

describe('truncateForModel', () => {
  it('returns short output unchanged', () => {
    const out = truncateForModel({ head: bytes('line 1\r\nline 2\n'), tail: Buffer.alloc(0), omitted: 0, total: 15 }, 100);
    expect(out).toEqual({ text: 'line 1\nline 2\n', totalBytes: 15, omittedBytes: 0 });
  });

  it('cuts the middle to the budget and says how much was left out', () => {
    const text = 'a'.repeat(50) + 'b'.repeat(50);
    const out = truncateForModel({ head: bytes(text), tail: Buffer.alloc(0), omitted: 0, total: 100 }, 20);
    expect(out.text).toBe(`${'a'.repeat(10)}\n[... 80 bytes omitted ...]\n${'b'.repeat(10)}`);
    expect(out.omittedBytes).toBe(80);
  });

  it('adds what the capture buffer dropped to what the budget cuts', () => {
    const out = truncateForModel({ head: bytes('x'.repeat(30)), tail: bytes('y'.repeat(30)), omitted: 1000, total: 1060 }, 20);
    expect(out.text).toBe(`${'x'.repeat(10)}\n[... 1040 bytes omitted ...]\n${'y'.repeat(10)}`);
    expect(out.omittedBytes).toBe(1040);
  });

  it('never splits a UTF-8 character', () => {
    const text = 'é'.repeat(20); // 2 bytes each
    const out = truncateForModel({ head: bytes(text), tail: Buffer.alloc(0), omitted: 0, total: 40 }, 7);
    expect(out.text).not.toContain('\uFFFD');
    expect(out.text.startsWith('éé')).toBe(true);
  });
});

describe('shapeForModel', () => {
  it.each([
    ['CRLF line ends', 'a\r\nb\r\n', 'a\nb\n'],
    ['a progress bar rewritten with CR keeps its last state', 'start\n 10%\r 50%\r100%\ndone\n', 'start\n100%\ndone\n'],
    ['a CR at the end of a line keeps the text before it', 'saving...\r\n', 'saving...\n'],
    ['colours and bold', '\u001b[1;31merror\u001b[0m: x\n', 'error: x\n'],
    ['cursor moves and line erases', 'a\u001b[2K\u001b[1Gb\u001b[?25l\n', 'ab\n'],
    ['OSC window titles and hyperlinks', '\u001b]0;title\u0007x \u001b]8;;http://e.x\u001b\\link\u001b]8;;\u001b\\\n', 'x link\n'],
    ['plain text is untouched', 'tab\tand [brackets] ok\n', 'tab\tand [brackets] ok\n'],
  ])('%s', (_, input, expected) => {
    expect(shapeForModel(input)).toBe(expected);
  });

  it('is what the model is shown, while the byte counts stay those printed', () => {
    const raw = 'build \u001b[32mok\u001b[0m\n 1%\r99%\r\n';
    const out = truncateForModel({ head: bytes(raw), tail: Buffer.alloc(0), omitted: 0, total: raw.length }, 1000);
    expect(out.text).toBe('build ok\n99%\n');
    expect(out.totalBytes).toBe(raw.length);
    expect(out.omittedBytes).toBe(0);
  });
});
