// apply_patch (group `patch`): Codex's patch format, applied all-or-nothing. The patch names its
// own paths, so the tool hands the core the write check to run on each of them (move targets too).
// The delegate's subagent calls this same ToolSpec with the raw patch text as `patch`.
import { z } from 'zod';
import { fileLocks } from '../fs/index.js';
import { applyPatch, writeJournal } from '../patch/index.js';
import { resolveEntryForWrite, resolveForWrite } from '../sandbox/index.js';
import type { SessionContext } from '../session.js';
import { fitLines, formatCount } from '../util/budget.js';
import { defineTool, type AnyToolSpec } from './define.js';
import { textResult, toToolResult } from './result.js';

const DESCRIPTION = `Edit files with a patch; returns a summary (A/M/D path) and a unified diff. All files change or none do. Format:
*** Begin Patch
*** Add File: path/new.py
+every line starts with +
*** Delete File: path/old.py
*** Update File: path/app.py
*** Move to: path/main.py   (optional rename)
@@ def greet():   (optional: a line to find first)
 context line (leading space)
-removed line
+added line
*** End of File   (optional: the chunk ends the file)
*** End Patch
Give about 3 lines of context around each change; add @@ lines when the context is not unique. No line numbers. Paths relative to the workspace root.`;

export function patchTools(ctx: SessionContext): AnyToolSpec[] {
  const applyPatchTool = defineTool({
    name: 'apply_patch',
    title: 'Apply a patch',
    group: 'patch',
    description: DESCRIPTION,
    input: {
      patch: z.string().describe('The whole patch, from *** Begin Patch to *** End Patch.'),
    },
    annotations: { title: 'Apply a patch', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    async run(args, call) {
      const policy = ctx.policy();
      const result = await applyPatch(args.patch, {
        resolve: (p) => resolveForWrite(policy, p),
        resolveEntry: (p) => resolveEntryForWrite(policy, p),
        show: (p) => ctx.show(p),
        locks: fileLocks(ctx.runtime),
        journal: writeJournal(ctx.runtime),
        signal: call.signal,
      });
      if (result.ok) call.progress(`patch applied: ${result.value.ops.map((o) => `${o.code} ${o.path}`).join(', ')}`);
      const budget = ctx.runtime.config.output.max_chars;
      return toToolResult(result, (r) =>
        textResult(fitLines(r.text, budget, (n) => `[cut at the ${formatCount(budget)}-character reply budget: ${n} more lines of the diff; git_diff with paths, or read_file, shows the rest]`)),
      );
    },
  });
  return [applyPatchTool];
}
