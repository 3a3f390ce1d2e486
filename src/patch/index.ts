// The patch engine's public surface: the Codex apply_patch format, parsed (parse.ts), located in
// each file (seek-sequence.ts, replace.ts), planned in memory (plan.ts) and written all-or-nothing
// (commit.ts), in that order with the paths checked and locked first (apply.ts).
import type { Result } from '../util/result.js';
import { applyHunks, type PatchEnv, type PatchOutcome } from './apply.js';
import { parsePatch } from './parse.js';

export { parsePatch, oldLinesOf, newLinesOf, type Hunk, type UpdateChunk, type ChunkLine } from './parse.js';
export { seekSequence, normalisePunctuation, MATCH_LEVELS, type MatchLevel, type SeekResult } from './seek-sequence.js';
export { applyChunks, type FileUpdate } from './replace.js';
export { applyHunks, resolveHunks, renderOutcome, type PatchEnv, type PatchOutcome } from './apply.js';
export { planHunks, type Plan, type FileOp, type HunkPaths } from './plan.js';
export { commitPlan } from './commit.js';
export { nodePatchIo, type PatchIo } from './io.js';
export { writeJournal, WriteJournal, rollBack, finishForward, encodeJournal, decodeJournal, partialJournal, missingDirs, type CommitRecord, type Journal, type OldState } from './journal.js';

/** apply_patch's core: parses `text` and applies every file operation in it, or none. */
export async function applyPatch(text: string, env: PatchEnv): Promise<Result<PatchOutcome>> {
  const hunks = parsePatch(text);
  if (!hunks.ok) return hunks;
  return applyHunks(hunks.value, env);
}
