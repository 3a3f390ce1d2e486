// The write tools change exactly what they checked. While a process in the sandbox swaps the
// workspace directory `d` with a symlink to a directory outside (support/race.ts), write_file,
// edit_file and apply_patch (add, update, delete, move) are called RACE_CALLS times each on paths
// through `d`. A call may fail because the path changed; none may create, change, delete or move
// anything outside, leave a temp file there, or show outside content in its result. Every call is
// checked against the outside directory's state before it; the whole outside tree, times
// included, is compared with its snapshot at the end.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import {
  dirState,
  diffStates,
  formatReports,
  leftovers,
  MIN_SWAPS,
  MIN_SWAPS_PER_TOOL,
  RACE_CALLS,
  raceCalls,
  raceTree,
  startSwapper,
  type DirState,
  type RaceReport,
  type RaceTree,
  type Swapper,
} from '../support/race.js';

let tree: RaceTree;
let conn: Connected;
let swapper: Swapper | undefined;
let baseline: DirState;
const reports: RaceReport[] = [];

beforeAll(async () => {
  tree = raceTree({ files: RACE_CALLS });
  baseline = dirState(tree.outside);
  conn = await connectStdio({ args: ['--root', tree.ws], env: { AGENTBOX_HOME: tree.home } });
  swapper = await startSwapper(conn, { ws: tree.ws, dir: 'd', link: 's', target: tree.outside });
}, 60_000);

afterAll(async () => {
  await swapper?.stop();
  console.log(formatReports(reports, swapper?.kind));
  await conn?.close();
  tree?.cleanup();
}, 60_000);

const patch = (body: string) => `*** Begin Patch\n${body}\n*** End Patch`;

/** The real d/x.txt's first line now (read through the descriptor, whatever `d` names), and the other one. */
function nextLine(): [string, string] {
  const current = readFileSync(path.join(tree.inside, 'x.txt'), 'utf8').split('\n')[0]!;
  return [current, current === 'inside A' ? 'inside B' : 'inside A'];
}

const writes: Array<[string, (i: number) => [string, Record<string, unknown>]]> = [
  ['write_file d/new-<i>.txt', (i) => ['write_file', { path: `d/new-${i}.txt`, content: `new ${i}\n` }]],
  ['write_file d/x.txt (exists)', (i) => ['write_file', { path: 'd/x.txt', content: i % 2 ? 'inside B\n' : 'inside A\n' }]],
  [
    'edit_file d/x.txt',
    () => {
      const [from, to] = nextLine();
      return ['edit_file', { path: 'd/x.txt', old_string: from, new_string: to }];
    },
  ],
  ['apply_patch Add d/add-<i>.txt', (i) => ['apply_patch', { patch: patch(`*** Add File: d/add-${i}.txt\n+added ${i}`) }]],
  [
    'apply_patch Update d/x.txt',
    () => {
      const [from, to] = nextLine();
      return ['apply_patch', { patch: patch(`*** Update File: d/x.txt\n@@\n-${from}\n+${to}`) }];
    },
  ],
  ['apply_patch Delete d/del-<i>.txt', (i) => ['apply_patch', { patch: patch(`*** Delete File: d/del-${i}.txt`) }]],
  [
    'apply_patch Move d/m-<i>.txt to d/m2-<i>.txt',
    (i) => ['apply_patch', { patch: patch(`*** Update File: d/m-${i}.txt\n*** Move to: d/m2-${i}.txt\n@@\n-move me ${i}\n+moved ${i}`) }],
  ],
];

describe('write tools while d is swapped with a link outside', () => {
  it.each(writes)(`%s (${RACE_CALLS} calls) never changes anything outside`, async (label, request) => {
    const before = dirState(tree.outside);
    const report = await raceCalls({
      label,
      count: RACE_CALLS,
      call: (i) => conn.call(...request(i)),
      secrets: [tree.secret, tree.homeMarker],
      watch: [tree.outside],
      watchContents: ['x.txt', 'config.toml'],
      swapper: swapper!,
    });
    reports.push(report);
    expect({ leaked: report.leaked, examples: report.examples }).toEqual({ leaked: 0, examples: [] });
    expect(diffStates(before, dirState(tree.outside))).toEqual([]);
    expect(leftovers(tree.outside)).toEqual([]);
    expect(report.swaps).toBeGreaterThanOrEqual(MIN_SWAPS_PER_TOOL);
  }, 240_000);

  it('the swapper made thousands of swaps, and the outside tree is as it was', async () => {
    const total = await swapper!.stop();
    expect(swapper!.state()).toBe('done');
    expect(total).toBeGreaterThanOrEqual(MIN_SWAPS);
    expect(diffStates(baseline, dirState(tree.outside))).toEqual([]);
    expect(leftovers(tree.outside)).toEqual([]);
  }, 60_000);
});
