// The model client: one streamed request to an OpenAI-compatible endpoint, over the Responses API
// or Chat Completions, with tool calls. It turns agentbox's items into the wire's format, reads the
// stream into output items and usage, retries 429/5xx/network failures with backoff, and ends
// with a clear failure. It does not decide anything about the conversation (loop.ts does).
//
// Streams are read with the `openai` package. Its own retries are off (they would not cover a
// stream that breaks after the headers); this module retries whole requests instead, which is
// safe because nothing of a response is acted on until it has completed.
import type OpenAI from 'openai';
import type { APIError } from 'openai';
import type { ReasoningEffort } from '../config/index.js';
import { fail, ok, type Failure, type Result } from '../util/result.js';
import { sleep } from '../util/wait.js';
import { zeroUsage, type Item, type Usage } from './items.js';
import { isOpenAIReasoningModel, type ResolvedProvider } from './provider.js';

/** A tool as the model sees it: a JSON function, or a freeform tool whose input is raw text. */
export type ModelTool =
  | { kind: 'function'; name: string; description: string; parameters: Record<string, unknown> }
  | { kind: 'freeform'; name: string; description: string; grammar?: { syntax: 'lark' | 'regex'; definition: string } };

export interface ModelRequest {
  model: string;
  /** The base instructions (Responses `instructions`; the start of the system message on chat). */
  instructions: string;
  input: readonly Item[];
  tools: readonly ModelTool[];
  reasoningEffort?: ReasoningEffort;
  /** A JSON Schema the final answer must follow (structured output). */
  outputSchema?: Record<string, unknown>;
  /** Sent as prompt_cache_key to OpenAI (the thread id), so a thread's requests share a cache. */
  cacheKey?: string;
}

export interface ModelResponse {
  items: Item[];
  usage: Usage;
  /** False when the endpoint sent no usage; the loop then estimates context size itself. */
  usageReported: boolean;
  /** Why a response stopped early (e.g. max_output_tokens), when it did. */
  incomplete?: string;
}

export interface CompleteOptions {
  signal: AbortSignal;
  /** Called before each retry, with the reason and the wait. */
  onRetry?(info: { attempt: number; delayMs: number; reason: string }): void;
}

export interface ModelClient {
  readonly provider: ResolvedProvider;
  /**
   * One response. Fails with code `aborted` when `signal` fires, `model_bad_request` for a 400/422,
   * `model_error` for other refusals, `model_unavailable` when the retries ran out.
   */
  complete(req: ModelRequest, opts: CompleteOptions): Promise<Result<ModelResponse>>;
}

export interface ModelClientOptions {
  /** First retry delay; doubled per attempt up to 8 s (tests and benchmarks lower it). */
  retryBaseMs?: number;
}

/** A stream problem that is not an HTTP error: a broken or failed stream. */
class StreamError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/**
 * The openai package, loaded on the first model request: it is a large part of what a server would
 * otherwise parse at start-up, and a server that never delegates never needs it.
 */
let openaiModule: typeof import('openai') | undefined;
async function loadOpenAI(): Promise<typeof import('openai')> {
  openaiModule ??= await import('openai');
  return openaiModule;
}

