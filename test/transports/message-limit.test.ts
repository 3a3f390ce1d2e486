// The stdio message cap: lines up to the limit pass through whole, one per chunk, however the
// input is cut into chunks; a longer line is dropped as it arrives and reported with its size and,
// when a client put it first or last, its JSON-RPC id (never an "id" nested in the arguments).
import { describe, expect, it } from 'vitest';
import { MessageLimit, requestId, type OversizedMessage } from '../../src/transports/message-limit.js';

/** Feeds `input` in chunks of `size` bytes; returns the lines passed on and the messages dropped. */
async function run(limit: number, input: string, size: number): Promise<{ lines: string[]; dropped: OversizedMessage[] }> {
  const dropped: OversizedMessage[] = [];
  const stream = new MessageLimit(limit, (m) => dropped.push(m));
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
  const bytes = Buffer.from(input, 'utf8');
  for (let i = 0; i < bytes.length; i += size) stream.write(bytes.subarray(i, i + size));
  stream.end();
  await new Promise((r) => stream.on('end', r));
  return { lines, dropped };
}

const request = (id: number, text: string) => JSON.stringify({ method: 'tools/call', params: { name: 'write_file', arguments: { path: 'a', content: text } }, jsonrpc: '2.0', id });

describe('MessageLimit', () => {
  it.each([1, 7, 64, 100_000])('passes lines up to the limit whole, one per chunk, with input cut every %i bytes', async (size) => {
    const small = [request(1, 'x'), request(2, 'y'.repeat(200)), request(3, 'é日😀')];
    const exact = 'z'.repeat(400);
    const { lines, dropped } = await run(400, `${small.join('\n')}\n${exact}\n`, size);
    expect(lines).toEqual([...small.map((l) => `${l}\n`), `${exact}\n`]);
    expect(dropped).toEqual([]);
  });

  it.each([1, 13, 100_000])('drops a line over the limit, reports it with its id, and goes on (chunks of %i bytes)', async (size) => {
    const big = request(7, 'b'.repeat(1000));
    const { lines, dropped } = await run(300, `${request(6, 'before')}\n${big}\n${request(8, 'after')}\n`, size);
    expect(lines).toEqual([`${request(6, 'before')}\n`, `${request(8, 'after')}\n`]);
    expect(dropped).toEqual([{ bytes: Buffer.byteLength(big), id: 7 }]);
  });

  it('reports a dropped line without a readable id without one', async () => {
    const line = `{"jsonrpc":"2.0","method":"notifications/x","params":{"t":"${'n'.repeat(200)}"}}`;
    const { dropped } = await run(100, `${line}\n`, 50);
    expect(dropped).toEqual([{ bytes: line.length }]);
  });
});

describe('requestId', () => {
  it.each([
    ['last, as the TypeScript SDK writes it', '{"method":"tools/call","params":{', '"x"}},"jsonrpc":"2.0","id":42}', 42],
    ['first, as the Python and Rust SDKs write it', '{"jsonrpc":"2.0","id":"abc-1","method":"tools/call"', '"x"}}}', 'abc-1'],
    ['first with no jsonrpc before it', '{ "id" : 5 , "method":', '}}', 5],
    ['last with a CRLF line end', '{"method":"x",', ',"id":9}\r', 9],
  ])('finds an id placed %s', (_, head, tail, id) => {
    expect(requestId(head, tail)).toBe(id);
  });

  it.each([
    ['nested in the arguments at the start', '{"method":"tools/call","params":{"arguments":{"id":3,', '"x"}}}'],
    ['nested in the arguments at the end', '{"method":"tools/call",', '"arguments":{"id":3}}}'],
    ['inside a string', '{"method":"x","params":{"t":"', '\\",\\"id\\":4}"}}'],
  ])('ignores an "id" %s', (_, head, tail) => {
    expect(requestId(head, tail)).toBeUndefined();
  });
});
