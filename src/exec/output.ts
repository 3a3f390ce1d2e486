// Output capture and truncation. A command may print gigabytes; agentbox keeps a fixed-size head
// and tail of what has not been read yet (HeadTailBuffer), so memory stays flat, and the model
// sees that cut once more in the middle to its byte budget (truncateForModel), with a note of
// how much was left out.

/** Default capture size per session: 1 MiB, half head, half tail. */
export const CAPTURE_BYTES = 1024 * 1024;

/** Keeps the first and the last `capacity / 2` bytes of everything pushed; counts what falls between. */
export class HeadTailBuffer {
  readonly #headCap: number;
  readonly #tailCap: number;
  #head: Buffer;
  #headLen = 0;
  #tail: Buffer;
  /** Index in #tail of the oldest byte; the ring holds #tailLen bytes. */
  #tailStart = 0;
  #tailLen = 0;
  #total = 0;

  constructor(capacity = CAPTURE_BYTES) {
    this.#headCap = Math.ceil(capacity / 2);
    this.#tailCap = Math.floor(capacity / 2);
    this.#head = Buffer.alloc(0);
    this.#tail = Buffer.alloc(0);
  }

  /** Bytes pushed since the last drain, including the ones dropped from the middle. */
  get total(): number {
    return this.#total;
  }