export function createModelClient(provider: ResolvedProvider, opts: ModelClientOptions = {}): ModelClient {
  let client: OpenAI | undefined;
  const clientFor = async (): Promise<OpenAI> => {
    const { default: OpenAIClient } = await loadOpenAI();
    client ??= new OpenAIClient({
      apiKey: provider.apiKey ?? 'none',
      baseURL: provider.baseUrl,
      maxRetries: 0,
      timeout: provider.requestTimeoutMs,
      defaultHeaders: provider.headers,
      // Failures are reported as results (and logged by the caller), not printed by the library.
      logLevel: 'off',
    });
    return client;
  };
  const stream = provider.wire === 'chat' ? streamChat : streamResponses;
  const retryBase = opts.retryBaseMs ?? 500;

  return {
    provider,
    async complete(req, { signal, onRetry }) {
      for (let attempt = 0; ; attempt++) {
        if (signal.aborted) return aborted();
        // Each attempt has its own controller: the caller's signal, or silence for too long.
        const controller = new AbortController();
        const forward = () => controller.abort(signal.reason);
        signal.addEventListener('abort', forward, { once: true });
        const idle = idleTimer(provider.requestTimeoutMs, () => controller.abort(new Error('idle')));
        try {
          return ok(await stream(await clientFor(), provider, req, controller.signal, idle.touch));
        } catch (err) {
          if (signal.aborted) return aborted();
          const problem = classify(err, idle.fired(), provider);
          if (!problem.retryable) return fail(problem.code ?? 'model_error', problem.message, problem.hint);
          if (attempt >= provider.maxRetries) {
            return fail(
              'model_unavailable',
              `The model endpoint ${provider.baseUrl} failed ${attempt + 1} time${attempt ? 's' : ''}; last error: ${problem.message}`,
              `Check that the server is up and serves model ${JSON.stringify(req.model)}; retries are set by model_providers.${provider.id}.max_retries.`,
            );
          }
          const delayMs = backoff(attempt, retryBase, problem.retryAfterMs);
          onRetry?.({ attempt: attempt + 1, delayMs, reason: problem.message });
          if (!(await sleep(delayMs, signal))) return aborted();
        } finally {
          idle.stop();
          signal.removeEventListener('abort', forward);
        }
      }
    },
  };
}

const aborted = (): { ok: false; error: Failure } => fail('aborted', 'The model request was cancelled.');

// ---- Responses wire ---------------------------------------------------------------------------

async function streamResponses(
  client: OpenAI,
  provider: ResolvedProvider,
  req: ModelRequest,
  signal: AbortSignal,
  touch: () => void,
): Promise<ModelResponse> {
  const body: Record<string, unknown> = {
    model: req.model,
    instructions: req.instructions,
    input: req.input.flatMap(toResponsesInput),
    store: false,
    stream: true,
  };
  if (req.tools.length > 0) {
    body.tools = req.tools.map(toResponsesTool);
    body.tool_choice = 'auto';
    body.parallel_tool_calls = true;
  }
  if (req.reasoningEffort) body.reasoning = { effort: req.reasoningEffort, summary: 'auto' };
  // Reasoning is replayed in later requests (toResponsesInput), which needs its encrypted content.
  if (provider.isOpenAI && (req.reasoningEffort || isOpenAIReasoningModel(provider, req.model))) body.include = ['reasoning.encrypted_content'];
  if (req.cacheKey && provider.isOpenAI) body.prompt_cache_key = req.cacheKey;
  if (req.outputSchema) body.text = { format: { type: 'json_schema', name: 'output', schema: req.outputSchema, strict: false } };

  const endpoint = `${provider.baseUrl}/responses`;
  const { data: events, response } = await client.responses.create(body as unknown as OpenAI.Responses.ResponseCreateParamsStreaming, { signal }).withResponse();
  checkEventStream(response, endpoint);
  let items: Item[] = [];
  let final: OpenAI.Responses.Response | undefined;
  let incomplete: string | undefined;
  for await (const event of readStream(events, endpoint)) {
    touch();
    switch (event.type) {
      case 'response.output_item.done': {
        const item = fromResponsesItem(event.item);
        if (item) items.push(item);
        break;
      }
      case 'response.completed':
        final = event.response;
        break;
      case 'response.incomplete':
        final = event.response;
        incomplete = event.response.incomplete_details?.reason ?? 'incomplete';
        break;
      case 'response.failed': {
        const error = event.response.error;
        throw new StreamError(`the response failed: ${error?.message ?? 'no reason given'}${error?.code ? ` (${error.code})` : ''}`, retryableCode(error?.code));
      }
      case 'error':
        throw new StreamError(`the stream reported an error: ${event.message}${event.code ? ` (${event.code})` : ''}`, retryableCode(event.code));
    }
  }
  if (!final) throw new StreamError(signal.aborted ? 'no data arrived in time' : 'the stream ended before response.completed', true);
  if (items.length === 0 && final.output?.length) items = final.output.map(fromResponsesItem).filter((i): i is Item => i !== undefined);
  const u = final.usage;
  const usage: Usage = u
    ? {
        input_tokens: u.input_tokens ?? 0,
        cached_input_tokens: u.input_tokens_details?.cached_tokens ?? 0,
        output_tokens: u.output_tokens ?? 0,
        reasoning_tokens: u.output_tokens_details?.reasoning_tokens ?? 0,
      }
    : zeroUsage();
  return { items, usage, usageReported: u !== undefined && u !== null, ...(incomplete ? { incomplete } : {}) };
}

