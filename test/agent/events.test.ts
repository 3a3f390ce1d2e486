import { describe, expect, it } from 'vitest';
import { ItemEvents, patchChanges, type RunEvent } from '../../src/agent/events.js';
import type { ToolCallItem } from '../../src/agent/items.js';

const fn = (name: string, args: Record<string, unknown>, call_id = name): ToolCallItem => ({ type: 'function_call', call_id, name, arguments: JSON.stringify(args) });

describe('ItemEvents', () => {
  it('turns the loop\'s calls into codex exec --json items', () => {
    const events: RunEvent[] = [];
    const e = new ItemEvents((ev) => events.push(ev));
    e.request(1);
    e.response([{ type: 'reasoning', summary: ['look first'] }, { type: 'message', role: 'assistant', content: 'Reading.' }]);
    const run = fn('exec_command', { cmd: 'npm test' });
    e.callStart(run);
    e.callDone(run, 'Process exited with code 1\nWall time: 0.100 seconds\nOutput:\n1 failing\n', false);
    const patch: ToolCallItem = { type: 'custom_tool_call', call_id: 'p', name: 'apply_patch', input: '*** Begin Patch\n*** Add File: b.js\n+x\n*** Update File: a.js\n*** Move to: c.js\n@@\n-a\n+c\n*** End Patch' };
    e.callStart(patch);
    e.callDone(patch, 'Success.', false);
    const read = fn('read_file', { path: 'a.js' });
    e.callStart(read);
    e.callDone(read, 'a.js does not exist', true);
    e.callDone(fn('update_plan', { plan: [{ step: 'fix', status: 'completed' }, { step: 'test', status: 'in_progress' }] }), 'Plan updated.', false);
    e.finish();
    expect(events.map((x) => (x.type.startsWith('item.') ? `${x.type}:${(x as { item: { type: string } }).item.type}` : x.type))).toEqual([
      'model.request',
      'item.completed:reasoning',
      'item.completed:agent_message',
      'item.started:command_execution',
      'item.completed:command_execution',
      'item.started:file_change',
      'item.completed:file_change',
      'item.started:tool_call',
      'item.completed:tool_call',
      'item.started:todo_list',
      'item.completed:todo_list',
    ]);
    expect(events[4]).toMatchObject({ item: { command: 'npm test', exit_code: 1, status: 'failed', aggregated_output: '1 failing\n' } });
    expect(events[6]).toMatchObject({ item: { changes: [{ path: 'b.js', kind: 'add' }, { path: 'c.js', kind: 'update' }], status: 'completed' } });
    expect(events[8]).toMatchObject({ item: { tool: 'read_file', arguments: { path: 'a.js' }, status: 'failed', error: 'a.js does not exist' } });
    expect(events[10]).toMatchObject({ item: { items: [{ text: 'fix', completed: true }, { text: 'test', completed: false }] } });
  });

  it('finishes a command that kept running in a session when write_stdin sees it exit', () => {
    const events: RunEvent[] = [];
    const e = new ItemEvents((ev) => events.push(ev));
    const dev = fn('exec_command', { cmd: 'npm run build' });
    e.callStart(dev);
    e.callDone(dev, 'Process running with session ID 1001\nWall time: 1.000 seconds\nOutput:\nbuilding\n', false);
    e.callDone(fn('write_stdin', { session_id: 1001 }), 'Process exited with code 0\nWall time: 2.000 seconds\nOutput:\ndone\n', false);
    expect(events.map((x) => x.type)).toEqual(['item.started', 'item.updated', 'item.completed']);
    expect(events[2]).toMatchObject({ item: { command: 'npm run build', exit_code: 0, status: 'completed', aggregated_output: 'building\ndone\n' } });
  });

  it('closes what is still open when the turn ends as failed: a call that never returned, a command still running, a passed-through item', () => {
    const events: RunEvent[] = [];
    const e = new ItemEvents((ev) => events.push(ev), 'agentbox_');
    const hung = fn('exec_command', { cmd: 'sleep 100' }, 'hung');
    e.callStart(hung);
    const dev = fn('exec_command', { cmd: 'npm run dev' }, 'dev');
    e.callStart(dev);
    e.callDone(dev, 'Process running with session ID 1002\nWall time: 1.000 seconds\nOutput:\nlistening\n', false);
    e.item('item.started', { id: 'item_0', type: 'command_execution', command: 'make', aggregated_output: '', exit_code: null, status: 'in_progress' });
    e.item('item.started', { id: 'item_1', type: 'command_execution', command: 'true', aggregated_output: '', exit_code: null, status: 'in_progress' });
    e.item('item.completed', { id: 'item_1', type: 'command_execution', command: 'true', aggregated_output: '', exit_code: 0, status: 'completed' });
    e.warning('something');
    events.length = 0;
    e.finish();
    expect(events).toEqual([
      { type: 'item.completed', item: expect.objectContaining({ id: 'agentbox_0', command: 'sleep 100', exit_code: null, status: 'failed' }) },
      { type: 'item.completed', item: expect.objectContaining({ id: 'agentbox_1', command: 'npm run dev', aggregated_output: 'listening\n', status: 'failed' }) },
      { type: 'item.completed', item: expect.objectContaining({ id: 'item_0', command: 'make', status: 'failed' }) },
    ]);
    e.finish();
    expect(events).toHaveLength(3);
  });

  it('reads the files a patch names', () => {
    expect(patchChanges('*** Begin Patch\n*** Delete File: old.txt\n*** End Patch')).toEqual([{ path: 'old.txt', kind: 'delete' }]);
  });
});
