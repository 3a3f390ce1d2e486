// delegate over Streamable HTTP: progress on the call's own stream, and a thread started in one
// HTTP session continued from another session of the same server.
import { afterEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Runtime } from '../../src/runtime.js';
import { serveHttp, type HttpHandle } from '../../src/transports/http.js';
import { data, mockModelConfig, type Json } from '../support/agent.js';
import { connectHttp, type Connected } from '../support/client.js';
import { call, say, startModelServer, type ModelServer } from '../support/model-server.mjs';
import { testRuntime } from '../support/runtime.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let handle: HttpHandle | undefined;
let runtime: Runtime | undefined;
let model: ModelServer | undefined;
let ws: TempDir | undefined;
const conns: Connected[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) await c.close();
  await handle?.close();
  await runtime?.shutdown();
  await model?.close();
  ws?.cleanup();
});

describe('delegate over HTTP', () => {
  it('sends progress and continues a thread from another session', async () => {
    model = await startModelServer();
    ws = tempDir();
    ws.write('a.txt', 'alpha\n');
    runtime = testRuntime({
      roots: [ws.dir],
      http: { port: 0 },
      ...mockModelConfig(model),
    });
    handle = await serveHttp(runtime);
    model.script({ output: [call('read_file', { path: 'a.txt' }, 'r1')] }, { output: [say('alpha')] }, { output: [say('you asked about a.txt')] });

    const first = await connectHttp(handle.url);
    conns.push(first);
    const progress: string[] = [];
    const result = (await first.client.callTool({ name: 'delegate', arguments: { prompt: 'read a.txt' } }, undefined, {
      onprogress: (p) => progress.push(p.message ?? ''),
    })) as CallToolResult;
    const d = data(result);
    expect(d.status).toBe('completed');
    expect(d.content).toBe('alpha');
    expect(progress).toContain('turn 1: read_file a.txt');

    const second = await connectHttp(handle.url);
    conns.push(second);
    const reply = data(await second.call('delegate_reply', { thread_id: d.thread_id, prompt: 'what did I ask?' }));
    expect(reply.status).toBe('completed');
    const input = (model.requests[2]!.body as Json).input as Json[];
    expect(input.filter((i) => i.role === 'user').map((i) => i.content).slice(-2)).toEqual(['read a.txt', 'what did I ask?']);
  });
});
