// The agent loop on its own: a fake model client (scripted responses, or a function of the
// request) and fake tools that record when they start and end.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closeDanglingCalls, type Item } from '../../src/agent/items.js';
import { estimateTokens, fitHistory, runTurn, type TurnOptions } from '../../src/agent/loop.js';
import type { ModelClient, ModelRequest, ModelResponse } from '../../src/agent/model.js';
import { COMPACT_PROMPT } from '../../src/agent/prompts/compact.js';
import type { ThreadLog } from '../../src/agent/threads.js';
import { buildToolbox } from '../../src/agent/toolbox.js';
import type { AnyToolSpec, CallContext } from '../../src/tools/define.js';
import { fail, ok, type Result } from '../../src/util/result.js';

const usage = { input_tokens: 10, cached_input_tokens: 0, output_tokens: 5, reasoning_tokens: 0 };
const reply = (items: Item[], extra: Partial<ModelResponse> = {}): Result<ModelResponse> => ok({ items, usage, usageReported: true, ...extra });
const fnCall = (name: string, args: Record<string, unknown>, call_id: string): Item => ({ type: 'function_call', name, arguments: JSON.stringify(args), call_id });
const answer = (text: string): Item => ({ type: 'message', role: 'assistant', content: text });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Step = Result<ModelResponse> | ((req: ModelRequest) => Result<ModelResponse>);

function fakeClient(steps: Step[]) {
  const requests: ModelRequest[] = [];
  const client: ModelClient = {
    provider: {} as ModelClient['provider'],
    async complete(req) {
      requests.push({ ...req, input: [...req.input] });
      const step = steps.shift();
      if (!step) return fail('model_error', 'no scripted response left');
      return typeof step === 'function' ? step(req) : step;
    },
  };
  return { client, requests };
}

const log = { append() {}, flush: async () => {}, close: async () => {} } as unknown as ThreadLog;
const ctx: CallContext = { signal: new AbortController().signal, progress() {}, log() {}, askApproval: async () => 'unavailable' };

function tools(events: string[]): AnyToolSpec[] {
  const spec = (name: string, readOnly: boolean, input: z.ZodRawShape, run: (args: Record<string, unknown>) => Promise<string>): AnyToolSpec => ({
    name,
    title: name,
    group: 'files',
    description: name,
    input,
    annotations: { readOnlyHint: readOnly },
    run: async (args) => ({ content: [{ type: 'text', text: await run(args) }] }),
  });
  const timed = (label: string, ms: number) => async () => {
    events.push(`${label} start`);
    await sleep(ms);
    events.push(`${label} end`);
    return `${label} done`;
  };
  return [
    spec('read_file', true, { path: z.string() }, (a) => timed(`read ${a.path}`, Number(String(a.path).split(':')[1] ?? 0))()),
    spec('apply_patch', false, { patch: z.string() }, (a) => timed(`patch ${a.patch}`, 30)()),
    spec('exec_command', false, { cmd: z.string() }, async (a) => String(a.cmd)),
    spec('write_stdin', false, { session_id: z.number(), chars: z.string().optional() }, async () => 'Process running with session ID 7\nWall time: 1.000 seconds\nOutput: (none)'),
  ];
}

function options(client: ModelClient, history: Item[], over: Partial<TurnOptions> = {}, events: string[] = []): TurnOptions & { reports: string[] } {
  const reports: string[] = [];
  return {
    client,
    model: 'm',
    instructions: 'be brief',
    toolbox: buildToolbox(tools(events), { freeformPatch: false, onPlan() {} }),
    history,
    openingItems: 1,
    log,
    signal: new AbortController().signal,
    toolContext: ctx,
    maxTurns: 10,
    contextWindow: 100_000,
    compactThreshold: 0.8,
    report: (m) => void reports.push(m),
    reports,
    ...over,
  };
}

const opening: Item = { type: 'message', role: 'developer', content: 'rules' };
const prompt: Item = { type: 'message', role: 'user', content: 'do it' };

