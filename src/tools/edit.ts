// Write tools of the `files` group: write_file and edit_file. Each resolves its path through the
// sandbox's write check (which refuses read-only mode, paths outside the writable roots, .git and
// .agentbox, and symlinks leading out), then calls one function in fs/.
import { z } from 'zod';
import { editFile, fileLocks, refuseDirectoryPath, writeTextFile } from '../fs/index.js';
import { writeJournal } from '../patch/index.js';
import { resolveForWrite } from '../sandbox/index.js';
import type { SessionContext } from '../session.js';
import { capDiff, MAX_DIFF_CHARS } from '../util/diff.js';
import { formatBytes } from '../util/format.js';
import { fitLines, formatCount } from '../util/budget.js';
import { defineTool, type AnyToolSpec } from './define.js';
import { errorResult, textResult, toToolResult } from './result.js';

const WRITES = { readOnlyHint: false, destructiveHint: true, openWorldHint: false } as const;
const PATH = 'File path, relative to the workspace root or absolute inside it.';

export function editTools(ctx: SessionContext): AnyToolSpec[] {
  const locks = fileLocks(ctx.runtime);
  // Records temp names so that a crash leaves none behind (patch/journal.ts).
  const journal = writeJournal(ctx.runtime);
  const { stdio, http } = ctx.runtime.config;
  const writeFile = defineTool({
    name: 'write_file',
    title: 'Write a file',
    group: 'files',
    description:
      'Create or overwrite a file with the given content: atomic, keeps the mode, creates parent directories. ' +
      'To change part of an existing file use edit_file or apply_patch. ' +
      `A request carries at most ${formatBytes(stdio.max_message_bytes)} (stdio) or ${formatBytes(http.max_body_bytes)} (HTTP); make bigger files with exec_command.`,
    input: {
      path: z.string().describe(PATH),
      content: z.string().describe('The complete new content (UTF-8).'),
    },
    annotations: { title: 'Write a file', ...WRITES, idempotentHint: true },
    async run(args) {
      const named = refuseDirectoryPath(args.path);
      if (!named.ok) return errorResult(named.error);
      const target = await resolveForWrite(ctx.policy(), args.path);
      if (!target.ok) return errorResult(target.error);
      const shown = ctx.show(target.value);
      return toToolResult(await writeTextFile(target.value, shown, args.content, locks, journal), (w) =>
        textResult(
          w.created
            ? `Created ${shown} (${w.bytes} bytes).`
            : `Replaced ${shown}: wrote ${w.bytes} bytes (was ${w.previousBytes} bytes).`,
        ),
      );
    },
  });

  const editFileTool = defineTool({
    name: 'edit_file',
    title: 'Edit a file',
    group: 'files',
    description:
      'Replace text in a file; returns a unified diff. old_string must match the file exactly (copy it from read_file without the line numbers) ' +
      'and be unique unless replace_all is set. Line endings are kept.',
    input: {
      path: z.string().describe(PATH),
      old_string: z.string().describe('Text to replace, exactly as in the file.'),
      new_string: z.string().describe('Replacement text.'),
      replace_all: z.boolean().optional().describe('Replace every occurrence. Default false.'),
    },
    annotations: { title: 'Edit a file', ...WRITES, idempotentHint: false },
    async run(args) {
      const named = refuseDirectoryPath(args.path);
      if (!named.ok) return errorResult(named.error);
      const target = await resolveForWrite(ctx.policy(), args.path);
      if (!target.ok) return errorResult(target.error);
      const shown = ctx.show(target.value);
      const result = await editFile(target.value, shown, {
        oldString: args.old_string,
        newString: args.new_string,
        replaceAll: args.replace_all ?? false,
      }, locks, journal);
      return toToolResult(result, (e) => {
        const where = e.lineCount === 1 ? `line ${e.lines[0]}` : `lines ${e.lines.join(', ')}${e.lineCount > e.lines.length ? ', …' : ''}`;
        const head = `Edited ${shown}: replaced ${e.replaced} occurrence${e.replaced === 1 ? '' : 's'} (at ${where}).`;
        const parts = [head];
        if (e.fallback) parts.push(e.fallback);
        if (e.diff) parts.push(capDiff(e.diff, MAX_DIFF_CHARS, 'use read_file to see the rest').trimEnd());
        const budget = ctx.runtime.config.output.max_chars;
        return textResult(fitLines(parts.join('\n'), budget, (n) => `[cut at the ${formatCount(budget)}-character reply budget: ${n} more lines of the diff; read_file shows the rest]`));
      });
    },
  });

  return [writeFile, editFileTool];
}
