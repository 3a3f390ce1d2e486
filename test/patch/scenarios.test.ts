// One driver for every scenario folder in test/fixtures/patch: copy input/ to a temp workspace,
// apply patch.txt through the engine, then compare the files with expected/, or, for a
// rejection, check the error against expected_error.txt and the tree against the input, byte for
// byte (directories included: a failed patch must not even leave an empty directory behind).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyIn } from '../support/patch.js';
import { PROJECT_ROOT } from '../support/paths.js';
import { readFiles, snapshotTree } from '../support/tree.js';
import { tempDir, type TempDir } from '../support/workspace.js';

const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures', 'patch');
const scenarios = readdirSync(FIXTURES).filter((name) => /^\d{3}_/.test(name)).sort();

let ws: TempDir | undefined;
afterEach(() => ws?.cleanup());

describe('patch scenarios', () => {
  it('has at least 25 scenarios, each with an expected tree or an expected error', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(25);
    for (const name of scenarios) {
      const dir = path.join(FIXTURES, name);
      expect(existsSync(path.join(dir, 'patch.txt')), name).toBe(true);
      expect(existsSync(path.join(dir, 'expected')) !== existsSync(path.join(dir, 'expected_error.txt')), name).toBe(true);
    }
  });

  it.each(scenarios)('%s', async (name) => {
    const dir = path.join(FIXTURES, name);
    ws = tempDir('agentbox-scenario-');
    // The workspace is a subdirectory so that paths escaping it still land inside the temp dir.
    const root = ws.path('ws');
    if (existsSync(path.join(dir, 'input'))) cpSync(path.join(dir, 'input'), root, { recursive: true });
    else mkdirSync(root);
    const patch = readFileSync(path.join(dir, 'patch.txt'), 'utf8');
    const before = snapshotTree(root);

    const result = await applyIn(root, patch);

    const expectedError = path.join(dir, 'expected_error.txt');
    if (existsSync(expectedError)) {
      expect(result.ok, 'the patch should be rejected').toBe(false);
      if (result.ok) return;
      expect(`${result.error.message}\n${result.error.hint ?? ''}`).toContain(readFileSync(expectedError, 'utf8').trim());
      expect(snapshotTree(root)).toEqual(before);
      expect(readdirSync(ws.dir).sort()).toEqual(['ws']);
    } else {
      if (!result.ok) throw new Error(`expected success, got: ${result.error.message}`);
      expect(readFiles(root)).toEqual(readFiles(path.join(dir, 'expected')));
      expect(result.value.text).toMatch(/^Success\. Updated the following files:\n[AMD] /);
    }
  });
});
