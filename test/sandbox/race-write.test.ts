// The write tools change exactly what they checked. While a process in the sandbox swaps the
// workspace directory `d` with a symlink to a directory outside (support/race.ts), write_file,
// edit_file and apply_patch (add, update, delete, move) are called RACE_CALLS times each on paths
// through `d`. A call may fail because the path changed; none may create, change, delete or move
// anything outside, leave a temp file there, or show outside content in its result. Before a
// delete or move, the file it names is made both in `d` and outside (a twin holding the secret), so
// a leak has something to remove. Every call is checked against the outside directory's state
// just before it; the whole outside tree, times included, is compared with its snapshot at the end.
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
  tree = raceTree();
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

type Request = (i: number) => [string, Record<string, unknown>];

/** Before call i: the file it deletes or moves, in `d` and (holding the secret) outside. */
const twins: Record<string, (i: number) => void> = {
  delete: (i) => tree.twin(`del-${i}.txt`, `delete me ${i}\n`, `${tree.secret} del ${i}\n`),
  move: (i) => tree.twin(`m-${i}.txt`, `move me ${i}\n`, `${tree.secret} move ${i}\n`),
};

/**
 * What the final comparisons skip: the twins (compared by changedTwins) and, once there are any,
 * the outside directory's own times, which making them changed. Each call's check (raceCalls)
 * still sees every change to the directory, as its state is taken after the twin is made.
 */
const madeOnPurpose = (rel: string) => tree.twins.has(rel) || (rel === '.' && tree.twins.size > 0);

const writes: Array<[string, Request, ((i: number) => void)?]> = [
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
  ['apply_patch Delete d/del-<i>.txt', (i) => ['apply_patch', { patch: patch(`*** Delete File: d/del-${i}.txt`) }], twins.delete],
  [
    'apply_patch Move d/m-<i>.txt to d/m2-<i>.txt',
    (i) => ['apply_patch', { patch: patch(`*** Update File: d/m-${i}.txt\n*** Move to: d/m2-${i}.txt\n@@\n-move me ${i}\n+moved ${i}`) }],
    twins.move,
  ],
];

describe('write tools while d is swapped with a link outside', () => {
  it.each(writes)(`%s (${RACE_CALLS} calls) never changes anything outside`, async (label, request, prepare) => {
    const before = dirState(tree.outside);
    const report = await raceCalls({
      label,
      count: RACE_CALLS,
      ...(prepare ? { prepare } : {}),
      call: (i) => conn.call(...request(i)),
      secrets: [tree.secret, tree.homeMarker],
      watch: [tree.outside],
      watchContents: ['x.txt', 'config.toml'],
      swapper: swapper!,
    });
    reports.push(report);
    expect({ leaked: report.leaked, examples: report.examples }).toEqual({ leaked: 0, examples: [] });
    expect(diffStates(before, dirState(tree.outside), madeOnPurpose)).toEqual([]);
    expect(tree.changedTwins()).toEqual([]);
    expect(leftovers(tree.outside)).toEqual([]);
    expect(report.raced, 'calls during which the swapper swapped').toBeGreaterThanOrEqual(RACE_CALLS);
  }, 240_000);

  it('the swapper made thousands of swaps, and the outside tree is as it was', async () => {
    const total = await swapper!.stop();
    expect(swapper!.state()).toBe('done');
    expect(total).toBeGreaterThanOrEqual(MIN_SWAPS);
    expect(diffStates(baseline, dirState(tree.outside), madeOnPurpose)).toEqual([]);
    expect(tree.changedTwins()).toEqual([]);
    expect(leftovers(tree.outside)).toEqual([]);
  }, 60_000);
});
