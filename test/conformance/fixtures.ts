// Test-only fixtures for the official MCP conformance suite (@modelcontextprotocol/conformance):
// the `test_*` tools, `test://` resources and templates and `test_*` prompts its server scenarios
// call by name (../shared/research/conformance-artifacts/conformance-0.1.16-server-scenario-requirements.md).
// They are registered on agentbox's own McpServer through createServer's `extend` hook, so the
// suite exercises agentbox's real server and HTTP transport next to these fixtures. Never part of
// the published package (only dist/ is): see test/conformance/server.ts and docs/conformance.md.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
  type ElicitRequestFormParams,
  type JSONRPCMessage,
  type LoggingLevel,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { SessionContext } from '../../src/session.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A 1x1 sea-green RGB PNG (made with zlib: IHDR 1x1 8-bit RGB, one filtered scanline, IEND). */
export const PNG_1X1_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGPQ6w4HAAH7ARF0JhTpAAAAAElFTkSuQmCC';

/** A valid WAV file: 8 kHz mono 16-bit PCM, `samples` samples of silence. */
export function silentWav(samples = 8): Buffer {
  const data = samples * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16); // fmt chunk size
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(8000, 24); // sample rate
  b.writeUInt32LE(8000 * 2, 28); // byte rate
  b.writeUInt16LE(2, 32); // block align
  b.writeUInt16LE(16, 34); // bits per sample
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(data, 40);
  return b;
}

const WAV_BASE64 = silentWav().toString('base64');
const COMPLETIONS = ['paris', 'park', 'party', 'pasta', 'alpha', 'beta'];

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });
const failure = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }], isError: true });

/**
 * An in-memory SSE event store for one session (resumability, SEP-1699), for the pending
 * `server-sse-polling` scenario: serveHttp keeps each stream's events so a client that lost the
 * stream can reconnect with Last-Event-ID and get the rest. Grows for the session's lifetime.
 */
export function memoryEventStore(): EventStore {
  const events: Array<{ id: string; streamId: string; message: JSONRPCMessage }> = [];
  let seq = 0;
  return {
    async storeEvent(streamId, message) {
      const id = `${streamId}:${++seq}`;
      events.push({ id, streamId, message });
      return id;
    },
    async getStreamIdForEventId(eventId) {
      return events.find((e) => e.id === eventId)?.streamId;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const at = events.findIndex((e) => e.id === lastEventId);
      if (at < 0) throw new Error(`Unknown Last-Event-ID ${lastEventId}`);
      const { streamId } = events[at]!;
      for (const e of events.slice(at + 1)) {
        // Priming events carry an empty message: they mark a position, there is nothing to resend.
        if (e.streamId === streamId && Object.keys(e.message).length > 0) await send(e.id, e.message);
      }
      return streamId;
    },
  };
}

