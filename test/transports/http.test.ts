// Streamable HTTP as a host and as an attacker would see it: sessions, auth, Host/Origin checks,
// body limits, many clients at once.
import { afterEach, describe, expect, it } from 'vitest';
import { serveHttp, type HttpHandle } from '../../src/transports/http.js';
import type { Runtime } from '../../src/runtime.js';
import { connectHttp } from '../support/client.js';
import { initializeBody, MCP_HEADERS, rawRequest } from '../support/http.js';
import { testRuntime } from '../support/runtime.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let handle: HttpHandle | undefined;
let runtime: Runtime | undefined;
let ws: TempDir | undefined;

afterEach(async () => {
  await handle?.close();
  await runtime?.shutdown();
  ws?.cleanup();
  handle = undefined;
});

async function start(http: Record<string, unknown> = {}) {
  ws = tempDir();
  ws.write('hello.txt', 'hello over http\n');
  runtime = testRuntime({ roots: [ws.dir], http: { port: 0, ...http } });
  handle = await serveHttp(runtime);
  return handle;
}

async function openSession(port: number, headers: Record<string, string> = {}): Promise<string> {
  const res = await rawRequest({ port, headers: { ...MCP_HEADERS, ...headers }, body: initializeBody });
  expect(res.status).toBe(200);
  const id = res.headers['mcp-session-id'];
  expect(typeof id).toBe('string');
  return id as string;
}

const toolsList = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });

