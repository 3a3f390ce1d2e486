// git_status and git_log show only the workspace. While a process in the sandbox swaps the
// workspace directory `d` with a symlink to a directory outside (support/race.ts), git_status (on
// the root, and with repo_path `d`) and git_log on d/x.txt are called RACE_CALLS times each, with
// d/x.txt changed in the work tree. A call may fail because the path changed; none may show
// outside names or content, change anything outside, or store outside content in the repository.
// git_diff and git_add are in race-git.test.ts.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, type Connected } from '../support/client.js';
import {
  dirState,
  diffStates,
  formatReports,
  leftovers,
  MIN_SWAPS,
  objectsContaining,
  RACE_CALLS,
  raceCalls,
  raceTree,
  repoLeakCheck,
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
let storedSecret: () => string | undefined;
const reports: RaceReport[] = [];

beforeAll(async () => {
  tree = raceTree();
  writeFileSync(path.join(tree.ws, 'd', 'x.txt'), 'inside A\nchanged in the work tree\n');
  baseline = dirState(tree.outside);
  storedSecret = repoLeakCheck(tree.ws, tree.secret, 'd/x.txt');
  conn = await connectStdio({ args: ['--root', tree.ws], env: { AGENTBOX_HOME: tree.home } });
  swapper = await startSwapper(conn, { ws: tree.ws, dir: 'd', link: 's', target: tree.outside });
}, 60_000);

afterAll(async () => {
  await swapper?.stop();
  console.log(formatReports(reports, swapper?.kind));
  await conn?.close();
  tree?.cleanup();
}, 60_000);

const gitCalls: Array<[string, (i: number) => [string, Record<string, unknown>]]> = [
  ['git_status', () => ['git_status', {}]],
  ['git_status repo_path d', () => ['git_status', { repo_path: 'd' }]],
  ['git_log path d/x.txt', () => ['git_log', { path: 'd/x.txt', max_count: 5 }]],
];

describe('git_status and git_log while d is swapped with a link outside', () => {
  it.each(gitCalls)(`%s (${RACE_CALLS} calls) never shows what lies outside`, async (label, request) => {
    const report = await raceCalls({
      label,
      count: RACE_CALLS,
      call: (i) => conn.call(...request(i)),
      secrets: [tree.secret, tree.homeMarker],
      watch: [tree.outside],
      after: () => storedSecret(),
      swapper: swapper!,
    });
    reports.push(report);
    expect({ leaked: report.leaked, examples: report.examples }).toEqual({ leaked: 0, examples: [] });
    expect(report.raced, 'calls during which the swapper swapped').toBeGreaterThanOrEqual(RACE_CALLS);
  }, 240_000);

  it('the swapper made thousands of swaps, the outside tree is as it was, the repository holds no outside content', async () => {
    const total = await swapper!.stop();
    expect(swapper!.state()).toBe('done');
    expect(total).toBeGreaterThanOrEqual(MIN_SWAPS);
    expect(diffStates(baseline, dirState(tree.outside))).toEqual([]);
    expect(leftovers(tree.outside)).toEqual([]);
    expect(objectsContaining(path.join(tree.ws, '.git'), tree.secret)).toEqual([]);
  }, 60_000);
});
