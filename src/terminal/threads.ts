// `agentbox threads list` and `agentbox threads show <id>`: the persisted delegate threads of
// $AGENTBOX_HOME, read from their files (the same ones agentbox://threads serves).
import path from 'node:path';
import { renderTranscript, ThreadStore } from '../agent/index.js';
import { formatFailure } from '../util/result.js';
import { stripControls } from './sanitize.js';

const store = (home: string) => new ThreadStore(path.join(home, 'threads'));

/** Prints every thread, most recent first; returns the exit status. */
export async function listThreads(home: string, json: boolean): Promise<number> {
  const threads = await store(home).list();
  if (json) {
    process.stdout.write(`${JSON.stringify(threads, null, 2)}\n`);
    return 0;
  }
  if (threads.length === 0) {
    process.stderr.write(`no threads in ${path.join(home, 'threads')}\n`);
    return 0;
  }
  const rows = threads.map((t) => [t.id, t.status, `${t.turns} turn${t.turns === 1 ? '' : 's'}`, t.updated.replace('T', ' ').slice(0, 19), oneLine(t.title)]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c)).join('  ')}\n`);
  return 0;
}

/** Prints one thread's transcript (Markdown), or its meta, state and lines as JSON. */
export async function showThread(home: string, id: string, json: boolean): Promise<number> {
  const s = store(home);
  const loaded = await s.load(id);
  if (!loaded.ok) {
    // From the terminal, the way to find a thread is `threads list`, not the MCP resource.
    const error = loaded.error.code === 'thread_not_found' || loaded.error.code === 'invalid_thread_id' ? { ...loaded.error, hint: 'List threads with `agentbox threads list`.' } : loaded.error;
    process.stderr.write(`agentbox: ${formatFailure(error)}\n`);
    return 1;
  }
  const thread = s.isLocked(id) ? { ...loaded.value, status: 'running' as const } : loaded.value;
  if (json) {
    const { meta, status, turns, usage, lines } = thread;
    process.stdout.write(`${JSON.stringify({ meta, status, turns, usage, lines }, null, 2)}\n`);
  } else process.stdout.write(stripControls(renderTranscript(thread))); // model and command text must not drive the terminal
  return 0;
}

/** A title on one row, without anything that could drive the terminal. */
const oneLine = (text: string) => stripControls(text).replace(/\s+/g, ' ');
