// A scripted stand-in for the Anthropic Messages API, for driving the real Claude Code CLI as an
// MCP host (test/e2e/claude-code.e2e.ts): a loopback HTTP server that answers `POST /v1/messages`
// with the real streaming format (message_start, content_block_* with text_delta and
// input_json_delta, message_delta with stop_reason, message_stop) or one JSON message when the
// request does not stream. Each main-loop request takes the next scripted step: a tool call, some
// parallel tool calls, or a final text; a step may also be a function of the request (to act on
// what an earlier tool returned). Requests Claude Code makes on its own (no tools, a tiny
// max_tokens, structured output, a fork of the conversation) are side calls: answered "OK" and
// consuming no step. Every request is recorded, so a test can read exactly what reached the model.
// What Claude Code 2.1 sends and expects is in ../../../shared/research/claude-code-host.md.
import { createServer } from 'node:http';

let seq = 0;

/** One tool_use block; Claude Code names MCP tools `mcp__<server>__<tool>`. */
export const use = (name, input = {}) => ({ tool: name, input });

export async function startAnthropicServer() {
  const requests = [];
  const queue = [];
  let step = 0;
  const open = new Set();

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body = {};
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        body = { unparsable: raw };
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'HEAD' || url.pathname === '/api/hello') return void res.writeHead(200).end();
      if (url.pathname === '/v1/messages/count_tokens') return json(res, 200, { input_tokens: Math.ceil(raw.length / 4) });
      if (url.pathname !== '/v1/messages' || req.method !== 'POST') {
        requests.push({ kind: 'unexpected', method: req.method, path: url.pathname, body });
        return json(res, 404, { type: 'error', error: { type: 'not_found_error', message: `no route ${req.method} ${url.pathname}` } });
      }
      const side = sideCall(body);
      const record = { kind: side ? 'side' : 'main', step: side ? undefined : step, body, toolResults: toolResults(body) };
      requests.push(record);
      if (side) return void send(res, body, { say: 'OK' });
      const next = queue.length > 0 ? queue.shift() : { say: 'The script has no step left.' };
      step++;
      let scripted;
      try {
        scripted = typeof next === 'function' ? next(record, requests) : next;
      } catch (err) {
        scripted = { say: `script error: ${err.message}` };
      }
      record.reply = scripted;
      send(res, body, scripted);
    });
  });
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  return {
    /** ANTHROPIC_BASE_URL (Claude Code appends /v1/messages). */
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Appends steps, one per main-loop request, in order. */
    script(...steps) {
      queue.push(...steps);
    },
    /** Main-loop requests only. */
    main: () => requests.filter((r) => r.kind === 'main'),
    async close() {
      for (const s of open) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A request Claude Code makes besides the main loop (title, suggestions, validation, compaction):
 * no tools, a tiny max_tokens, structured output, or a conversation that does not end with the
 * prompt or tool results.
 */
function sideCall(body) {
  if (!Array.isArray(body.tools) || body.tools.length === 0) return true;
  if (typeof body.max_tokens === 'number' && body.max_tokens <= 512) return true;
  if (body.output_config?.format) return true;
  const messages = (body.messages ?? []).filter((m) => m.role !== 'system');
  const last = messages.at(-1);
  if (!last || last.role === 'assistant') return true;
  const hasResults = Array.isArray(last.content) && last.content.some((b) => b.type === 'tool_result');
  return !hasResults && messages.some((m) => m.role === 'assistant');
}

/** The tool_result blocks of the request's last user message, with their text joined. */
function toolResults(body) {
  const last = (body.messages ?? []).filter((m) => m.role === 'user').at(-1);
  if (!last || !Array.isArray(last.content)) return [];
  return last.content
    .filter((b) => b.type === 'tool_result')
    .map((b) => ({
      tool_use_id: b.tool_use_id,
      is_error: b.is_error === true,
      text: typeof b.content === 'string' ? b.content : (b.content ?? []).map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n'),
      content: b.content,
    }));
}

/** The scripted step as content blocks, with ids for tool uses. */
function blocksOf(scripted) {
  const blocks = [];
  if (scripted.say !== undefined) blocks.push({ type: 'text', text: scripted.say });
  const uses = scripted.tools ?? (scripted.tool ? [{ tool: scripted.tool, input: scripted.input ?? {} }] : []);
  for (const u of uses) blocks.push({ type: 'tool_use', id: `toolu_mock_${++seq}_${Math.random().toString(36).slice(2, 8)}`, name: u.tool, input: u.input ?? {} });
  scripted.ids = blocks.filter((b) => b.type === 'tool_use').map((b) => b.id);
  return blocks;
}

function send(res, body, scripted) {
  const blocks = blocksOf(scripted);
  const stop = blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
  const message = { id: `msg_mock_${++seq}`, type: 'message', role: 'assistant', model: body.model ?? 'mock', stop_sequence: null };
  const usage = { input_tokens: 40, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  if (!body.stream) return json(res, 200, { ...message, content: blocks, stop_reason: stop, usage: { ...usage, output_tokens: 25 } });
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_mock_${seq}` });
  const event = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  event('message_start', { message: { ...message, content: [], stop_reason: null, usage } });
  event('ping', {});
  blocks.forEach((b, index) => {
    if (b.type === 'text') {
      event('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (let i = 0; i < b.text.length; i += 40) event('content_block_delta', { index, delta: { type: 'text_delta', text: b.text.slice(i, i + 40) } });
    } else {
      event('content_block_start', { index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
      const input = JSON.stringify(b.input);
      for (let i = 0; i < input.length; i += 40) event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: input.slice(i, i + 40) } });
    }
    event('content_block_stop', { index });
  });
  event('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 25 } });
  event('message_stop', {});
  res.end();
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