/** Registers every fixture the conformance server scenarios need on one session's server. */
export function registerConformanceFixtures(server: McpServer, session: SessionContext): void {
  // resources/subscribe needs the capability declared before connect (extend runs before it).
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });

  // Notifications are sent as related to the tool call, so over Streamable HTTP they travel on
  // the call's own SSE stream (not the optional standalone GET stream).
  const log = (extra: Extra, level: LoggingLevel, data: string) =>
    extra.sendNotification({ method: 'notifications/message', params: { level, logger: 'conformance', data } });

  const elicit = async (extra: Extra, params: ElicitRequestFormParams): Promise<CallToolResult> => {
    if (!server.server.getClientCapabilities()?.elicitation) return failure('The client does not support elicitation.');
    const r = await extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema, { signal: extra.signal });
    return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
  };

  // ---- tools ----------------------------------------------------------------------------------

  server.registerTool('test_simple_text', { description: 'Conformance: returns one text item.', inputSchema: {} }, async () =>
    text('This is a simple text response for testing.'),
  );

  server.registerTool('test_image_content', { description: 'Conformance: returns one PNG image item.', inputSchema: {} }, async () => ({
    content: [{ type: 'image', data: PNG_1X1_BASE64, mimeType: 'image/png' }],
  }));

  server.registerTool('test_audio_content', { description: 'Conformance: returns one WAV audio item.', inputSchema: {} }, async () => ({
    content: [{ type: 'audio', data: WAV_BASE64, mimeType: 'audio/wav' }],
  }));

  server.registerTool('test_embedded_resource', { description: 'Conformance: returns one embedded text resource.', inputSchema: {} }, async () => ({
    content: [
      {
        type: 'resource',
        resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' },
      },
    ],
  }));

  server.registerTool(
    'test_multiple_content_types',
    { description: 'Conformance: returns text, image and embedded resource items.', inputSchema: {} },
    async () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG_1X1_BASE64, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) },
        },
      ],
    }),
  );

  server.registerTool(
    'test_tool_with_logging',
    { description: 'Conformance: sends three info log notifications while it runs.', inputSchema: {} },
    async (_args, extra) => {
      await log(extra, 'info', 'Tool execution started');
      await sleep(50, extra.signal);
      await log(extra, 'info', 'Tool processing data');
      await sleep(50, extra.signal);
      await log(extra, 'info', 'Tool execution completed');
      return text('Tool with logging executed successfully');
    },
  );

  server.registerTool(
    'test_tool_with_progress',
    { description: 'Conformance: reports progress 0, 50 and 100 of 100 when given a progress token.', inputSchema: {} },
    async (_args, extra) => {
      const progressToken = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progress > 0) await sleep(50, extra.signal);
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100, message: `Completed ${progress} of 100` },
          });
        }
      }
      return text(`Tool with progress executed successfully (token ${JSON.stringify(progressToken ?? null)})`);
    },
  );

  server.registerTool('test_error_handling', { description: 'Conformance: always fails.', inputSchema: {} }, async () => {
    throw new Error('This tool intentionally returns an error for testing');
  });

  server.registerTool(
    'test_sampling',
    { description: 'Conformance: asks the client to sample an LLM reply to `prompt`.', inputSchema: { prompt: z.string().describe('The prompt to send to the LLM') } },
    async ({ prompt }, extra) => {
      if (!server.server.getClientCapabilities()?.sampling) return failure('The client does not support sampling.');
      const r = await extra.sendRequest(
        { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 } },
        CreateMessageResultSchema,
        { signal: extra.signal },
      );
      const reply = r.content.type === 'text' ? r.content.text : `(${r.content.type} content)`;
      return text(`LLM response: ${reply}`);
    },
  );

  server.registerTool(
    'test_elicitation',
    { description: 'Conformance: asks the user for a username and email.', inputSchema: { message: z.string().describe('The message to show the user') } },
    async ({ message }, extra) =>
      elicit(extra, {
        mode: 'form',
        message,
        requestedSchema: {
          type: 'object',
          properties: {
            username: { type: 'string', description: "User's response" },
            email: { type: 'string', description: "User's email address" },
          },
          required: ['username', 'email'],
        },
      }),
  );

  server.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Conformance: elicitation whose fields all carry defaults (SEP-1034).', inputSchema: {} },
    async (_args, extra) =>
      elicit(extra, {
        mode: 'form',
        message: 'Please review the fields; each has a default.',
        requestedSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'User name', default: 'John Doe' },
            age: { type: 'integer', description: 'User age', default: 30 },
            score: { type: 'number', description: 'User score', default: 95.5 },
            status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
            verified: { type: 'boolean', description: 'Verified', default: true },
          },
          required: [],
        },
      }),
  );

  server.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Conformance: elicitation with the five enum forms (SEP-1330).', inputSchema: {} },
    async (_args, extra) =>
      elicit(extra, {
        mode: 'form',
        message: 'Please choose from the enum fields.',
        requestedSchema: {
          type: 'object',
          properties: {
            untitledSingle: { type: 'string', description: 'Pick one', enum: ['option1', 'option2', 'option3'] },
            titledSingle: {
              type: 'string',
              description: 'Pick one (titled)',
              oneOf: [
                { const: 'value1', title: 'First Option' },
                { const: 'value2', title: 'Second Option' },
                { const: 'value3', title: 'Third Option' },
              ],
            },
            legacyEnum: {
              type: 'string',
              description: 'Pick one (legacy enumNames)',
              enum: ['opt1', 'opt2', 'opt3'],
              enumNames: ['Option One', 'Option Two', 'Option Three'],
            },
            untitledMulti: {
              type: 'array',
              description: 'Pick several',
              items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
            },
            titledMulti: {
              type: 'array',
              description: 'Pick several (titled)',
              items: {
                anyOf: [
                  { const: 'value1', title: 'First Choice' },
                  { const: 'value2', title: 'Second Choice' },
                  { const: 'value3', title: 'Third Choice' },
                ],
              },
            },
          },
          required: [],
        },
      }),
  );

  server.registerTool(
    'test_reconnection',
    { description: 'Conformance: closes its own SSE stream mid-call, then answers (needs an event store).', inputSchema: {} },
    async (_args, extra) => {
      // Without an event store the transport offers no closeSSEStream; fail rather than pass falsely.
      if (!extra.closeSSEStream) return failure('This server was started without an SSE event store: streams are not resumable.');
      extra.closeSSEStream();
      await sleep(100, extra.signal);
      return text('Reconnection test completed: the result arrived after the stream was closed.');
    },
  );

  // ---- resources ------------------------------------------------------------------------------

  server.registerResource(
    'static-text',
    'test://static-text',
    { title: 'Static text', description: 'Conformance: a static text resource.', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] }),
  );

  server.registerResource(
    'static-binary',
    'test://static-binary',
    { title: 'Static binary', description: 'Conformance: a static PNG resource.', mimeType: 'image/png' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG_1X1_BASE64 }] }),
  );

  server.registerResource(
    'watched-resource',
    'test://watched-resource',
    { title: 'Watched resource', description: 'Conformance: a resource clients may subscribe to.', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content' }] }),
  );

  server.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { title: 'Template', description: 'Conformance: a resource template with one parameter.', mimeType: 'application/json' },
    async (uri, { id }) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${String(id)}` }) }],
    }),
  );

  // Subscriptions are per session; nothing changes these resources, so no update is ever sent.
  const subscribed = new Set<string>();
  session.onClose(() => subscribed.clear());
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    subscribed.add(req.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subscribed.delete(req.params.uri);
    return {};
  });

  // ---- prompts --------------------------------------------------------------------------------

  server.registerPrompt('test_simple_prompt', { title: 'Simple prompt', description: 'Conformance: a prompt without arguments.' }, async () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));

  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt with arguments',
      description: 'Conformance: a prompt with two required arguments; arg1 offers completions.',
      argsSchema: {
        arg1: completable(z.string().describe('First test argument'), (value) => COMPLETIONS.filter((c) => c.startsWith(value ?? ''))),
        arg2: z.string().describe('Second test argument'),
      },
    },
    async ({ arg1, arg2 }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }],
    }),
  );

  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      title: 'Prompt with embedded resource',
      description: 'Conformance: a prompt embedding the resource named by resourceUri.',
      argsSchema: { resourceUri: z.string().describe('URI of the resource to embed') },
    },
    async ({ resourceUri }) => ({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );

  server.registerPrompt('test_prompt_with_image', { title: 'Prompt with image', description: 'Conformance: a prompt with an image.' }, async () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG_1X1_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
}
