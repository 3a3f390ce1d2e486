// Streamable HTTP at /mcp. Stateful sessions, one McpServer per session (as the SDK's
// simpleStreamableHttp example): 400 when a non-initialize request has no Mcp-Session-Id, 404 for
// an unknown or closed one, DELETE closes. The MCP routes live on the SDK's createMcpExpressApp()
// (Host header validation against DNS rebinding); in front of it sit the Origin check, bearer-token
// auth and the body limit (413), which that app does not offer.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { hostHeaderValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import { StreamableHTTPServerTransport, type EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { ConfigError } from '../config/index.js';
import type { Runtime } from '../runtime.js';
import { createServer, type CreateServerOptions } from '../server.js';
import { HttpSessions } from './http-sessions.js';

export interface HttpHandle {
  url: string;
  port: number;
  /** Number of open MCP sessions. */
  sessionCount(): number;
  /** Stops accepting, closes every session and the listener. */
  close(): Promise<void>;
}

export interface ServeHttpOptions extends CreateServerOptions {
  /**
   * Resumable SSE streams (SEP-1699): a new event store per session, so a client that lost a
   * stream can reconnect with Last-Event-ID. Off unless given (only the conformance fixtures use it).
   */
  eventStore?: () => EventStore;
  /** SSE `retry:` in milliseconds sent to clients, with an event store. */
  retryInterval?: number;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function serveHttp(runtime: Runtime, opts: ServeHttpOptions = {}): Promise<HttpHandle> {
  const { http } = runtime.config;
  if (!isLoopbackHost(http.host) && !http.auth_token) {
    throw new ConfigError(
      `refusing to listen on ${http.host} without an auth token: anyone who can reach this address could run commands.\n` +
        'Set --auth-token (or AGENTBOX_AUTH_TOKEN, or http.auth_token in config.toml) to a long random string, e.g. `openssl rand -hex 32`, or bind 127.0.0.1.',
    );
  }

  const sessions = new HttpSessions(http.max_sessions, http.session_idle_ms, (id) => {
    const entry = sessions.get(id);
    runtime.log.info({ session: id }, 'closing an idle http session');
    void entry?.transport.close();
  });
  // Host validation against DNS rebinding for every loopback bind (createMcpExpressApp adds it
  // only for exactly 127.0.0.1, localhost and ::1), or for the configured names.
  const allowedHosts =
    http.allowed_hosts.length > 0
      ? http.allowed_hosts
      : isLoopbackHost(http.host)
        ? [...new Set(['localhost', '127.0.0.1', '[::1]', http.host.includes(':') && !http.host.startsWith('[') ? `[${http.host}]` : http.host])]
        : undefined;
  const mcp = quietly(() => createMcpExpressApp({ host: http.host, ...(allowedHosts ? { allowedHosts } : {}) }));
  if (!allowedHosts) {
    runtime.log.info({ host: http.host }, 'no Host header check on a wildcard bind (every request needs the bearer token); set http.allowed_hosts to add one');
  }

  mcp.post('/mcp', async (req: Request, res: Response) => {
    if (!req.is('application/json') && !req.is('application/*+json')) {
      return void jsonRpcError(res, 415, -32000, 'Unsupported Media Type: send JSON-RPC with Content-Type: application/json.');
    }
    const id = req.header('mcp-session-id');
    if (id) {
      const entry = sessions.get(id);
      if (!entry) return void jsonRpcError(res, 404, -32001, `Session not found: ${id}. Start a new session with initialize.`);
      sessions.track(entry, res);
      return void (await entry.transport.handleRequest(req, res, req.body));
    }
    if (!isInitializeRequest(req.body)) {
      return void jsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required (send initialize first).');
    }
    if (sessions.size >= sessions.max) {
      res.setHeader('Retry-After', '5');
      return void jsonRpcError(res, 503, -32000, `Too many open sessions (${sessions.max}, http.max_sessions): close one with DELETE /mcp or retry later.`);
    }
    const created = createServer(runtime, opts);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      ...(opts.eventStore ? { eventStore: opts.eventStore(), retryInterval: opts.retryInterval } : {}),
      onsessioninitialized: (sid) => {
        sessions.add(sid, { transport, created, active: 0, lastSeen: Date.now() });
        runtime.log.debug({ session: sid, open: sessions.size }, 'http session opened');
      },
    });
    transport.onclose = () => {
      const sid = transport.sessionId;
      if (sid && sessions.delete(sid)) runtime.log.debug({ session: sid, open: sessions.size }, 'http session closed');
      void created.close();
    };
    await created.server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });

  const existingSession = async (req: Request, res: Response) => {
    const id = req.header('mcp-session-id');
    if (!id) return void jsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required.');
    const entry = sessions.get(id);
    if (!entry) return void jsonRpcError(res, 404, -32001, `Session not found: ${id}.`);
    sessions.track(entry, res);
    await entry.transport.handleRequest(req, res);
  };
  mcp.get('/mcp', existingSession);
  mcp.delete('/mcp', existingSession);
  mcp.disable('x-powered-by');

  const app = express();
  app.disable('x-powered-by');
  // Host first: a request for a foreign name is refused before its token is checked or its body read.
  if (allowedHosts) app.use(hostHeaderValidation(allowedHosts));
  app.use(originCheck(http.allowed_origins));
  if (http.auth_token) app.use(bearerAuth(http.auth_token));
  // Read the body here with our own limit; the JSON parser inside createMcpExpressApp then finds
  // it already read and steps aside.
  app.use(express.json({ limit: http.max_body_bytes, type: ['application/json', 'application/*+json'] }));
  app.use(mcp);
  app.use((_req: Request, res: Response) => jsonRpcError(res, 404, -32601, 'Not found: the MCP endpoint is POST/GET/DELETE /mcp.'));
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err.type === 'entity.too.large') {
      return jsonRpcError(res, 413, -32000, `Request body too large: the limit is ${http.max_body_bytes} bytes (http.max_body_bytes).`);
    }
    if (err.type === 'entity.parse.failed') return jsonRpcError(res, 400, -32700, 'Parse error: the body is not valid JSON.');
    runtime.log.error({ err }, 'http request failed');
    return jsonRpcError(res, err.status ?? 500, -32603, 'Internal error');
  });

  const listener = createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, http.host, http.port)));
    listener.listen(http.port, http.host, () => resolve());
  });
  const port = (listener.address() as AddressInfo).port;
  const hostInUrl = http.host.includes(':') && !http.host.startsWith('[') ? `[${http.host}]` : http.host;
  const url = `http://${hostInUrl}:${port}/mcp`;
  runtime.log.info({ url, auth: Boolean(http.auth_token) }, 'agentbox listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    sessionCount: () => sessions.size,
    close() {
      closing ??= (async () => {
        const open = sessions.drain();
        await Promise.all(open.map(async ({ transport, created }) => {
          await transport.close().catch(() => undefined);
          await created.close();
        }));
        await new Promise<void>((resolve) => {
          listener.close(() => resolve());
          listener.closeAllConnections?.();
        });
      })();
      return closing;
    },
  };
}

