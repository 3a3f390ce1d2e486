// Read-only file tools: read_file, list_dir, glob, grep. Each resolves its path through the
// sandbox's path policy, then calls one function in fs/.
import path from 'node:path';
import { z } from 'zod';
import { confined, globFiles, grepFiles, listDirectory, readFileForModel, ripgrepLauncher } from '../fs/index.js';
import { ConfinedView, hiddenPaths, resolveForRead } from '../sandbox/index.js';
import type { SessionContext } from '../session.js';
import { fitLines, formatCount, payloadRoom } from '../util/budget.js';
import { defineTool, type AnyToolSpec } from './define.js';
import { errorResult, textResult } from './result.js';

// The hints other than readOnlyHint mean nothing for a read-only tool (MCP), so they are left out.
const READ_ONLY = { readOnlyHint: true, openWorldHint: false } as const;

export function fileTools(ctx: SessionContext): AnyToolSpec[] {
  const { files } = ctx.runtime.config;
  const budget = ctx.runtime.config.output.max_chars;
  const room = payloadRoom(budget);
  const rg = ctx.runtime.bin.rg;
  const view = ConfinedView.of(ctx.runtime);

  const readFile = defineTool({
    name: 'read_file',
    title: 'Read a file',
    group: 'files',
    description:
      'Read a text file with line numbers, or view an image (png/jpeg/gif/webp). ' +
      `At most ${files.max_read_lines} lines or ${formatCount(budget)} characters a call; the result names the offset to read on.`,
    input: {
      path: z.string().describe('File path, relative to the workspace root or absolute inside it.'),
      offset: z.number().int().min(1).optional().describe('First line to read (1-based). Default 1.'),
      limit: z.number().int().min(1).optional().describe(`Number of lines. Default and max ${files.max_read_lines}.`),
    },
    annotations: { title: 'Read a file', ...READ_ONLY },
    async run(args) {
      const target = await resolveForRead(ctx.policy(), args.path);
      if (!target.ok) return errorResult(target.error);
      const result = await readFileForModel(target.value, ctx.show(target.value), args, {
        maxLines: files.max_read_lines,
        maxBytes: files.max_read_bytes,
        maxChars: budget,
        maxLineChars: Math.min(2000, Math.floor(room / 4)),
      });
      if (!result.ok) return errorResult(result.error);
      const out = result.value;
      if (out.kind === 'image') {
        return { content: [{ type: 'text', text: out.header }, { type: 'image', data: out.data, mimeType: out.mimeType }] };
      }
      return textResult(out.text);
    },
  });

  const listDir = defineTool({
    name: 'list_dir',
    title: 'List a directory',
    group: 'files',
    description: 'List a directory as a tree: directories first, then files with sizes; symlinks show their target.',
    input: {
      path: z.string().optional().describe('Directory. Default: the workspace root.'),
      depth: z.number().int().min(1).max(10).optional().describe('Levels to descend. Default 1.'),
      limit: z.number().int().min(1).optional().describe(`Max entries. Default ${files.max_results}.`),
    },
    annotations: { title: 'List a directory', ...READ_ONLY },
    async run(args) {
      const target = await resolveForRead(ctx.policy(), args.path ?? '.');
      if (!target.ok) return errorResult(target.error);
      const result = await listDirectory(target.value, ctx.show(target.value), {
        depth: args.depth ?? 1,
        limit: Math.min(args.limit ?? files.max_results, 5000),
        hidden: hiddenPaths(ctx.policy()),
      });
      if (!result.ok) return errorResult(result.error);
      return textResult(
        fitLines(result.value, budget, (n) => `[cut at the ${formatCount(budget)}-character reply budget: ${n} more entries not shown; list a subdirectory or lower depth]`),
      );
    },
  });

  const glob = defineTool({
    name: 'glob',
    title: 'Find files by pattern',
    group: 'files',
    description:
      'Find files by glob pattern, newest first; skips .gitignored files. A pattern without "/" matches file names at any depth ("*.ts"); use "src/**/*.test.ts" for paths.',
    input: {
      pattern: z.string().describe('Glob pattern.'),
      path: z.string().optional().describe('Directory to search. Default: the workspace root.'),
    },
    annotations: { title: 'Find files by pattern', ...READ_ONLY },
    async run(args, call) {
      const policy = ctx.policy();
      const target = await resolveForRead(policy, args.path ?? '.');
      if (!target.ok) return errorResult(target.error);
      const isDir = await confined.lstat(target.value).then((s) => s.isDirectory(), () => false);
      if (!isDir) return errorResult(`${ctx.show(target.value)} is not a directory.`);
      const result = await globFiles(target.value, args.pattern, {
        limit: files.max_results,
        rg: await ripgrepLauncher(view, policy, rg),
        signal: call.signal,
        ignoreRoot: ignoreRootFor(target.value),
        exclude: hiddenPaths(policy),
      });
      if (!result.ok) return errorResult(result.error);
      const { paths, total, truncated, unreadable } = result.value;
      const where = describeWhere(ctx.show(target.value));
      const prefix = prefixFor(ctx.show(target.value));
      const note = unreadable.length > 0 ? `\n[${unreadable.length} path(s) could not be read: ${unreadable.slice(0, 5).join(', ')}]` : '';
      if (total === 0) return textResult(`No files match ${args.pattern} in ${where}.${note}`);
      const header = `${total} file${total === 1 ? ' matches' : 's match'} ${args.pattern} in ${where}${truncated ? ` (showing the newest ${paths.length}; narrow the pattern or path)` : ''}, newest first:`;
      return textResult(
        fitLines(`${header}${note}\n${paths.map((p) => prefix + p).join('\n')}`, budget, (n) =>
          `[cut at the ${formatCount(budget)}-character reply budget: ${n} more paths not shown; narrow the pattern or path]`,
        ),
      );
    },
  });

  const grep = defineTool({
    name: 'grep',
    title: 'Search file contents',
    group: 'files',
    description:
      'Search file contents with a regular expression (ripgrep syntax); skips .gitignored and binary files. Results are grouped by file: "line:text" for matches, "line-text" for context.',
    input: {
      pattern: z.string().describe('Regular expression.'),
      path: z.string().optional().describe('File or directory. Default: the workspace root.'),
      glob: z.string().optional().describe('Only files matching this glob, e.g. "*.py".'),
      ignore_case: z.boolean().optional().describe('Default false.'),
      context: z.number().int().min(0).max(20).optional().describe('Lines around each match. Default 0.'),
      max_results: z.number().int().min(1).optional().describe('Max matching lines. Default 200.'),
    },
    annotations: { title: 'Search file contents', ...READ_ONLY },
    async run(args, call) {
      const policy = ctx.policy();
      const target = await resolveForRead(policy, args.path ?? '.');
      if (!target.ok) return errorResult(target.error);
      const info = await confined.lstat(target.value).catch(() => undefined);
      if (!info) return errorResult(`${ctx.show(target.value)} does not exist.`);
      if (!info.isFile() && !info.isDirectory()) return errorResult(`${ctx.show(target.value)} is neither a file nor a directory.`);
      const base = ctx.show(target.value);
      const dirShown = info.isFile() ? ctx.show(path.dirname(target.value)) : base;
      const maxResults = Math.min(args.max_results ?? 200, 5000);
      const result = await grepFiles(target.value, info.isFile(), args.pattern, {
        glob: args.glob,
        ignoreCase: args.ignore_case,
        context: args.context,
        maxResults,
        maxBytes: Math.min(files.max_read_bytes, room),
        rg: await ripgrepLauncher(view, policy, rg),
        signal: call.signal,
        prefix: prefixFor(dirShown),
        ignoreRoot: ignoreRootFor(target.value),
        exclude: hiddenPaths(policy),
      });
      if (!result.ok) return errorResult(result.error);
      const { text, matches, files: fileCount, truncated, notes } = result.value;
      const noteText = notes.map((n) => `\n[${n}]`).join('');
      const where = `${describeWhere(base)}${args.glob ? ` (files matching ${args.glob})` : ''}`;
      if (matches === 0) return textResult(`No matches for ${JSON.stringify(args.pattern)} in ${where}.${noteText}`);
      const header = `${matches} match${matches === 1 ? '' : 'es'} in ${fileCount} file${fileCount === 1 ? '' : 's'} for ${JSON.stringify(args.pattern)} in ${where}${truncated ? ` (stopped at the ${matches >= maxResults ? `max_results cap of ${maxResults}` : `${formatCount(budget)}-character reply budget`}; narrow with a more specific pattern, path or glob)` : ''}:`;
      return textResult(`${header}${noteText}\n${text}`);
    },
  });

  /** The workspace root a search directory lies in: .gitignore files from there down apply. */
  const ignoreRootFor = (target: string) => ctx.policy().roots.find((root) => target === root || target.startsWith(`${root}/`));

  return [readFile, listDir, glob, grep];
}

/** "the workspace root" for ".", else the path as shown. */
function describeWhere(shown: string): string {
  return shown === '.' ? 'the workspace root' : shown;
}

/** What to put before a result path found below `shown` so the model can use it as is. */
function prefixFor(shown: string): string {
  return shown === '.' ? '' : `${shown}/`;
}
