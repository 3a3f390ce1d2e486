import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createModelClient, type ModelRequest } from '../../src/agent/model.js';
import type { ResolvedProvider } from '../../src/agent/provider.js';
import { call, patch, say, startModelServer, think, type ModelServer } from '../support/model-server.mjs';

let server: ModelServer;
beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  await server.close();
});

const provider = (wire: 'responses' | 'chat', over: Partial<ResolvedProvider> = {}): ResolvedProvider => ({
  id: 'mock',
  baseUrl: server.url,
  apiKey: undefined,
  wire,
  requestTimeoutMs: 10_000,
  maxRetries: 2,
  headers: {},
  contextWindow: undefined,
  freeformApplyPatch: undefined,
  isOpenAI: false,
  ...over,
});

const request: ModelRequest = {
  model: 'test-model',
  instructions: 'be brief',
  input: [
    { type: 'message', role: 'developer', content: 'sandbox rules' },
    { type: 'message', role: 'user', content: 'fix it' },
  ],
  tools: [
    { kind: 'function', name: 'read_file', description: 'read', parameters: { type: 'object', properties: { path: { type: 'string' } } } },
    { kind: 'freeform', name: 'apply_patch', description: 'patch', grammar: { syntax: 'lark', definition: 'start: "x"' } },
  ],
  reasoningEffort: 'low',
};
const signal = () => new AbortController().signal;

