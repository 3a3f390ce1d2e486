import { afterEach, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let conn: Connected | undefined;
let ws: TempDir | undefined;
afterEach(async () => {
  await conn?.close();
  ws?.cleanup();
});

describe('stdio server', () => {
  it('lists the file tools and reads a file over stdio', async () => {
    ws = tempDir();
    ws.write('hello.txt', 'one\ntwo\nthree\n');
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const tools = await conn.client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['read_file', 'list_dir', 'glob', 'grep']));
    const r = await conn.call('read_file', { path: 'hello.txt' });
    expect(r.isError).toBeFalsy();
    expect(r.text).toContain('hello.txt: lines 1-3 of 3');
    expect(r.text).toContain('2\ttwo');
  });
});
