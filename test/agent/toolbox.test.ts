import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildToolbox, type PlanStep } from '../../src/agent/toolbox.js';
import type { AnyToolSpec, CallContext } from '../../src/tools/define.js';

const ctx: CallContext = { signal: new AbortController().signal, progress() {}, log() {}, askApproval: async () => 'unavailable' };

function spec(name: string, input: z.ZodRawShape, run: AnyToolSpec['run'], readOnly = true): AnyToolSpec {
  return { name, title: name, group: 'files', description: `${name} tool`, input, annotations: { readOnlyHint: readOnly }, run };
}

const seen: Array<{ name: string; args: unknown }> = [];
const specs: AnyToolSpec[] = [
  spec('read_file', { path: z.string() }, async (args) => (seen.push({ name: 'read_file', args }), { content: [{ type: 'text', text: `read ${args.path}` }] })),
  spec('apply_patch', { patch: z.string() }, async (args) => (seen.push({ name: 'apply_patch', args }), { content: [{ type: 'text', text: 'M a.txt' }] }), false),
  spec('grep', { pattern: z.string() }, async () => ({ content: [{ type: 'text', text: 'bad regex' }], isError: true })),
  spec('list_dir', {}, async () => ({ content: [{ type: 'image', data: 'AAAA', mimeType: 'image/png' }] })),
  spec('git_status', {}, async () => {
    throw new Error('boom');
  }),
  spec('delegate', { prompt: z.string() }, async () => ({ content: [] })),
];

describe('the subagent toolbox', () => {
  it('offers the subagent tools the server has, never the host-only ones, plus update_plan', () => {
    const box = buildToolbox(specs, { freeformPatch: false, onPlan() {} });
    expect(box.tools.map((t) => t.name)).toEqual(['apply_patch', 'read_file', 'list_dir', 'grep', 'git_status', 'update_plan']);
    const read = box.tools.find((t) => t.name === 'read_file');
    expect(read).toEqual({
      kind: 'function',
      name: 'read_file',
      description: 'read_file tool',
      parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'], additionalProperties: false },
    });
    expect(box.isReadOnly('read_file')).toBe(true);
    expect(box.isReadOnly('apply_patch')).toBe(false);
  });

  it('offers apply_patch as a freeform tool with its grammar and passes the text as `patch`', async () => {
    const box = buildToolbox(specs, { freeformPatch: true, onPlan() {} });
    const tool = box.tools.find((t) => t.name === 'apply_patch');
    expect(tool).toMatchObject({ kind: 'freeform', grammar: { syntax: 'lark' } });
    expect((tool as { grammar: { definition: string } }).grammar.definition).toContain('begin_patch: "*** Begin Patch" LF');
    const out = await box.run({ type: 'custom_tool_call', call_id: 'c', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' }, ctx);
    expect(out).toEqual({ output: 'M a.txt', isError: false });
    expect(seen.at(-1)).toEqual({ name: 'apply_patch', args: { patch: '*** Begin Patch\n*** End Patch' } });
  });

  it('answers bad calls with errors the model can act on', async () => {
    const box = buildToolbox(specs, { freeformPatch: false, onPlan() {} });
    const run = (name: string, args: string) => box.run({ type: 'function_call', call_id: 'x', name, arguments: args }, ctx);
    expect(await run('nope', '{}')).toEqual({ output: expect.stringMatching(/^unsupported call: nope\. Available tools: apply_patch, read_file, list_dir/), isError: true });
    expect((await run('read_file', '{"path": ')).output).toMatch(/^Arguments for read_file are not valid JSON/);
    expect((await run('read_file', '[1]')).output).toBe('Arguments for read_file must be a JSON object, got an array.');
    expect((await run('read_file', '{}')).output).toMatch(/^Invalid arguments for read_file: path: /);
    expect((await run('read_file', '{"path":"a","offest":3}')).output).toMatch(/^Invalid arguments for read_file: .*offest/);
    expect(await run('grep', '{"pattern":"("}')).toEqual({ output: 'Error: bad regex', isError: true });
    expect(await run('git_status', '')).toEqual({ output: 'git_status failed: boom', isError: true });
    expect(await run('list_dir', '{}')).toEqual({ output: '[image image/png, 3 bytes: not shown to you]', isError: false });
    expect(await run('read_file', '{"path":"a.txt"}')).toEqual({ output: 'read a.txt', isError: false });
  });

  it('records plans, allowing one step in progress at a time', async () => {
    const plans: PlanStep[][] = [];
    const box = buildToolbox(specs, { freeformPatch: false, onPlan: (p) => plans.push(p) });
    const call = (plan: unknown) => box.run({ type: 'function_call', call_id: 'p', name: 'update_plan', arguments: JSON.stringify({ plan }) }, ctx);
    expect(await call([{ step: 'a', status: 'completed' }, { step: 'b', status: 'in_progress' }])).toEqual({ output: 'Plan updated.', isError: false });
    expect(plans).toEqual([[{ step: 'a', status: 'completed' }, { step: 'b', status: 'in_progress' }]]);
    expect((await call([{ step: 'a', status: 'in_progress' }, { step: 'b', status: 'in_progress' }])).output).toBe('At most one step can be in_progress at a time.');
    expect((await call([{ step: 'a', status: 'done' }])).isError).toBe(true);
    expect(plans).toHaveLength(1);
  });
});