/**
 * createMcpExpressApp writes a warning to the console, outside agentbox's logger, when it binds a
 * wildcard address without a Host allow-list. agentbox requires a bearer token there, and says so
 * in its own log line instead.
 */
function quietly<T>(make: () => T): T {
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    return make();
  } finally {
    console.warn = warn;
  }
}

/** A start-up failure a user can act on (port taken, address not available). */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE') return new ConfigError(`port ${port} on ${host} is already in use: stop the other server or pass --port (0 picks a free port).`);
  if (err.code === 'EADDRNOTAVAIL') return new ConfigError(`cannot bind ${host}: no such address on this machine; use 127.0.0.1 or one of this machine's addresses.`);
  if (err.code === 'EACCES') return new ConfigError(`not allowed to bind ${host}:${port}: ports below 1024 need privileges; pick a higher --port.`);
  return err;
}

function jsonRpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/**
 * Browsers send Origin; a page on another site must not drive a local server. Requests without
 * Origin (every non-browser MCP client) pass; loopback origins pass; others only when listed.
 */
function originCheck(allowed: readonly string[]) {
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.header('origin');
    if (!origin || allowed.includes(origin)) return next();
    let hostname: string;
    try {
      hostname = new URL(origin).hostname;
    } catch {
      return jsonRpcError(res, 403, -32000, `Forbidden: invalid Origin ${origin}.`);
    }
    if (isLoopbackHost(hostname)) return next();
    return jsonRpcError(res, 403, -32000, `Forbidden: Origin ${origin} is not allowed (http.allowed_origins).`);
  };
}

function bearerAuth(expected: string) {
  const want = Buffer.from(expected);
  return requireBearerAuth({
    verifier: {
      async verifyAccessToken(token: string) {
        const got = Buffer.from(token);
        if (got.length !== want.length || !timingSafeEqual(got, want)) throw new InvalidTokenError('Invalid bearer token');
        // The SDK's middleware requires an expiry; a static token does not expire.
        return { token, clientId: 'agentbox', scopes: [], expiresAt: Math.floor(Date.now() / 1000) + 365 * 24 * 3600 };
      },
    },
  });
}
