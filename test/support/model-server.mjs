// A scripted model endpoint for tests and benchmarks: a loopback HTTP server that speaks the real
// streaming formats of the OpenAI Responses API (`POST /v1/responses`, SSE events
// response.created … response.completed) and of Chat Completions (`POST /v1/chat/completions`,
// chat.completion.chunk deltas with tool_calls, a final usage chunk, [DONE]). Each test scripts
// the replies in order (or with a function of the request), and every request body is recorded.
// It can also answer with an HTTP error (429/5xx), wait before answering, hang until the client
// goes away, send a line of malformed data, end with response.failed / an `error` event /
// response.incomplete (finish_reason "length" on chat), or ignore `stream: true` and answer with
// one plain JSON body. Plain JavaScript so that the benchmarks (which run without a TS loader) can
// use it too; types are in model-server.d.mts.
import { createServer } from 'node:http';

let seq = 0;
const nextId = (prefix) => `${prefix}_${(++seq).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** A final assistant message. */
export const say = (text) => ({ type: 'message', text });
/** A JSON function call. `namespace` (Responses only) names a tool group a host loaded, e.g. Codex's `mcp__<server>`. */
export const call = (name, args = {}, call_id, namespace) => ({
  type: 'function_call',
  name,
  arguments: args,
  ...(call_id ? { call_id } : {}),
  ...(namespace ? { namespace } : {}),
});
/** A client-executed tool search (Responses only): Codex answers it with the deferred tools that match. */
export const search = (query, limit = 8, call_id) => ({ type: 'tool_search_call', arguments: { query, limit }, ...(call_id ? { call_id } : {}) });
/** apply_patch: a freeform call when the request offered it as a custom tool, else a function call `{patch}`. */
export const patch = (text, call_id) => ({ type: 'apply_patch', patch: text, ...(call_id ? { call_id } : {}) });
/** A reasoning item. */
export const think = (summary, encrypted_content) => ({ type: 'reasoning', summary: [summary], ...(encrypted_content ? { encrypted_content } : {}) });

export async function startModelServer() {
  const requests = [];
  const queue = [];
  let fallback = () => ({ error: 500, message: 'the scripted model has no reply left for this request' });
  const open = new Set();

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body;
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        body = { unparsable: raw };
      }
      const url = req.url ?? '';
      const wire = url.endsWith('/responses') ? 'responses' : url.endsWith('/chat/completions') ? 'chat' : undefined;
      const record = { path: url, wire, body, headers: req.headers, closed: false };
      requests.push(record);
      res.on('close', () => (record.closed = true));
      if (!wire) return sendError(res, 404, `no route ${req.method} ${url}`);
      const next = queue.length > 0 ? queue.shift() : fallback;
      let step;
      try {
        step = typeof next === 'function' ? next(record, requests.length - 1) : next;
      } catch (err) {
        return sendError(res, 500, `script error: ${err.message}`);
      }
      void reply(res, req, wire, body, step ?? fallback(record));
    });
  });
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    /** Appends replies, consumed one per request in order. */
    script(...steps) {
      queue.push(...steps);
    },
    /** The reply once the queue is empty (a step or a function of the request). */
    otherwise(step) {
      fallback = typeof step === 'function' ? step : () => step;
    },
    pending: () => queue.length,
    /** Resolves when `n` requests have arrived; rejects after `timeoutMs`. */
    async waitForRequests(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} model requests, got ${requests.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function reply(res, req, wire, body, step) {
  if (step.delayMs) {
    await new Promise((r) => setTimeout(r, step.delayMs));
    if (res.destroyed) return;
  }
  if (step.error !== undefined) return sendError(res, step.error, step.message ?? `scripted ${step.error}`, step.headers);
  const items = (step.output ?? []).map((item) => resolveItem(item, body, wire));
  const usage = usageFor(step.usage, body);
  if (step.plain) return sendPlain(res, wire, body, items, usage);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  if (wire === 'responses') await streamResponses(res, req, body, items, usage, step);
  else await streamChat(res, req, body, items, usage, step);
}

/** A server that ignores `stream: true`: the whole response as one JSON body. */
function sendPlain(res, wire, body, items, usage) {
  res.writeHead(200, { 'content-type': 'application/json' });
  const text = items.filter((i) => i.type === 'message').map((i) => i.text).join('');
  const out =
    wire === 'responses'
      ? { id: nextId('resp'), object: 'response', status: 'completed', model: body.model, output: items.map(toResponsesItem) }
      : { id: nextId('chatcmpl'), object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens } };
  res.end(JSON.stringify(out));
}

function sendError(res, status, message, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'server_error', code: null } }));
}

/** Turns a scripted item into a concrete output item for this request and wire. */
function resolveItem(item, body, wire) {
  if (item.type === 'apply_patch') {
    const custom = (body.tools ?? []).some((t) => t.type === 'custom' && t.name === 'apply_patch');
    return custom && wire === 'responses'
      ? { type: 'custom_tool_call', name: 'apply_patch', input: item.patch, call_id: item.call_id ?? nextId('call') }
      : { type: 'function_call', name: 'apply_patch', arguments: JSON.stringify({ patch: item.patch }), call_id: item.call_id ?? nextId('call') };
  }
  if (item.type === 'function_call') {
    return { ...item, arguments: typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments), call_id: item.call_id ?? nextId('call') };
  }
  if (item.type === 'custom_tool_call' || item.type === 'tool_search_call') return { ...item, call_id: item.call_id ?? nextId('call') };
  return item;
}

function usageFor(u = {}, body) {
  return {
    input_tokens: u.input_tokens ?? Math.ceil(JSON.stringify(body).length / 4),
    cached_input_tokens: u.cached_input_tokens ?? 0,
    output_tokens: u.output_tokens ?? 10,
    reasoning_tokens: u.reasoning_tokens ?? 0,
  };
}

const halves = (s) => (s.length < 2 ? [s] : [s.slice(0, Math.ceil(s.length / 2)), s.slice(Math.ceil(s.length / 2))]);

function writer(res) {
  return (chunk) => {
    if (res.destroyed || res.writableEnded) return false;
    res.write(chunk);
    return true;
  };
}

/** Keeps the response open until the client goes away (for cancellation and timeout tests). */
function hang(req, res) {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    res.on('close', resolve);
    req.on('close', resolve);
  });
}

async function streamResponses(res, req, body, items, usage, step) {
  const write = writer(res);
  let n = 0;
  const send = (type, data) => write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: n++, ...data })}\n\n`);
  const id = nextId('resp');
  const base = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), model: body.model, output: [], status: 'in_progress' };
  send('response.created', { response: base });
  send('response.in_progress', { response: base });
  if (step.hang) return hang(req, res);
  if (step.malformed) {
    write('event: response.output_item.added\ndata: {"type":"response.output_item.added","item":{"type":"mess\n\n');
    return void res.end();
  }
  const output = [];
  items.forEach((item, index) => {
    const full = toResponsesItem(item);
    const itemId = full.id;
    if (full.type === 'message') {
      send('response.output_item.added', { output_index: index, item: { ...full, status: 'in_progress', content: [] } });
      send('response.content_part.added', { item_id: itemId, output_index: index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      for (const delta of halves(item.text)) send('response.output_text.delta', { item_id: itemId, output_index: index, content_index: 0, delta, logprobs: [] });
      send('response.output_text.done', { item_id: itemId, output_index: index, content_index: 0, text: item.text, logprobs: [] });
      send('response.content_part.done', { item_id: itemId, output_index: index, content_index: 0, part: full.content[0] });
    } else if (full.type === 'function_call') {
      send('response.output_item.added', { output_index: index, item: { ...full, arguments: '', status: 'in_progress' } });
      for (const delta of halves(full.arguments)) send('response.function_call_arguments.delta', { item_id: itemId, output_index: index, delta });
      send('response.function_call_arguments.done', { item_id: itemId, output_index: index, arguments: full.arguments });
    } else if (full.type === 'custom_tool_call') {
      send('response.output_item.added', { output_index: index, item: { ...full, input: '' } });
      for (const delta of halves(full.input)) send('response.custom_tool_call_input.delta', { item_id: itemId, output_index: index, delta });
      send('response.custom_tool_call_input.done', { item_id: itemId, output_index: index, input: full.input });
    } else {
      send('response.output_item.added', { output_index: index, item: full });
    }
    send('response.output_item.done', { output_index: index, item: full });
    output.push(full);
  });
  if (step.truncate) return void res.destroy();
  if (step.streamError) {
    send('error', { code: step.streamError.code ?? null, message: step.streamError.message, param: null });
    return void res.end();
  }
  if (step.failed) {
    send('response.failed', { response: { ...base, status: 'failed', output, error: { code: step.failed.code ?? 'server_error', message: step.failed.message } } });
    return void res.end();
  }
  const end = step.incomplete ? 'response.incomplete' : 'response.completed';
  send(end, {
    response: {
      ...base,
      status: step.incomplete ? 'incomplete' : 'completed',
      ...(step.incomplete ? { incomplete_details: { reason: step.incomplete } } : {}),
      output,
      usage: {
        input_tokens: usage.input_tokens,
        input_tokens_details: { cached_tokens: usage.cached_input_tokens },
        output_tokens: usage.output_tokens,
        output_tokens_details: { reasoning_tokens: usage.reasoning_tokens },
        total_tokens: usage.input_tokens + usage.output_tokens,
      },
    },
  });
  res.end();
}

function toResponsesItem(item) {
  switch (item.type) {
    case 'message':
      return { type: 'message', id: nextId('msg'), role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: item.text, annotations: [] }] };
    case 'function_call':
      return {
        type: 'function_call',
        id: nextId('fc'),
        call_id: item.call_id,
        ...(item.namespace ? { namespace: item.namespace } : {}),
        name: item.name,
        arguments: item.arguments,
        status: 'completed',
      };
    case 'tool_search_call':
      return { type: 'tool_search_call', id: nextId('ts'), call_id: item.call_id, execution: 'client', status: 'completed', arguments: item.arguments };
    case 'custom_tool_call':
      return { type: 'custom_tool_call', id: nextId('ctc'), call_id: item.call_id, name: item.name, input: item.input };
    case 'reasoning':
      return {
        type: 'reasoning',
        id: nextId('rs'),
        summary: item.summary.map((text) => ({ type: 'summary_text', text })),
        ...(item.encrypted_content ? { encrypted_content: item.encrypted_content } : {}),
      };
    default:
      throw new Error(`unknown scripted item type ${item.type}`);
  }
}

