// The delegate subagent's read_file uses exactly what it checked, as the host's does: the same
// race as race-read.test.ts, with the reads made by a subagent (the scripted model asks for
// d/x.txt RACE_CALLS times, PER_TURN calls at once) while a process in the sandbox swaps `d` with a
// symlink to a directory outside (support/race.ts). Every tool output the subagent sent back to the
// model, and the delegate's result, must be free of the outside secret and the home's marker.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { data, type Json } from '../support/agent.js';
import { connectStdio, type Connected } from '../support/client.js';
import { call, say, startModelServer, type ModelServer } from '../support/model-server.mjs';
import { dirState, diffStates, MIN_SWAPS, RACE_CALLS, RACE_CONTROL, raceTree, startSwapper, type DirState, type RaceTree, type Swapper } from '../support/race.js';

/** read_file calls the scripted model asks for in one turn (run in parallel: they are read-only). */
const PER_TURN = 30;
const TURNS = Math.ceil(RACE_CALLS / PER_TURN);

let tree: RaceTree;
let model: ModelServer;
let conn: Connected;
let swapper: Swapper | undefined;
let baseline: DirState;

beforeAll(async () => {
  tree = raceTree();
  model = await startModelServer();
  // The race tree's home, with the scripted model as provider (as support/agent.ts agentHome).
  writeFileSync(
    path.join(tree.home, 'config.toml'),
    [
      `# ${tree.homeMarker}`,
      'model = "test-model"',
      'model_provider = "mock"',
      'approval_policy = "never"',
      '[model_providers.mock]',
      `base_url = "${model.url}"`,
      'wire_api = "responses"',
      'max_retries = 1',
      '',
    ].join('\n'),
  );
  baseline = dirState(tree.outside);
  conn = await connectStdio({ args: ['--root', tree.ws], env: { AGENTBOX_HOME: tree.home } });
  swapper = await startSwapper(conn, { ws: tree.ws, dir: 'd', link: 's', target: tree.outside });
}, 60_000);

afterAll(async () => {
  await swapper?.stop();
  await conn?.close();
  await model?.close();
  tree?.cleanup();
}, 60_000);

describe("the delegate subagent's read_file while d is swapped with a link outside", () => {
  it(`never sends the model what lies outside (${RACE_CALLS} reads)`, async () => {
    for (let turn = 0; turn < TURNS; turn++) {
      const calls = Array.from({ length: Math.min(PER_TURN, RACE_CALLS - turn * PER_TURN) }, (_, k) => call('read_file', { path: 'd/x.txt' }, `r${turn}-${k}`));
      model.script({ output: calls });
    }
    model.script({ output: [say('done')] });
    const swapsBefore = swapper!.live();
    const result = (await conn.client.callTool(
      { name: 'delegate', arguments: { prompt: 'Read d/x.txt again and again.', max_turns: TURNS + 2 } },
      undefined,
      { timeout: 280_000 },
    )) as CallToolResult;
    const swaps = swapper!.live() - swapsBefore;

    // Each request repeats the earlier outputs: keep one per call id.
    const outputs = new Map<string, string>();
    for (const request of model.requests) {
      for (const item of ((request.body as Json).input ?? []) as Json[]) {
        if (item.type === 'function_call_output') outputs.set(item.call_id, typeof item.output === 'string' ? item.output : JSON.stringify(item.output));
      }
    }
    const outcomes = { inside: 0, refused: 0, leaked: 0 };
    const examples: string[] = [];
    for (const [id, output] of outputs) {
      if (output.includes(tree.secret) || output.includes(tree.homeMarker)) {
        outcomes.leaked++;
        if (examples.length < 3) examples.push(`${id}: ${output.slice(0, 200)}`);
      } else if (output.includes('inside A')) outcomes.inside++;
      else outcomes.refused++;
    }
    console.log(`delegate read_file d/x.txt: leaked ${outcomes.leaked} of ${outputs.size} reads (inside ${outcomes.inside}, refused ${outcomes.refused}), swaps ${swaps}`);

    expect(data(result).status).toBe('completed');
    expect(outputs.size).toBe(RACE_CALLS);
    expect({ leaked: outcomes.leaked, examples }).toEqual({ leaked: 0, examples: [] });
    expect(JSON.stringify(result)).not.toContain(tree.secret);
    // The race was on: some reads found the directory, others the link (and were refused).
    expect(outcomes.inside).toBeGreaterThan(0);
    if (!RACE_CONTROL) expect(outcomes.refused).toBeGreaterThan(0);
    expect(swaps).toBeGreaterThanOrEqual(MIN_SWAPS);
  }, 300_000);

  it('the outside tree is as it was', async () => {
    await swapper!.stop();
    expect(swapper!.state()).toBe('done');
    expect(diffStates(baseline, dirState(tree.outside))).toEqual([]);
  }, 60_000);
});
