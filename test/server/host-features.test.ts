// MCP features a host relies on: logging levels, the host's roots as the workspace, tool groups,
// and a tools/list small enough not to crowd a model's context.
import { afterEach, describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { ListRootsRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectStdio, type Connected } from '../support/client.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let conn: Connected | undefined;
const dirs: TempDir[] = [];
afterEach(async () => {
  await conn?.close();
  conn = undefined;
  for (const d of dirs.splice(0)) d.cleanup();
});
const dir = (files: Record<string, string>) => {
  const d = tempDir();
  for (const [k, v] of Object.entries(files)) d.write(k, v);
  dirs.push(d);
  return d;
};

describe('logging', () => {
  it('sends notifications/message and honours logging/setLevel', async () => {
    const ws = dir({ 'a.txt': 'a\n' });
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const messages: Array<{ level: string; data: unknown }> = [];
    conn.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(n.params));

    await conn.client.setLoggingLevel('debug');
    await conn.call('read_file', { path: 'a.txt' });
    await conn.call('read_file', { path: 'missing.txt' });
    await new Promise((r) => setTimeout(r, 100));
    expect(messages).toContainEqual(expect.objectContaining({ level: 'debug', data: expect.stringContaining('read_file finished') }));
    expect(messages).toContainEqual(expect.objectContaining({ level: 'debug', data: expect.stringContaining('missing.txt does not exist') }));

    messages.length = 0;
    await conn.client.setLoggingLevel('warning');
    await conn.call('read_file', { path: 'a.txt' });
    await conn.call('read_file', { path: 'missing.txt' });
    await new Promise((r) => setTimeout(r, 100));
    expect(messages).toEqual([]);
  });
});

describe('MCP roots', () => {
  it('uses the host\'s roots as the workspace when no --root is given, and follows roots/list_changed', async () => {
    const first = dir({ 'which.txt': 'first root\n' });
    const second = dir({ 'which.txt': 'second root\n' });
    const serverCwd = dir({ 'which.txt': 'server cwd\n' });
    let roots = [{ uri: pathToFileURL(first.dir).href, name: 'first' }];
    conn = await connectStdio({ cwd: serverCwd.dir, capabilities: { roots: { listChanged: true } } });
    conn.client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots }));

    expect((await conn.call('read_file', { path: 'which.txt' })).text).toContain('first root');
    expect((await conn.call('read_file', { path: serverCwd.path('which.txt') })).isError).toBe(true);

    roots = [{ uri: pathToFileURL(second.dir).href, name: 'second' }];
    await conn.client.sendRootsListChanged();
    await new Promise((r) => setTimeout(r, 50));
    expect((await conn.call('read_file', { path: 'which.txt' })).text).toContain('second root');
    expect((await conn.call('read_file', { path: first.path('which.txt') })).isError).toBe(true);
  });

  it('keeps --root when given, ignoring the host\'s roots', async () => {
    const fixed = dir({ 'which.txt': 'fixed root\n' });
    const hostRoot = dir({ 'which.txt': 'host root\n' });
    conn = await connectStdio({ args: ['--root', fixed.dir], capabilities: { roots: {} } });
    conn.client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: pathToFileURL(hostRoot.dir).href }] }));
    expect((await conn.call('read_file', { path: 'which.txt' })).text).toContain('fixed root');
  });

  it('uses the server\'s current directory when neither --root nor host roots exist', async () => {
    const cwd = dir({ 'which.txt': 'cwd root\n' });
    conn = await connectStdio({ cwd: cwd.dir });
    expect((await conn.call('read_file', { path: 'which.txt' })).text).toContain('cwd root');
  });
});

describe('tool groups and context cost', () => {
  it('publishes only the groups named by --tools', async () => {
    const ws = dir({});
    conn = await connectStdio({ args: ['--root', ws.dir, '--tools', 'files'] });
    const fileNames = (await conn.client.listTools()).tools.map((t) => t.name);
    expect(fileNames).toEqual(expect.arrayContaining(['read_file', 'list_dir', 'glob', 'grep']));
    expect(fileNames.every((n) => !n.startsWith('git_') && n !== 'exec_command' && n !== 'delegate')).toBe(true);
  });

  it('keeps the whole tools/list of every group under 24,000 characters', async () => {
    const ws = dir({});
    conn = await connectStdio({ args: ['--root', ws.dir] });
    const { tools } = await conn.client.listTools();
    const size = JSON.stringify({ tools }).length;
    expect(size).toBeLessThan(24_000);
    for (const tool of tools) {
      expect(tool.description, tool.name).toBeTruthy();
      expect(tool.annotations, tool.name).toBeDefined();
    }
  });

  it('rejects an unknown tool group at start-up', async () => {
    await expect(connectStdio({ args: ['--tools', 'files,bogus'] })).rejects.toThrow();
  });
});
