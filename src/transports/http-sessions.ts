// The open Streamable HTTP sessions: each an McpServer with its transport. A client that vanishes
// without DELETE would otherwise leave its session (and its memory) forever, so sessions idle for
// longer than `idleMs` with no request in flight are closed, and at most `max` are open at once.
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Response } from 'express';
import type { CreatedServer } from '../server.js';

export interface HttpSession {
  transport: StreamableHTTPServerTransport;
  created: CreatedServer;
  /** Requests of this session still being answered (an open SSE stream counts). */
  active: number;
  lastSeen: number;
}

export class HttpSessions {
  readonly #map = new Map<string, HttpSession>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(
    readonly max: number,
    private readonly idleMs: number,
    private readonly onExpire: (id: string) => void,
  ) {
    this.#sweeper = setInterval(() => this.sweep(), Math.min(60_000, Math.max(1000, idleMs / 4)));
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#map.size;
  }

  get(id: string): HttpSession | undefined {
    return this.#map.get(id);
  }

  add(id: string, session: HttpSession): void {
    this.#map.set(id, session);
  }

  delete(id: string): boolean {
    return this.#map.delete(id);
  }

  /** Marks a request of `session` as in flight until its response closes. */
  track(session: HttpSession, res: Response): void {
    session.active++;
    session.lastSeen = Date.now();
    res.once('close', () => {
      session.active--;
      session.lastSeen = Date.now();
    });
  }

  /** Closes sessions idle past the limit; runs on a timer, callable directly. */
  sweep(now = Date.now()): void {
    for (const [id, s] of this.#map) if (s.active === 0 && now - s.lastSeen > this.idleMs) this.onExpire(id);
  }

  /** Removes every session and returns them, for shutdown. */
  drain(): HttpSession[] {
    clearInterval(this.#sweeper);
    const all = [...this.#map.values()];
    this.#map.clear();
    return all;
  }
}
