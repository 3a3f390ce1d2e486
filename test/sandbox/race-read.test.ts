// The read and search tools use exactly what they checked. A process in the sandbox, started
// through agentbox's own tools, swaps the workspace directory `d` with a symlink to a directory
// outside (renameat2 RENAME_EXCHANGE, as fast as it can) while read_file, list_dir, glob and grep
// are called RACE_CALLS times each on paths through `d`. A call may fail because the path changed;
// none may show a byte, or a name, of what lies outside. (support/race.ts has the attack.)
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
  sampleKinds,
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

const reads: Array<[string, (i: number) => [string, Record<string, unknown>]]> = [
  ['read_file d/x.txt', () => ['read_file', { path: 'd/x.txt' }]],
  ['list_dir d', () => ['list_dir', { path: 'd', depth: 2 }]],
  ['glob **/* in d', () => ['glob', { pattern: '**/*', path: 'd' }]],
  ['grep . in d', () => ['grep', { pattern: '.', path: 'd' }]],
];

describe('read tools while d is swapped with a link outside', () => {
  it('the swapper really swaps: d is seen both as a directory and as a link', () => {
    const seen = sampleKinds(path.join(tree.ws, 'd'));
    expect(seen.dir).toBeGreaterThan(0);
    expect(seen.link).toBeGreaterThan(0);
  });

  it.each(reads)(`%s (${RACE_CALLS} calls) never shows what lies outside`, async (label, request) => {
    const report = await raceCalls({
      label,
      count: RACE_CALLS,
      call: (i) => conn.call(...request(i)),
      secrets: [tree.secret, tree.homeMarker],
      watch: [tree.outside],
      swapper: swapper!,
    });
    reports.push(report);
    expect({ leaked: report.leaked, examples: report.examples }).toEqual({ leaked: 0, examples: [] });
    expect(report.raced, 'calls during which the swapper swapped').toBeGreaterThanOrEqual(RACE_CALLS);
  }, 240_000);

  it('the swapper made thousands of swaps, and the outside tree is as it was', async () => {
    const total = await swapper!.stop();
    expect(swapper!.state()).toBe('done');
    expect(total).toBeGreaterThanOrEqual(MIN_SWAPS);
    expect(diffStates(baseline, dirState(tree.outside))).toEqual([]);
    expect(leftovers(tree.outside)).toEqual([]);
  }, 60_000);
});
