// When no --root was given, the host's MCP roots become the workspace. They are fetched on the
// first tool call (as a request related to that call, so it reaches the host over any transport)
// and again after each notifications/roots/list_changed.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ListRootsResultSchema, RootsListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { SessionContext } from '../session.js';
import type { Extra } from './extra.js';

export interface HostRoots {
  /** Fetches the host's roots if they changed since the last fetch; a no-op otherwise. */
  refresh(extra: Extra): Promise<void>;
}

export function trackHostRoots(server: McpServer, session: SessionContext): HostRoots {
  // Bumped on every list_changed; a fetch only counts for the generation it started in, so a
  // change announced while a fetch is under way triggers another fetch.
  let generation = 1;
  let fetched = 0;
  let inFlight: Promise<void> | undefined;
  server.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    generation++;
  });
  const fetchOnce = async (extra: Extra) => {
    const target = generation;
    try {
      const result = await extra.sendRequest({ method: 'roots/list' }, ListRootsResultSchema, { timeout: 5000 });
      const dirs = session.workspace.setHostRoots(result.roots.map((r) => r.uri));
      session.runtime.log.info({ roots: dirs }, 'workspace roots from the host');
    } catch (err) {
      session.runtime.log.warn({ err: (err as Error).message }, 'could not fetch the host roots; keeping the current workspace');
    }
    fetched = target;
  };
  return {
    async refresh(extra) {
      if (session.workspace.fixedRoots) return;
      if (!server.server.getClientCapabilities()?.roots) return;
      while (fetched < generation) {
        inFlight ??= fetchOnce(extra).finally(() => (inFlight = undefined));
        await inFlight;
      }
    },
  };
}