async function streamChat(res, req, body, items, usage, step) {
  const write = writer(res);
  const id = nextId('chatcmpl');
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices, extra = {}) =>
    write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices, ...extra })}\n\n`);
  chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
  if (step.hang) return hang(req, res);
  if (step.malformed) {
    write('data: {"id":"x","choices":[{"index":0,"delta":{"content":"he\n\n');
    return void res.end();
  }
  const calls = [];
  for (const item of items) {
    if (item.type === 'message') {
      for (const piece of halves(item.text)) chunk([{ index: 0, delta: { content: piece }, finish_reason: null }]);
    } else if (item.type === 'reasoning') {
      chunk([{ index: 0, delta: { reasoning_content: item.summary.join('\n') }, finish_reason: null }]);
    } else {
      const fn = item.type === 'custom_tool_call' ? { name: item.name, arguments: JSON.stringify({ input: item.input }) } : { name: item.name, arguments: item.arguments };
      calls.push({ id: item.call_id, ...fn });
    }
  }
  calls.forEach((c, index) => {
    chunk([{ index: 0, delta: { tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }, finish_reason: null }]);
    for (const piece of halves(c.arguments)) chunk([{ index: 0, delta: { tool_calls: [{ index, function: { arguments: piece } }] }, finish_reason: null }]);
  });
  if (step.truncate) return void res.destroy();
  chunk([{ index: 0, delta: {}, finish_reason: step.incomplete ? 'length' : calls.length > 0 ? 'tool_calls' : 'stop' }]);
  if (body.stream_options?.include_usage) {
    chunk([], {
      usage: {
        prompt_tokens: usage.input_tokens,
        completion_tokens: usage.output_tokens,
        total_tokens: usage.input_tokens + usage.output_tokens,
        prompt_tokens_details: { cached_tokens: usage.cached_input_tokens },
        completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens },
      },
    });
  }
  write('data: [DONE]\n\n');
  res.end();
}