function toResponsesTool(tool: ModelTool): Record<string, unknown> {
  if (tool.kind === 'function') {
    return { type: 'function', name: tool.name, description: tool.description, parameters: tool.parameters, strict: false };
  }
  return {
    type: 'custom',
    name: tool.name,
    description: tool.description,
    ...(tool.grammar ? { format: { type: 'grammar', syntax: tool.grammar.syntax, definition: tool.grammar.definition } } : {}),
  };
}

function toResponsesInput(item: Item): Record<string, unknown>[] {
  switch (item.type) {
    case 'message':
      return [{ type: 'message', role: item.role, content: item.content }];
    case 'reasoning':
      // Without stored responses a reasoning item can only be replayed with its encrypted content.
      return item.encrypted_content
        ? [{ type: 'reasoning', id: item.id, summary: item.summary.map((text) => ({ type: 'summary_text', text })), encrypted_content: item.encrypted_content }]
        : [];
    default:
      return [{ ...item }];
  }
}

function fromResponsesItem(item: OpenAI.Responses.ResponseOutputItem): Item | undefined {
  switch (item.type) {
    case 'message': {
      const text = item.content.map((c) => (c.type === 'output_text' ? c.text : c.type === 'refusal' ? c.refusal : '')).join('');
      return { type: 'message', role: 'assistant', content: text };
    }
    case 'reasoning':
      return {
        type: 'reasoning',
        ...(item.id ? { id: item.id } : {}),
        summary: (item.summary ?? []).map((s) => s.text),
        ...(item.encrypted_content ? { encrypted_content: item.encrypted_content } : {}),
      };
    case 'function_call':
      return { type: 'function_call', call_id: item.call_id, name: item.name, arguments: item.arguments ?? '' };
    case 'custom_tool_call':
      return { type: 'custom_tool_call', call_id: item.call_id, name: item.name, input: item.input ?? '' };
    default:
      return undefined;
  }
}

// ---- Chat Completions wire --------------------------------------------------------------------