describe('model client, Responses wire', () => {
  it('reads messages, reasoning, function and custom tool calls and usage from the stream', async () => {
    server.script({
      output: [think('looking', 'enc-1'), say('I will read it.'), call('read_file', { path: 'a.txt' }, 'c1'), patch('*** Begin Patch\n*** End Patch\n', 'c2')],
      usage: { input_tokens: 120, cached_input_tokens: 20, output_tokens: 30, reasoning_tokens: 7 },
    });
    const r = await createModelClient(provider('responses')).complete(request, { signal: signal() });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.items).toEqual([
      { type: 'reasoning', id: expect.any(String), summary: ['looking'], encrypted_content: 'enc-1' },
      { type: 'message', role: 'assistant', content: 'I will read it.' },
      { type: 'function_call', call_id: 'c1', name: 'read_file', arguments: '{"path":"a.txt"}' },
      { type: 'custom_tool_call', call_id: 'c2', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch\n' },
    ]);
    expect(r.value.usage).toEqual({ input_tokens: 120, cached_input_tokens: 20, output_tokens: 30, reasoning_tokens: 7 });
    const body = server.requests[0]!.body;
    expect(server.requests[0]!.path).toBe('/v1/responses');
    expect(body).toMatchObject({ model: 'test-model', instructions: 'be brief', stream: true, store: false, parallel_tool_calls: true, reasoning: { effort: 'low' } });
    expect(body.tools[1]).toEqual({ type: 'custom', name: 'apply_patch', description: 'patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' } });
    expect(body.input).toEqual([
      { type: 'message', role: 'developer', content: 'sandbox rules' },
      { type: 'message', role: 'user', content: 'fix it' },
    ]);
  });

  it('replays reasoning with its encrypted content and drops reasoning it cannot replay', async () => {
    server.script({ output: [say('ok')] });
    await createModelClient(provider('responses')).complete(
      {
        ...request,
        input: [
          { type: 'message', role: 'user', content: 'go' },
          { type: 'reasoning', id: 'rs_1', summary: ['thought about it'], encrypted_content: 'enc-1' },
          { type: 'function_call', call_id: 'c1', name: 'read_file', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c1', output: 'text' },
          { type: 'reasoning', summary: ['a chat server\'s reasoning'] },
        ],
      },
      { signal: signal() },
    );
    expect(server.requests[0]!.body.input).toEqual([
      { type: 'message', role: 'user', content: 'go' },
      { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'thought about it' }], encrypted_content: 'enc-1' },
      { type: 'function_call', call_id: 'c1', name: 'read_file', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c1', output: 'text' },
    ]);
  });

  it('asks OpenAI reasoning models for encrypted reasoning even without a reasoning effort', async () => {
    server.otherwise({ output: [say('ok')] });
    const { reasoningEffort: _none, ...plain } = request;
    const openai = createModelClient(provider('responses', { isOpenAI: true }));
    await openai.complete({ ...plain, model: 'gpt-5.5' }, { signal: signal() });
    await openai.complete({ ...plain, model: 'gpt-4.1' }, { signal: signal() });
    await createModelClient(provider('responses')).complete({ ...plain, model: 'gpt-5.5' }, { signal: signal() });
    const [reasoning, older, elsewhere] = server.requests.map((r) => r.body);
    expect(reasoning.include).toEqual(['reasoning.encrypted_content']);
    expect(reasoning.reasoning).toBeUndefined();
    expect(older.include).toBeUndefined();
    expect(elsewhere.include).toBeUndefined();
  });

  it('retries a 503 and then succeeds', async () => {
    server.script({ error: 503 }, { output: [say('ok')] });
    const retries: string[] = [];
    const r = await createModelClient(provider('responses'), { retryBaseMs: 1 }).complete(request, {
      signal: signal(),
      onRetry: (i) => retries.push(i.reason),
    });
    expect(r.ok && r.value.items).toEqual([{ type: 'message', role: 'assistant', content: 'ok' }]);
    expect(server.requests).toHaveLength(2);
    expect(retries[0]).toContain('503');
  });

  it('retries a stream that breaks before response.completed', async () => {
    server.script({ output: [say('partial')], truncate: true }, { output: [say('whole')] });
    const r = await createModelClient(provider('responses'), { retryBaseMs: 1 }).complete(request, { signal: signal() });
    expect(r.ok && r.value.items).toEqual([{ type: 'message', role: 'assistant', content: 'whole' }]);
    expect(server.requests).toHaveLength(2);
  });

  it('fails clearly after the retries when the endpoint keeps failing', async () => {
    server.otherwise({ error: 502, message: 'bad gateway upstream' });
    const r = await createModelClient(provider('responses', { maxRetries: 2 }), { retryBaseMs: 1 }).complete(request, { signal: signal() });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('model_unavailable');
    expect(r.error.message).toContain('failed 3 times');
    expect(r.error.message).toContain('502');
    expect(r.error.message).toContain('bad gateway upstream');
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry a 401 and says which key to check', async () => {
    server.script({ error: 401, message: 'invalid api key' });
    const r = await createModelClient(provider('responses'), { retryBaseMs: 1 }).complete(request, { signal: signal() });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('model_error');
    expect(r.error.message).toContain('invalid api key');
    expect(r.error.hint).toContain('env_key');
    expect(server.requests).toHaveLength(1);
  });

  it('stops the stream when the signal aborts', async () => {
    server.script({ hang: true });
    const controller = new AbortController();
    const pending = createModelClient(provider('responses')).complete(request, { signal: controller.signal });
    await server.waitForRequests(1);
    controller.abort();
    const r = await pending;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('aborted');
  });

  it('retries when the stream goes silent for longer than the request timeout', async () => {
    server.script({ hang: true }, { output: [say('after the stall')] });
    const r = await createModelClient(provider('responses', { requestTimeoutMs: 300 }), { retryBaseMs: 1 }).complete(request, { signal: signal() });
    expect(r.ok && r.value.items).toEqual([{ type: 'message', role: 'assistant', content: 'after the stall' }]);
    expect(server.requests[0]!.closed).toBe(true);
  });
});