describe('the agent loop', () => {
  it('runs read-only calls together, and a call that changes things after everything before it and before everything after it', async () => {
    const events: string[] = [];
    const { client } = fakeClient([
      reply([fnCall('read_file', { path: 'a:60' }, 'a'), fnCall('read_file', { path: 'c:40' }, 'c'), fnCall('apply_patch', { patch: 'W' }, 'w'), fnCall('read_file', { path: 'b:0' }, 'b')]),
      reply([answer('done')]),
    ]);
    const o = options(client, [opening, prompt], {}, events);
    const outcome = await runTurn(o);
    expect(outcome.status).toBe('completed');
    expect(events).toEqual(['read a:60 start', 'read c:40 start', 'read c:40 end', 'read a:60 end', 'patch W start', 'patch W end', 'read b:0 start', 'read b:0 end']);
  });

  it('does not report an answer cut off by the output limit as completed', async () => {
    const { client } = fakeClient([reply([answer('The bug is in')], { incomplete: 'max_output_tokens' })]);
    const outcome = await runTurn(options(client, [opening, prompt]));
    expect(outcome.status).toBe('failed');
    expect(outcome.content).toBe('The bug is in');
    expect(outcome.error).toContain('cut off (max_output_tokens)');
  });

  it('reports command steps from the shell tools\' fixed first line only, naming a session once', async () => {
    const { client } = fakeClient([
      reply([fnCall('exec_command', { cmd: 'Process exited with code 3\nthe tests said: exit code 5, session 9' }, 'x')]),
      reply([fnCall('write_stdin', { session_id: 7 }, 'y')]),
      reply([fnCall('exec_command', { cmd: 'make: exit code 2 in session 4' }, 'z')]),
      reply([answer('done')]),
    ]);
    const o = options(client, [opening, prompt]);
    await runTurn(o);
    const steps = o.reports.filter((r) => !r.startsWith('turn ') && (r.includes('code') || r.includes('running')));
    expect(steps).toEqual([expect.stringMatching(/^command `Process exited with code 3[\s\S]*` exited with code 3$/), 'session 7 still running']);
  });

  it('compacts a long history before the first request of a continued thread', async () => {
    const big = 'x'.repeat(40_000);
    const history: Item[] = [opening, { type: 'message', role: 'user', content: 'read it' }, fnCall('read_file', { path: 'f' }, 'r'), { type: 'function_call_output', call_id: 'r', output: big }, answer('read'), { type: 'message', role: 'user', content: 'go on' }];
    const { client, requests } = fakeClient([reply([answer('SUMMARY')]), reply([answer('went on')])]);
    const outcome = await runTurn(options(client, history, { contextWindow: 10_000 }));
    expect(outcome.status).toBe('completed');
    expect(requests[0]!.tools).toEqual([]);
    expect(requests[0]!.input.at(-1)).toEqual({ type: 'message', role: 'user', content: COMPACT_PROMPT });
    expect(requests[1]!.input.some((i) => i.type === 'function_call_output')).toBe(false);
  });

  it('does not compact a new thread whose history is only the opening and a long prompt', async () => {
    const { client, requests } = fakeClient([reply([answer('ok')])]);
    await runTurn(options(client, [opening, { type: 'message', role: 'user', content: 'y'.repeat(40_000) }], { contextWindow: 10_000 }));
    expect(requests).toHaveLength(1);
    expect(requests[0]!.tools.length).toBeGreaterThan(0);
  });

  it('after a context overflow, compacts a history cut down to fit and goes on', async () => {
    // The endpoint's real limit is far below the configured window: 20,000 characters.
    const limit = (req: ModelRequest, then: () => Result<ModelResponse>) =>
      JSON.stringify(req.input).length > 20_000 ? fail('model_bad_request', "This model's maximum context length is 5000 tokens.") : then();
    const { client, requests } = fakeClient([
      reply([fnCall('read_file', { path: 'big:0' }, 'r1')]),
      (req) => limit(req, () => reply([answer('unreachable')])),
      (req) => limit(req, () => reply([answer('SUMMARY: read big')])),
      (req) => limit(req, () => reply([answer('answered after compaction')])),
    ]);
    const o = options(client, [opening, prompt], { contextWindow: 1_000_000 });
    // The tool returns a huge output.
    o.toolbox = buildToolbox(
      [{ name: 'read_file', title: 'r', group: 'files', description: 'r', input: { path: z.string() }, annotations: { readOnlyHint: true }, run: async () => ({ content: [{ type: 'text', text: 'z'.repeat(60_000) }] }) }],
      { freeformPatch: false, onPlan() {} },
    );
    const outcome = await runTurn(o);
    expect(outcome.status).toBe('completed');
    expect(outcome.content).toBe('answered after compaction');
    expect(requests[2]!.input.at(-1)).toMatchObject({ content: COMPACT_PROMPT });
    expect(JSON.stringify(requests[2]!.input).length).toBeLessThan(20_000);
    expect(o.reports.some((r) => r.startsWith('compacting the conversation (the endpoint refused about'))).toBe(true);
  });
});

describe('fitting a history for a compaction request', () => {
  it('keeps the opening, drops reasoning, shortens long outputs, then drops the oldest items, keeping calls paired', () => {
    const history: Item[] = [
      opening,
      prompt,
      { type: 'reasoning', summary: ['thinking'], encrypted_content: 'e'.repeat(5000) },
      fnCall('read_file', { path: 'a' }, 'a'),
      { type: 'function_call_output', call_id: 'a', output: 'A'.repeat(30_000) },
      fnCall('read_file', { path: 'b' }, 'b'),
      { type: 'function_call_output', call_id: 'b', output: 'B'.repeat(30_000) },
      answer('done'),
    ];
    const roomy = fitHistory(history, 1, 100_000);
    expect(roomy).toEqual(history.filter((i) => i.type !== 'reasoning'));

    const shortened = fitHistory(history, 1, 5_000);
    expect(estimateTokens(shortened)).toBeLessThanOrEqual(5_000);
    expect(shortened.map((i) => i.type)).toEqual(['message', 'message', 'function_call', 'function_call_output', 'function_call', 'function_call_output', 'message']);
    expect((shortened[3] as { output: string }).output).toMatch(/characters cut/);

    const tight = fitHistory(history, 1, 200);
    expect(tight[0]).toEqual(opening);
    expect(closeDanglingCalls(tight, 'x')).toEqual(tight);
    expect(tight.length).toBeLessThan(7);
  });
});
