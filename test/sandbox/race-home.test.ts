// exec_command's workdir and the file tools against a swap that leads out of the workspace. While
// a process in the sandbox swaps the workspace directory `d` with a symlink (support/race.ts):
// 1. to a directory outside: exec_command with workdir `d` may read there (the sandbox shows the
//    whole file system read-only, by design) but never write there;
// 2. to agentbox's own home ($AGENTBOX_HOME, holding config.toml): read_file, list_dir and grep
//    through `d`, and exec_command with workdir `d`, never show its marker, and nothing in it
//    changes; write_file d/config.toml never rewrites the server's own config.
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
let outsideBaseline: DirState;
let homeBaseline: DirState;
const reports: RaceReport[] = [];
const kinds: Swapper['kind'][] = [];

beforeAll(async () => {
  tree = raceTree();
  outsideBaseline = dirState(tree.outside);
  homeBaseline = dirState(tree.home);
  conn = await connectStdio({ args: ['--root', tree.ws], env: { AGENTBOX_HOME: tree.home } });
}, 60_000);

afterAll(async () => {
  await swapper?.stop();
  console.log(formatReports(reports, kinds.join(', ') as Swapper['kind']));
  await conn?.close();
  tree?.cleanup();
}, 60_000);

type Request = (i: number) => [string, Record<string, unknown>];

async function race(label: string, request: Request, secrets: string[], watch: string[]): Promise<RaceReport> {
  const report = await raceCalls({ label, count: RACE_CALLS, call: (i) => conn.call(...request(i)), secrets, watch, watchContents: ['config.toml'], swapper: swapper! });
  reports.push(report);
  return report;
}

async function swapWith(link: string, target: string): Promise<void> {
  swapper = await startSwapper(conn, { ws: tree.ws, dir: 'd', link, target });
  kinds.push(swapper.kind);
  const seen = sampleKinds(path.join(tree.ws, 'd'));
  expect(seen.dir).toBeGreaterThan(0);
  expect(seen.link).toBeGreaterThan(0);
}

async function stopSwapping(): Promise<void> {
  const total = await swapper!.stop();
  expect(swapper!.state()).toBe('done');
  expect(total).toBeGreaterThanOrEqual(MIN_SWAPS);
  swapper = undefined;
}

describe('exec_command with workdir d while d is swapped with a link outside', () => {
  it(`never writes outside (${RACE_CALLS} calls; reading there is allowed)`, async () => {
    await swapWith('s', tree.outside);
    const report = await race('exec_command workdir d: cat, echo > w.txt', () => ['exec_command', { cmd: 'cat x.txt; echo hi > w.txt', workdir: 'd' }], [tree.homeMarker], [tree.outside]);
    expect({ leaked: report.leaked, examples: report.examples }).toEqual({ leaked: 0, examples: [] });
    expect(report.raced, 'calls during which the swapper swapped').toBeGreaterThanOrEqual(RACE_CALLS);
    await stopSwapping();
    expect(diffStates(outsideBaseline, dirState(tree.outside))).toEqual([]);
    expect(leftovers(tree.outside)).toEqual([]);
  }, 240_000);
});

describe("tools through d while d is swapped with a link to agentbox's home", () => {
  beforeAll(() => swapWith('h', tree.home), 60_000);

  const requests: Array<[string, Request]> = [
    ['read_file d/config.toml', () => ['read_file', { path: 'd/config.toml' }]],
    ['list_dir d', () => ['list_dir', { path: 'd' }]],
    ['grep . in d', () => ['grep', { pattern: '.', path: 'd' }]],
    ['exec_command workdir d: cat, ls, echo > w.txt', () => ['exec_command', { cmd: 'cat config.toml; ls; echo hi > w.txt', workdir: 'd' }]],
    // Last: a leak rewrites the home's config.toml, which the reads above look for.
    ['write_file d/config.toml', () => ['write_file', { path: 'd/config.toml', content: '# inside config\n' }]],
  ];

  it.each(requests)(`%s (${RACE_CALLS} calls) never shows or changes the home`, async (label, request) => {
    const report = await race(label, request, [tree.homeMarker, tree.secret], [tree.home]);
    expect({ leaked: report.leaked, examples: report.examples }).toEqual({ leaked: 0, examples: [] });
    expect(report.raced, 'calls during which the swapper swapped').toBeGreaterThanOrEqual(RACE_CALLS);
  }, 240_000);

  it('the swapper made thousands of swaps, and the home is as it was', async () => {
    await stopSwapping();
    expect(diffStates(homeBaseline, dirState(tree.home))).toEqual([]);
    expect(leftovers(tree.home)).toEqual([]);
  }, 60_000);
});