describe('Streamable HTTP transport', () => {
  it('serves a real client: initialize, tools/list, read_file', async () => {
    const h = await start();
    const conn = await connectHttp(h.url);
    const { tools } = await conn.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['read_file', 'list_dir', 'glob', 'grep']));
    const r = await conn.call('read_file', { path: 'hello.txt' });
    expect(r.text).toContain('1\thello over http');
    await conn.close();
  });

  it('answers 404 for an unknown session id', async () => {
    const h = await start();
    const res = await rawRequest({ port: h.port, headers: { ...MCP_HEADERS, 'mcp-session-id': 'no-such-session' }, body: toolsList });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body).error.message).toContain('Session not found');
  });

  it('answers 400 when a non-initialize request has no session id', async () => {
    const h = await start();
    const res = await rawRequest({ port: h.port, headers: MCP_HEADERS, body: toolsList });
    expect(res.status).toBe(400);
    expect(res.body).toContain('Mcp-Session-Id');
  });

  it('closes a session on DELETE; the id then gets 404', async () => {
    const h = await start();
    const id = await openSession(h.port);
    expect(h.sessionCount()).toBe(1);
    const del = await rawRequest({ port: h.port, method: 'DELETE', headers: { ...MCP_HEADERS, 'mcp-session-id': id } });
    expect(del.status).toBe(200);
    expect(h.sessionCount()).toBe(0);
    const after = await rawRequest({ port: h.port, headers: { ...MCP_HEADERS, 'mcp-session-id': id }, body: toolsList });
    expect(after.status).toBe(404);
  });

  it('rejects a forged Host header (DNS rebinding) and a foreign Origin', async () => {
    const h = await start();
    const evilHost = await rawRequest({ port: h.port, headers: { ...MCP_HEADERS, host: 'evil.example.com' }, body: initializeBody });
    expect(evilHost.status).toBe(403);
    const evilOrigin = await rawRequest({ port: h.port, headers: { ...MCP_HEADERS, origin: 'http://evil.example.com' }, body: initializeBody });
    expect(evilOrigin.status).toBe(403);
    expect(evilOrigin.body).toContain('Origin http://evil.example.com is not allowed');
    const localOrigin = await rawRequest({ port: h.port, headers: { ...MCP_HEADERS, origin: `http://localhost:${h.port}` }, body: initializeBody });
    expect(localOrigin.status).toBe(200);
  });

  it('validates the Host header on any loopback address, not only 127.0.0.1', async () => {
    ws = tempDir();
    runtime = testRuntime({ roots: [ws.dir], http: { port: 0, host: '127.0.0.2' } });
    handle = await serveHttp(runtime);
    const evil = await rawRequest({ host: '127.0.0.2', port: handle.port, headers: { ...MCP_HEADERS, host: 'evil.example.com' }, body: initializeBody });
    expect(evil.status).toBe(403);
    const good = await rawRequest({ host: '127.0.0.2', port: handle.port, headers: MCP_HEADERS, body: initializeBody });
    expect(good.status).toBe(200);
  });

  it('answers 415 for a POST that is not JSON', async () => {
    const h = await start();
    const res = await rawRequest({ port: h.port, headers: { 'content-type': 'text/plain', accept: 'application/json, text/event-stream' }, body: initializeBody });
    expect(res.status).toBe(415);
  });

  it('refuses new sessions beyond http.max_sessions with 503', async () => {
    const h = await start({ max_sessions: 2 });
    await openSession(h.port);
    await openSession(h.port);
    const third = await rawRequest({ port: h.port, headers: MCP_HEADERS, body: initializeBody });
    expect(third.status).toBe(503);
    expect(third.headers['retry-after']).toBe('5');
  });

  it('closes a session left idle past http.session_idle_ms', async () => {
    const h = await start({ session_idle_ms: 1000 });
    const id = await openSession(h.port);
    expect(h.sessionCount()).toBe(1);
    for (let i = 0; i < 40 && h.sessionCount() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(h.sessionCount()).toBe(0);
    const after = await rawRequest({ port: h.port, headers: { ...MCP_HEADERS, 'mcp-session-id': id }, body: toolsList });
    expect(after.status).toBe(404);
  });

  it('accepts an Origin listed in http.allowed_origins', async () => {
    const h = await start({ allowed_origins: ['https://app.example.com'] });
    const res = await rawRequest({ port: h.port, headers: { ...MCP_HEADERS, origin: 'https://app.example.com' }, body: initializeBody });
    expect(res.status).toBe(200);
  });

  it('answers 413 for a body over the limit, and still serves normal requests', async () => {
    const h = await start({ max_body_bytes: 4096 });
    const big = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'read_file', arguments: { path: 'x'.repeat(10_000) } } });
    const res = await rawRequest({ port: h.port, headers: MCP_HEADERS, body: big });
    expect(res.status).toBe(413);
    expect(res.body).toContain('Request body too large');
    await openSession(h.port);
  });

  it('answers 400 with a JSON-RPC parse error for a malformed body', async () => {
    const h = await start();
    const res = await rawRequest({ port: h.port, headers: MCP_HEADERS, body: '{not json' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe(-32700);
  });

  describe('bearer-token auth', () => {
    const token = 'test-token-0123456789abcdef';

    it('answers 401 without the token or with a wrong one', async () => {
      const h = await start({ auth_token: token });
      const none = await rawRequest({ port: h.port, headers: MCP_HEADERS, body: initializeBody });
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toContain('Bearer');
      const wrong = await rawRequest({ port: h.port, headers: { ...MCP_HEADERS, authorization: 'Bearer wrong-token-0123456789ab' }, body: initializeBody });
      expect(wrong.status).toBe(401);
    });

    it('serves a client that sends the token', async () => {
      const h = await start({ auth_token: token });
      await openSession(h.port, { authorization: `Bearer ${token}` });
      const conn = await connectHttp(h.url, { token });
      expect((await conn.call('read_file', { path: 'hello.txt' })).isError).toBeFalsy();
      await conn.close();
    });
  });

  it('serves many concurrent sessions independently', async () => {
    const h = await start();
    const clients = await Promise.all(Array.from({ length: 16 }, () => connectHttp(h.url)));
    expect(h.sessionCount()).toBe(16);
    const results = await Promise.all(clients.map((c) => c.call('read_file', { path: 'hello.txt' })));
    for (const r of results) expect(r.text).toContain('hello over http');
    await Promise.all(clients.map((c) => c.close()));
    expect(h.sessionCount()).toBe(0);
  });

  it('closes every open session on shutdown', async () => {
    const h = await start();
    await openSession(h.port);
    await openSession(h.port);
    expect(h.sessionCount()).toBe(2);
    await h.close();
    expect(h.sessionCount()).toBe(0);
    await expect(rawRequest({ port: h.port, headers: MCP_HEADERS, body: initializeBody })).rejects.toThrow();
  });
});
