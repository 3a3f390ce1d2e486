import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isThreadId, newThreadId, ThreadStore, type ThreadMeta } from '../../src/agent/threads.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let dir: TempDir;
afterEach(() => dir?.cleanup());

const meta = (id = newThreadId()): ThreadMeta => ({
  id,
  created: new Date().toISOString(),
  title: 'fix the bug',
  cwd: '/tmp/x',
  model: 'm',
  provider: 'p',
  sandbox: 'workspace-write',
  approval_policy: 'never',
  network: false,
});
const usage = { input_tokens: 10, cached_input_tokens: 1, output_tokens: 2, reasoning_tokens: 0 };

async function writeTurn(store: ThreadStore, m: ThreadMeta) {
  const log = await store.create(m);
  log.append({ type: 'turn_started', turn: 1, prompt: 'go' });
  log.append({ type: 'item', item: { type: 'message', role: 'user', content: 'go' } });
  log.append({ type: 'item', item: { type: 'function_call', call_id: 'c1', name: 'read_file', arguments: '{}' } });
  log.append({ type: 'usage', usage });
  log.append({ type: 'item', item: { type: 'function_call_output', call_id: 'c1', output: 'text' } });
  log.append({ type: 'item', item: { type: 'message', role: 'assistant', content: 'done' } });
  log.append({ type: 'usage', usage });
  log.append({ type: 'turn_ended', turn: 1, status: 'completed', content: 'done', usage, duration_ms: 5, files_changed: 0 });
  await log.close();
}

describe('thread store', () => {
  it('makes time-ordered version 7 ids', () => {
    const a = newThreadId(1000);
    const b = newThreadId(2000);
    expect(isThreadId(a)).toBe(true);
    expect(a < b).toBe(true);
    expect(isThreadId('../../etc/passwd')).toBe(false);
  });

  it('replays a written thread into its history, turns, status and usage', async () => {
    dir = tempDir();
    const store = new ThreadStore(dir.dir);
    const m = meta();
    await writeTurn(store, m);
    const r = await store.load(m.id);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.history.map((i) => i.type)).toEqual(['message', 'function_call', 'function_call_output', 'message']);
    expect(r.value.turns).toBe(1);
    expect(r.value.status).toBe('completed');
    expect(r.value.usage).toEqual({ input_tokens: 20, cached_input_tokens: 2, output_tokens: 4, reasoning_tokens: 0 });
    expect(r.value.skipped).toBe(0);
    for (const line of readFileSync(store.file(m.id), 'utf8').trim().split('\n')) expect(JSON.parse(line).ts).toMatch(/^\d{4}-/);
  });

  it('ignores a torn last line, and the next append starts on a new line', async () => {
    dir = tempDir();
    const store = new ThreadStore(dir.dir);
    const m = meta();
    await writeTurn(store, m);
    appendFileSync(store.file(m.id), '{"ts":"2025-01-01","type":"item","item":{"type":"mess');
    const torn = await store.load(m.id);
    expect(torn.ok && torn.value.history).toHaveLength(4);
    expect(torn.ok && torn.value.skipped).toBe(0);

    const log = await store.openLog(m.id);
    log.append({ type: 'item', item: { type: 'message', role: 'user', content: 'again' } });
    await log.close();
    const again = await store.load(m.id);
    expect(again.ok && again.value.history.at(-1)).toEqual({ type: 'message', role: 'user', content: 'again' });
  });

  it('skips and counts a corrupt line in the middle', async () => {
    dir = tempDir();
    const store = new ThreadStore(dir.dir);
    const m = meta();
    await writeTurn(store, m);
    const lines = readFileSync(store.file(m.id), 'utf8').split('\n');
    lines.splice(3, 0, '{not json');
    writeFileSync(store.file(m.id), lines.join('\n'));
    const r = await store.load(m.id);
    expect(r.ok && r.value.skipped).toBe(1);
    expect(r.ok && r.value.history).toHaveLength(4);
  });

  it('replaces the history at a compaction line', async () => {
    dir = tempDir();
    const store = new ThreadStore(dir.dir);
    const m = meta();
    await writeTurn(store, m);
    const log = await store.openLog(m.id);
    log.append({ type: 'compacted', summary: 'S', history: [{ type: 'message', role: 'user', content: 'summary S' }] });
    log.append({ type: 'item', item: { type: 'message', role: 'assistant', content: 'after' } });
    await log.close();
    const r = await store.load(m.id);
    expect(r.ok && r.value.history.map((i) => (i as { content: string }).content)).toEqual(['summary S', 'after']);
  });

  it('reports a turn without an end as interrupted and answers its dangling call', async () => {
    dir = tempDir();
    const store = new ThreadStore(dir.dir);
    const m = meta();
    const log = await store.create(m);
    log.append({ type: 'turn_started', turn: 1, prompt: 'go' });
    log.append({ type: 'item', item: { type: 'function_call', call_id: 'c9', name: 'exec_command', arguments: '{}' } });
    await log.close();
    const r = await store.load(m.id);
    expect(r.ok && r.value.status).toBe('interrupted');
    expect(r.ok && r.value.history.at(-1)).toMatchObject({ type: 'function_call_output', call_id: 'c9' });
  });

  it('says clearly when a thread does not exist', async () => {
    dir = tempDir();
    const r = await new ThreadStore(dir.dir).load(newThreadId());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/^Thread .* not found/);
  });

  it('lists the index, last line per thread winning, newest first', async () => {
    dir = tempDir();
    const store = new ThreadStore(dir.dir);
    const base = { title: 't', cwd: '/x', created: '2025-01-01T00:00:00Z', turns: 1, model: 'm' };
    await store.index({ ...base, id: 'a', updated: '2025-01-01T00:00:01Z', status: 'running' });
    await store.index({ ...base, id: 'b', updated: '2025-01-01T00:00:02Z', status: 'completed' });
    await store.index({ ...base, id: 'a', updated: '2025-01-01T00:00:03Z', status: 'failed' });
    appendFileSync(path.join(dir.dir, 'index.jsonl'), '{"id":"c","tit');
    const list = await store.list();
    expect(list.map((s) => [s.id, s.status])).toEqual([
      ['a', 'failed'],
      ['b', 'completed'],
    ]);
  });

  it('holds one turn lock per thread and takes over a lock left by a dead process', async () => {
    dir = tempDir();
    const store = new ThreadStore(dir.dir);
    const id = newThreadId();
    const first = store.lock(id);
    expect(first.ok).toBe(true);
    const second = store.lock(id);
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.error.message).toContain('already running a turn');
    if (first.ok) first.value();
    expect(store.lock(id).ok).toBe(true);

    const other = newThreadId();
    writeFileSync(path.join(dir.dir, `${other}.lock`), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname() }));
    expect(store.lock(other).ok).toBe(true);
  });
});