  /** Bytes pushed since the last drain that were dropped from the middle. */
  get omitted(): number {
    return this.#total - this.#headLen - this.#tailLen;
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    let rest = chunk;
    if (this.#headLen < this.#headCap) {
      const n = Math.min(this.#headCap - this.#headLen, rest.length);
      if (this.#head.length < this.#headLen + n) this.#head = grow(this.#head, this.#headLen, this.#headLen + n, this.#headCap);
      rest.copy(this.#head, this.#headLen, 0, n);
      this.#headLen += n;
      rest = rest.subarray(n);
    }
    if (rest.length === 0 || this.#tailCap === 0) return;
    if (rest.length >= this.#tailCap) {
      // The chunk alone fills the tail: keep its last bytes.
      if (this.#tail.length < this.#tailCap) this.#tail = Buffer.alloc(this.#tailCap);
      rest.copy(this.#tail, 0, rest.length - this.#tailCap);
      this.#tailStart = 0;
      this.#tailLen = this.#tailCap;
      return;
    }
    if (this.#tailLen + rest.length <= this.#tailCap && this.#tailStart === 0) {
      // Still filling the ring for the first time: grow it as needed (most commands print little).
      if (this.#tail.length < this.#tailLen + rest.length) this.#tail = grow(this.#tail, this.#tailLen, this.#tailLen + rest.length, this.#tailCap);
      rest.copy(this.#tail, this.#tailLen);
      this.#tailLen += rest.length;
      return;
    }
    if (this.#tail.length < this.#tailCap) {
      this.#tail = grow(this.#tail, this.#tailLen, this.#tailCap, this.#tailCap);
    }
    // Ring write: overwrite the oldest bytes.
    let end = (this.#tailStart + this.#tailLen) % this.#tailCap;
    let src = 0;
    while (src < rest.length) {
      const n = Math.min(rest.length - src, this.#tailCap - end);
      rest.copy(this.#tail, end, src, src + n);
      src += n;
      end = (end + n) % this.#tailCap;
    }
    const len = this.#tailLen + rest.length;
    if (len > this.#tailCap) {
      this.#tailStart = (this.#tailStart + (len - this.#tailCap)) % this.#tailCap;
      this.#tailLen = this.#tailCap;
    } else this.#tailLen = len;
  }

  /** Returns what was kept (head, tail) and how much was dropped between them, then empties the buffer. */
  drain(): { head: Buffer; tail: Buffer; omitted: number; total: number } {
    const head = Buffer.from(this.#head.subarray(0, this.#headLen));
    const first = this.#tail.subarray(this.#tailStart, Math.min(this.#tailStart + this.#tailLen, this.#tail.length));
    const wrapped = this.#tailLen - first.length;
    const tail = Buffer.concat([first, this.#tail.subarray(0, wrapped)]);
    const out = { head, tail, omitted: this.omitted, total: this.#total };
    this.#head = Buffer.alloc(0);
    this.#tail = Buffer.alloc(0);
    this.#headLen = this.#tailStart = this.#tailLen = this.#total = 0;
    return out;
  }
}

function grow(buf: Buffer, used: number, needed: number, cap: number): Buffer {
  const size = Math.min(cap, Math.max(needed, buf.length * 2, 4096));
  const next = Buffer.alloc(size);
  buf.copy(next, 0, 0, used);
  return next;
}

export interface ModelOutput {
  text: string;
  /** Bytes the command printed in the span this text covers. */
  totalBytes: number;
  /** Bytes left out of `text` (by the capture buffer and by the budget). */
  omittedBytes: number;
}

/**
 * The output as the model sees it: head and tail joined, cut in the middle to `maxBytes`, with a
 * marker where bytes were left out. Cuts fall on UTF-8 character boundaries. The text is shaped for
 * a model (shapeForModel): LF line ends, no escape sequences, the last state of rewritten lines.
 */
export function truncateForModel(kept: { head: Buffer; tail: Buffer; omitted: number; total: number }, maxBytes: number): ModelOutput {
  const captured = kept.head.length + kept.tail.length;
  let head = kept.head;
  let tail = kept.tail;
  let cut = 0;
  if (captured > maxBytes) {
    const headBudget = Math.ceil(maxBytes / 2);
    const tailBudget = maxBytes - headBudget;
    const all = kept.omitted === 0 ? Buffer.concat([head, tail]) : undefined;
    const front = all ?? head;
    const back = all ?? tail;
    const h = utf8Prefix(front, Math.min(headBudget, front.length));
    const t = utf8Suffix(back, Math.min(tailBudget, back.length));
    cut = captured - h.length - t.length;
    head = h;
    tail = t;
  }
  const omitted = kept.omitted + cut;
  const marker = omitted > 0 ? `\n[... ${omitted} bytes omitted ...]\n` : '';
  const text = shapeForModel(head.toString('utf8')) + marker + shapeForModel(tail.toString('utf8'));
  return { text, totalBytes: kept.total, omittedBytes: omitted };
}

/** The longest prefix of `buf` of at most `n` bytes that does not end inside a UTF-8 character. */
export function utf8Prefix(buf: Buffer, n: number): Buffer {
  let end = Math.min(n, buf.length);
  // A continuation byte (10xxxxxx) at `end` means a character straddles the cut: leave it out whole.
  while (end > 0 && end < buf.length && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end);
}

/** The longest suffix of `buf` of at most `n` bytes that does not start inside a UTF-8 character. */
export function utf8Suffix(buf: Buffer, n: number): Buffer {
  let start = Math.max(0, buf.length - n);
  while (start < buf.length && (buf[start]! & 0xc0) === 0x80) start++;
  return buf.subarray(start);
}

/**
 * Terminal control a model cannot use: escape sequences (colours, cursor moves, window titles)
 * ESC [ ... final (CSI), ESC ] ... BEL or ESC \\ (OSC), and other two-character ESC sequences.
 */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[P^_][^\u001b]*\u001b\\|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g;

/**
 * The text as a model should read it: CRLF line ends become LF, escape sequences go, and a line
 * rewritten with carriage returns (a progress bar) keeps only what was written last. The capture
 * buffer keeps the bytes as printed; only this rendering changes.
 */
export function shapeForModel(text: string): string {
  return text
    .replace(ANSI, '')
    .replace(/\r+\n/g, '\n')
    .split('\n')
    .map((line) => {
      if (!line.includes('\r')) return line;
      const parts = line.split('\r');
      for (let i = parts.length - 1; i >= 0; i--) if (parts[i] !== '') return parts[i]!;
      return '';
    })
    .join('\n');
}
