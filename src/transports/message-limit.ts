// Caps the size of one stdio message. stdio carries newline-delimited JSON-RPC; the SDK's
// transport buffers input until a newline and, past its buffer limit, closes itself, after which
// the process simply ends. This stream sits between stdin and the transport: it passes each
// complete line through on its own, and drops a line longer than the limit as it arrives (keeping
// only its first and last bytes), so memory stays bounded and the server can answer that one
// request with an error instead of ending.
import { Transform, type TransformCallback } from 'node:stream';

/** What is known about a dropped message: its size and, when it could be read, its JSON-RPC id. */
export interface OversizedMessage {
  bytes: number;
  id?: string | number;
}

/** Bytes kept from each end of a dropped line, to find its id. */
const EDGE = 512;
const NEWLINE = 0x0a;

/** Passes lines of at most `limit` bytes (newline excluded), one per chunk; reports and drops longer ones. */
export class MessageLimit extends Transform {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Set while the rest of an oversized line is being skipped. */
  #skipping: { bytes: number; head: Buffer; tail: Buffer } | undefined;

  constructor(
    private readonly limit: number,
    private readonly onOversized: (message: OversizedMessage) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.#skipping) {
        this.#skip(piece);
      } else if (this.#pendingBytes + piece.length > this.limit) {
        const line = Buffer.concat([...this.#pending, piece]);
        this.#pending = [];
        this.#pendingBytes = 0;
        this.#skipping = { bytes: 0, head: Buffer.from(line.subarray(0, EDGE)), tail: Buffer.alloc(0) };
        this.#skip(line);
      } else {
        this.#pending.push(piece);
        this.#pendingBytes += piece.length;
      }
      if (nl === -1) break;
      this.#endLine();
      start = nl + 1;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    // A last line without a newline is never a message the transport would read; drop it.
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#skipping) this.#endLine();
    done();
  }

  #skip(piece: Buffer): void {
    const s = this.#skipping!;
    s.bytes += piece.length;
    s.tail = piece.length >= EDGE ? Buffer.from(piece.subarray(piece.length - EDGE)) : Buffer.concat([s.tail, piece]).subarray(-EDGE);
  }

  #endLine(): void {
    if (this.#skipping) {
      const { bytes, head, tail } = this.#skipping;
      this.#skipping = undefined;
      const id = requestId(head.toString('utf8'), tail.toString('utf8'));
      this.onOversized(id === undefined ? { bytes } : { bytes, id });
      return;
    }
    this.#pending.push(Buffer.from([NEWLINE]));
    this.push(Buffer.concat(this.#pending));
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}

const ID = String.raw`(-?\d+|"(?:[^"\\]|\\.)*")`;
/** `{"id": 1, …` or `{"jsonrpc": "2.0", "id": 1, …` (Python and Rust SDKs put the id first). */
const ID_FIRST = new RegExp(String.raw`^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*${ID}\s*[,}]`);
/** `…, "id": 1}` (the TypeScript SDK puts it last). Only the top-level object ends right after it. */
const ID_LAST = new RegExp(String.raw`[,{]\s*"id"\s*:\s*${ID}\s*\}\s*$`);

/**
 * The JSON-RPC id of a message seen only by its first and last bytes, when it sits where a client
 * puts it: first (after "jsonrpc") or last. Anywhere else it is not looked for, since a nested
 * "id" (in a tool's arguments) must never be taken for it.
 */
export function requestId(head: string, tail: string): string | number | undefined {
  const m = ID_FIRST.exec(head) ?? ID_LAST.exec(tail.replace(/\r$/, ''));
  if (!m) return undefined;
  try {
    const id: unknown = JSON.parse(m[1]!);
    return typeof id === 'string' || typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}
