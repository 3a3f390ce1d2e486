import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeadTailBuffer, truncateForModel } from '../../src/exec/index.js';

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
