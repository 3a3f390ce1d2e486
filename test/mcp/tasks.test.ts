import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { SourceTaskStore, TASK_POLL_MS, type TaskSource, type TaskState } from '../../src/mcp/tasks.js';

/** A source with one piece of work per id, ended by finish() or a cancel (unless `lateCancel`). */
class FakeSource implements TaskSource {
  readonly work = new Map<string, { state: TaskState; done: Promise<CallToolResult>; end: (s: TaskState) => void }>();
  /** cancel() finds the work already settled: it ends as it would have. */
  lateCancel = false;

  start(id: string): void {
    let end!: (s: TaskState) => void;
    const done = new Promise<CallToolResult>((resolve) => {
      end = (s) => {
        entry.state = s;
        resolve({ content: [{ type: 'text', text: s.status }] });
      };
    });
    const entry = { state: { status: 'working', message: 'step 1' } as TaskState, done, end };
    this.work.set(id, entry);
  }
  async state(id: string) {
    return this.work.get(id)?.state;
  }
  async result(id: string) {
    return this.work.get(id)!.done;
  }
  cancel(id: string): boolean {
    const w = this.work.get(id);
    if (!w || w.state.status !== 'working') return false;
    if (this.lateCancel) {
      setTimeout(() => w.end({ status: 'completed', message: 'completed' }), 20);
      return false;
    }
    setTimeout(() => w.end({ status: 'cancelled', message: 'cancelled' }), 20);
    return true;
  }
}

const create = (store: SourceTaskStore, context: Record<string, unknown>, ttl?: number) =>
  store.createTask({ context, ...(ttl !== undefined ? { ttl } : {}) }, 1, { method: 'tools/call', params: {} });

describe('SourceTaskStore', () => {
  it('creates a task over its source and answers get, list and result from it', async () => {
    const store = new SourceTaskStore();
    const source = new FakeSource();
    source.start('a');
    const created = await create(store, { taskId: 'a', source }, 60_000);
    expect(created).toMatchObject({ taskId: 'a', status: 'working', statusMessage: 'step 1', ttl: 60_000, pollInterval: TASK_POLL_MS });
    expect((await store.listTasks()).tasks.map((t) => t.taskId)).toEqual(['a']);
    source.work.get('a')!.end({ status: 'completed', message: 'completed' });
    expect(await store.getTaskResult('a')).toEqual({ content: [{ type: 'text', text: 'completed' }] });
    const got = await store.getTask('a');
    expect(got?.status).toBe('completed');
    expect(got!.lastUpdatedAt >= created.lastUpdatedAt).toBe(true);
    expect(await store.getTask('nope')).toBeNull();
  });

  it('answers an id it never created by asking its sources (a restart)', async () => {
    const store = new SourceTaskStore();
    const source = new FakeSource();
    source.start('old');
    store.addSource(source);
    expect((await store.getTask('old'))?.status).toBe('working');
  });

  it('fixes a task whose work could not start as failed, with its result', async () => {
    const store = new SourceTaskStore();
    const failed: CallToolResult = { content: [{ type: 'text', text: 'no such model\nmore' }], isError: true };
    const t = await create(store, { failed });
    expect(t).toMatchObject({ status: 'failed', statusMessage: 'no such model' });
    expect(await store.getTaskResult(t.taskId)).toBe(failed);
    await store.storeTaskResult('stored', 'completed', { content: [] });
    expect((await store.getTask('stored'))?.status).toBe('completed');
  });

  it('cancels: the task is cancelled at once and its result is the cancelled work', async () => {
    const store = new SourceTaskStore();
    const source = new FakeSource();
    source.start('c');
    await create(store, { taskId: 'c', source });
    await store.updateTaskStatus('c', 'cancelled');
    expect((await store.getTask('c'))?.status).toBe('cancelled');
    expect(await store.getTaskResult('c')).toEqual({ content: [{ type: 'text', text: 'cancelled' }] });
    expect((await store.getTask('c'))?.status).toBe('cancelled');
  });

  it('a cancel racing the work\'s end neither throws nor changes its status: the end wins', async () => {
    const store = new SourceTaskStore();
    const source = new FakeSource();
    source.start('r');
    await create(store, { taskId: 'r', source });
    source.lateCancel = true;
    await expect(store.updateTaskStatus('r', 'cancelled')).resolves.toBeUndefined();
    expect((await store.getTask('r'))?.status).toBe('completed');
    expect(await store.getTaskResult('r')).toEqual({ content: [{ type: 'text', text: 'completed' }] });
  });

  it('refuses to cancel work it cannot stop here, and unknown ids', async () => {
    const store = new SourceTaskStore();
    const elsewhere: TaskSource = { state: async (id) => (id === 'e' ? { status: 'working' } : undefined), result: async () => ({ content: [] }), cancel: () => false };
    await create(store, { taskId: 'e', source: elsewhere });
    await expect(store.updateTaskStatus('e', 'cancelled')).rejects.toThrow(/not running in this server/);
    await expect(store.updateTaskStatus('missing', 'cancelled')).rejects.toThrow(/not found/);
    expect((await store.getTask('e'))?.status).toBe('working');
  });
});