async function streamChat(
  client: OpenAI,
  provider: ResolvedProvider,
  req: ModelRequest,
  signal: AbortSignal,
  touch: () => void,
): Promise<ModelResponse> {
  const body: Record<string, unknown> = {
    model: req.model,
    messages: toChatMessages(req.instructions, req.input),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (req.tools.length > 0) {
    body.tools = req.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        description: tool.description,
        // The chat wire has no freeform tools: a freeform tool takes its text as `input`.
        parameters:
          tool.kind === 'function'
            ? tool.parameters
            : { type: 'object', properties: { input: { type: 'string' } }, required: ['input'], additionalProperties: false },
      },
    }));
    body.tool_choice = 'auto';
  }
  if (req.reasoningEffort) body.reasoning_effort = req.reasoningEffort;
  if (req.outputSchema) body.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: req.outputSchema, strict: false } };

  const endpoint = `${provider.baseUrl}/chat/completions`;
  const { data: chunks, response } = await client.chat.completions.create(body as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming, { signal }).withResponse();
  checkEventStream(response, endpoint);
  let text = '';
  let reasoning = '';
  let finish: string | undefined;
  let usage: OpenAI.CompletionUsage | undefined;
  const calls = new Map<number, { id: string; name: string; args: string }>();
  for await (const chunk of readStream(chunks, endpoint)) {
    touch();
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta as (typeof choice.delta & { reasoning_content?: string; reasoning?: string }) | undefined;
      if (delta?.content) text += delta.content;
      const thought = delta?.reasoning_content ?? delta?.reasoning;
      if (typeof thought === 'string') reasoning += thought;
      for (const tc of delta?.tool_calls ?? []) {
        const slot = calls.get(tc.index) ?? { id: '', name: '', args: '' };
        if (tc.id) slot.id = tc.id;
        const name = tc.function?.name;
        if (name) slot.name = slot.name === '' || slot.name === name ? name : slot.name + name;
        if (tc.function?.arguments) slot.args += tc.function.arguments;
        calls.set(tc.index, slot);
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  if (!finish) throw new StreamError(signal.aborted ? 'no data arrived in time' : 'the stream ended before a finish_reason', true);

  const items: Item[] = [];
  if (reasoning.trim()) items.push({ type: 'reasoning', summary: [reasoning.trim()] });
  if (text) items.push({ type: 'message', role: 'assistant', content: text });
  for (const [index, call] of [...calls.entries()].sort((a, b) => a[0] - b[0])) {
    items.push({ type: 'function_call', call_id: call.id || `call_${index}_${Math.random().toString(36).slice(2, 10)}`, name: call.name, arguments: call.args });
  }
  return {
    items,
    usage: usage
      ? {
          input_tokens: usage.prompt_tokens ?? 0,
          cached_input_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
          output_tokens: usage.completion_tokens ?? 0,
          reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
        }
      : zeroUsage(),
    usageReported: usage !== undefined,
    ...(finish === 'length' ? { incomplete: 'max_output_tokens' } : {}),
  };
}

type ChatMessage = Record<string, unknown> & { role: string };

/**
 * Items to chat messages. Many local servers' chat templates accept one system message and
 * alternating turns, so developer messages join the system message and consecutive user
 * messages are merged; tool calls attach to the assistant message before them.
 */
export function toChatMessages(instructions: string, items: readonly Item[]): ChatMessage[] {
  const system = [instructions, ...items.filter((i) => i.type === 'message' && i.role === 'developer').map((i) => (i as { content: string }).content)]
    .filter((s) => s.trim() !== '')
    .join('\n\n');
  const out: ChatMessage[] = system ? [{ role: 'system', content: system }] : [];
  const last = () => out[out.length - 1];
  for (const item of items) {
    switch (item.type) {
      case 'message': {
        if (item.role === 'developer') break;
        const prev = last();
        if (item.role === 'user' && prev?.role === 'user' && typeof prev.content === 'string') prev.content = `${prev.content}\n\n${item.content}`;
        else out.push({ role: item.role, content: item.content });
        break;
      }
      case 'function_call':
      case 'custom_tool_call': {
        const call = {
          id: item.call_id,
          type: 'function',
          function: { name: item.name, arguments: item.type === 'function_call' ? item.arguments : JSON.stringify({ input: item.input }) },
        };
        const prev = last();
        if (prev?.role === 'assistant') (prev.tool_calls as unknown[] | undefined) ? (prev.tool_calls as unknown[]).push(call) : (prev.tool_calls = [call]);
        else out.push({ role: 'assistant', content: null, tool_calls: [call] });
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output':
        out.push({ role: 'tool', tool_call_id: item.call_id, content: item.output });
        break;
      case 'reasoning':
        break;
    }
  }
  return out;
}

// ---- failures and retries ---------------------------------------------------------------------

/** A reply that is not a server-sent event stream (a server that ignores `stream: true`). */
function checkEventStream(response: Response, endpoint: string): void {
  const type = response.headers.get('content-type') ?? '';
  if (/^text\/event-stream\b/i.test(type)) return;
  throw new StreamError(
    `malformed stream data from ${endpoint}: the reply is ${type ? `${type.split(';')[0]}` : 'without a content type'}, not text/event-stream (does the server support stream: true?)`,
    true,
  );
}

/** The stream's events; data that is not JSON becomes a retryable StreamError naming the endpoint. */
async function* readStream<T>(stream: AsyncIterable<T>, endpoint: string): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (err) {
    if (err instanceof SyntaxError) throw new StreamError(`malformed stream data from ${endpoint}: ${err.message}`, true);
    throw err;
  }
}

interface Problem {
  message: string;
  retryable: boolean;
  /** A Failure code other than the default `model_error`. */
  code?: string;
  hint?: string;
  retryAfterMs?: number;
}

function classify(err: unknown, idleFired: boolean, provider: ResolvedProvider): Problem {
  if (idleFired) return { message: `no data from the model for ${provider.requestTimeoutMs} ms (model_providers.${provider.id}.request_timeout_ms)`, retryable: true };
  if (err instanceof StreamError) return { message: err.message, retryable: err.retryable };
  if (!openaiModule) return { message: `cannot load the openai package: ${(err as Error)?.message ?? String(err)}`, retryable: false };
  const { APIUserAbortError, APIConnectionError, APIError } = openaiModule;
  if (err instanceof APIUserAbortError) return { message: 'the request was aborted', retryable: true };
  if (err instanceof APIConnectionError) {
    const cause = (err.cause as Error | undefined)?.message;
    return { message: `cannot reach ${provider.baseUrl}: ${err.message}${cause && !err.message.includes(cause) ? ` (${cause})` : ''}`, retryable: true };
  }
  if (err instanceof APIError) {
    const status = err.status;
    const detail = apiErrorDetail(err);
    const message = `${status ?? 'error'} from ${provider.baseUrl}: ${detail}`;
    if (status === undefined || status === 408 || status === 409 || status === 429 || status >= 500) {
      return { message, retryable: true, ...retryAfter(err.headers) };
    }
    const hint =
      status === 401 || status === 403
        ? `Check the API key for provider ${provider.id} (model_providers.${provider.id}.env_key).`
        : status === 404
          ? `Check model_providers.${provider.id}.base_url (it usually ends in /v1) and the model name; wire_api is ${provider.wire}.`
          : undefined;
    return {
      message: `The model endpoint rejected the request: ${message}`,
      retryable: false,
      ...(status === 400 || status === 422 ? { code: 'model_bad_request' } : {}),
      ...(hint ? { hint } : {}),
    };
  }
  return { message: `unexpected error from the model client: ${(err as Error)?.message ?? String(err)}`, retryable: false };
}

function apiErrorDetail(err: APIError): string {
  const body = err.error as { message?: string } | undefined;
  const text = body?.message ?? err.message.replace(/^\d+\s*/, '');
  return text.length > 500 ? `${text.slice(0, 500)}…` : text || 'no details';
}

function retryAfter(headers: Headers | undefined): { retryAfterMs?: number } {
  const ms = Number(headers?.get?.('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return { retryAfterMs: ms };
  const s = Number(headers?.get?.('retry-after'));
  if (Number.isFinite(s) && s > 0) return { retryAfterMs: s * 1000 };
  return {};
}

function retryableCode(code: string | null | undefined): boolean {
  return !code || /server_error|rate_limit|overloaded|timeout|unavailable/i.test(code);
}

/** Exponential backoff with ±20% jitter, capped at 8 s; a server's retry-after wins up to 60 s. */
function backoff(attempt: number, baseMs: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, 60_000);
  const raw = Math.min(8_000, baseMs * 2 ** attempt);
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

/** Fires `onIdle` when `touch` has not been called for `ms` (one timer, re-armed only when it fires early). */
function idleTimer(ms: number, onIdle: () => void) {
  let fired = false;
  let last = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const quiet = Date.now() - last;
    if (quiet >= ms) {
      fired = true;
      onIdle();
    } else {
      timer = setTimeout(check, ms - quiet);
      timer.unref?.();
    }
  };
  timer = setTimeout(check, ms);
  timer.unref?.();
  return {
    touch: () => void (last = Date.now()),
    fired: () => fired,
    stop: () => timer && clearTimeout(timer),
  };
}