describe('model client, broken and unusual streams', () => {
  const client = (wire: 'responses' | 'chat', maxRetries = 2) => createModelClient(provider(wire, { maxRetries }), { retryBaseMs: 1 });

  it('retries malformed stream data, naming the endpoint', async () => {
    for (const wire of ['responses', 'chat'] as const) {
      server.script({ malformed: true }, { output: [say('clean')] });
      const retries: string[] = [];
      const r = await client(wire).complete(request, { signal: signal(), onRetry: (i) => retries.push(i.reason) });
      expect(r.ok && r.value.items).toEqual([{ type: 'message', role: 'assistant', content: 'clean' }]);
      const endpoint = `${server.url}/${wire === 'chat' ? 'chat/completions' : 'responses'}`;
      expect(retries).toEqual([expect.stringMatching(new RegExp(`^malformed stream data from ${endpoint.replace(/[./]/g, '\\$&')}: `))]);
    }
  });

  it('says a server answered with plain JSON instead of a stream', async () => {
    server.otherwise({ plain: true, output: [say('not streamed')] });
    const r = await client('chat', 1).complete(request, { signal: signal() });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toContain(`malformed stream data from ${server.url}/chat/completions: the reply is application/json, not text/event-stream`);
    expect(server.requests).toHaveLength(2);
  });

  it('retries response.failed with a server error, and fails at once on a stream error that will not pass', async () => {
    server.script({ failed: { message: 'the model crashed', code: 'server_error' } }, { output: [say('second try')] });
    const retries: string[] = [];
    const r = await client('responses').complete(request, { signal: signal(), onRetry: (i) => retries.push(i.reason) });
    expect(r.ok && r.value.items).toEqual([{ type: 'message', role: 'assistant', content: 'second try' }]);
    expect(retries).toEqual(['the response failed: the model crashed (server_error)']);

    server.script({ streamError: { message: 'prompt refused', code: 'invalid_prompt' } });
    const refused = await client('responses').complete(request, { signal: signal() });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.message).toBe('the stream reported an error: prompt refused (invalid_prompt)');
    expect(server.requests).toHaveLength(3);
  });

  it('reports a response cut off by its output limit as incomplete, on both wires', async () => {
    for (const wire of ['responses', 'chat'] as const) {
      server.script({ incomplete: 'max_output_tokens', output: [say('half an ans')] });
      const r = await client(wire).complete(request, { signal: signal() });
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value.incomplete).toBe('max_output_tokens');
      expect(r.value.items).toEqual([{ type: 'message', role: 'assistant', content: 'half an ans' }]);
    }
  });
});

describe('model client, Chat Completions wire', () => {
  it('reads content, tool call deltas and the usage chunk', async () => {
    server.script({
      output: [say('Reading.'), call('read_file', { path: 'a.txt' }, 'c1'), call('grep', { pattern: 'x' }, 'c2')],
      usage: { input_tokens: 50, output_tokens: 5, cached_input_tokens: 3, reasoning_tokens: 1 },
    });
    const r = await createModelClient(provider('chat')).complete(request, { signal: signal() });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.items).toEqual([
      { type: 'message', role: 'assistant', content: 'Reading.' },
      { type: 'function_call', call_id: 'c1', name: 'read_file', arguments: '{"path":"a.txt"}' },
      { type: 'function_call', call_id: 'c2', name: 'grep', arguments: '{"pattern":"x"}' },
    ]);
    expect(r.value.usage).toEqual({ input_tokens: 50, cached_input_tokens: 3, output_tokens: 5, reasoning_tokens: 1 });
    const body = server.requests[0]!.body;
    expect(server.requests[0]!.path).toBe('/v1/chat/completions');
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(body.reasoning_effort).toBe('low');
    expect(body.messages).toEqual([
      { role: 'system', content: 'be brief\n\nsandbox rules' },
      { role: 'user', content: 'fix it' },
    ]);
    expect(body.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(['read_file', 'apply_patch']);
  });

  it('sends tool calls and results back as assistant tool_calls and tool messages', async () => {
    server.script({ output: [say('done')] });
    await createModelClient(provider('chat')).complete(
      {
        ...request,
        input: [
          { type: 'message', role: 'user', content: 'go' },
          { type: 'message', role: 'assistant', content: 'looking' },
          { type: 'function_call', call_id: 'a', name: 'read_file', arguments: '{}' },
          { type: 'function_call', call_id: 'b', name: 'grep', arguments: '{}' },
          { type: 'function_call_output', call_id: 'a', output: 'A' },
          { type: 'function_call_output', call_id: 'b', output: 'B' },
        ],
      },
      { signal: signal() },
    );
    expect(server.requests[0]!.body.messages.slice(1)).toEqual([
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        content: 'looking',
        tool_calls: [
          { id: 'a', type: 'function', function: { name: 'read_file', arguments: '{}' } },
          { id: 'b', type: 'function', function: { name: 'grep', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'a', content: 'A' },
      { role: 'tool', tool_call_id: 'b', content: 'B' },
    ]);
  });

  it('retries a 429 then succeeds', async () => {
    server.script({ error: 429, headers: { 'retry-after-ms': '5' } }, { output: [say('fine')] });
    const r = await createModelClient(provider('chat')).complete(request, { signal: signal() });
    expect(r.ok && r.value.items).toEqual([{ type: 'message', role: 'assistant', content: 'fine' }]);
    expect(server.requests).toHaveLength(2);
  });
});
