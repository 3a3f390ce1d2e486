// The subagent's tools: the same ToolSpecs the host sees (picked by name from the child session's
// tool list, so a tool merged later simply appears), plus update_plan, which only the subagent
// has. This module turns them into model tool definitions and runs one model tool call: parse and
// validate the arguments, call `spec.run` with the run's CallContext, and turn the result into
// the text the model reads. It never reimplements a tool.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { AnyToolSpec, CallContext } from '../tools/define.js';
import type { ToolCallItem } from './items.js';
import type { ModelTool } from './model.js';

/** The host tools a subagent gets, in this order, when the server has them. */
export const SUBAGENT_TOOLS = ['exec_command', 'write_stdin', 'apply_patch', 'read_file', 'list_dir', 'glob', 'grep', 'git_status', 'git_diff'] as const;

/** Tool output beyond this is cut in the middle (the tools cap their own output well below it). */
const MAX_OUTPUT_CHARS = 64 * 1024;

export interface PlanStep {
  step: string;
  status: 'pending' | 'in_progress' | 'completed';
}

export interface ToolOutcome {
  /** What the model reads. */
  output: string;
  isError: boolean;
}

export interface Toolbox {
  readonly tools: ModelTool[];
  readonly names: ReadonlySet<string>;
  /** Read-only tools may run in parallel with each other; the rest run one at a time. */
  isReadOnly(name: string): boolean;
  run(call: ToolCallItem, ctx: CallContext): Promise<ToolOutcome>;
}

export interface ToolboxOptions {
  /** Offer apply_patch as a freeform tool (Responses wire, models trained on it). */
  freeformPatch: boolean;
  onPlan(plan: PlanStep[], explanation?: string): void;
}

const PlanInput = {
  explanation: z.string().optional(),
  plan: z
    .array(z.object({ step: z.string().min(1), status: z.enum(['pending', 'in_progress', 'completed']) }).strict())
    .describe('The list of steps'),
};

export function buildToolbox(available: readonly AnyToolSpec[], opts: ToolboxOptions): Toolbox {
  const byName = new Map(available.map((s) => [s.name, s]));
  const specs = SUBAGENT_TOOLS.map((n) => byName.get(n)).filter((s): s is AnyToolSpec => s !== undefined);
  const specMap = new Map(specs.map((s) => [s.name, s]));
  // Strict, as for host calls: a misspelled argument is an error the model can fix, not ignored.
  const validators = new Map(specs.map((s) => [s.name, z.object(s.input).strict()]));
  const planSchema = z.object(PlanInput).strict();

  const tools: ModelTool[] = specs.map((spec) =>
    spec.name === 'apply_patch' && opts.freeformPatch
      ? { kind: 'freeform', name: 'apply_patch', description: FREEFORM_PATCH_DESCRIPTION, grammar: { syntax: 'lark', definition: PATCH_GRAMMAR } }
      : { kind: 'function', name: spec.name, description: spec.description, parameters: modelSchema(validators.get(spec.name)!) },
  );
  tools.push({
    kind: 'function',
    name: 'update_plan',
    description: 'Record your plan for the task: a list of short steps, each pending, in_progress or completed (at most one in_progress). Call it again as steps complete.',
    parameters: modelSchema(planSchema),
  });
  const names = new Set(tools.map((t) => t.name));

  return {
    tools,
    names,
    isReadOnly: (name) => name === 'update_plan' || specMap.get(name)?.annotations.readOnlyHint === true,
    async run(call, ctx) {
      if (call.name === 'update_plan') {
        const args = parseArgs(call);
        if (!args.ok) return { output: args.error, isError: true };
        const parsed = planSchema.safeParse(args.value);
        if (!parsed.success) return { output: invalid('update_plan', parsed.error), isError: true };
        if (parsed.data.plan.filter((s) => s.status === 'in_progress').length > 1) {
          return { output: 'At most one step can be in_progress at a time.', isError: true };
        }
        opts.onPlan(parsed.data.plan, parsed.data.explanation);
        return { output: 'Plan updated.', isError: false };
      }
      const spec = specMap.get(call.name);
      if (!spec) return { output: `unsupported call: ${call.name}. Available tools: ${[...names].join(', ')}.`, isError: true };
      let args: Record<string, unknown>;
      if (call.type === 'custom_tool_call') {
        const key = 'patch' in spec.input ? 'patch' : (Object.keys(spec.input)[0] ?? 'input');
        args = { [key]: call.input };
      } else {
        const parsed = parseArgs(call);
        if (!parsed.ok) return { output: parsed.error, isError: true };
        args = parsed.value;
      }
      const valid = validators.get(spec.name)!.safeParse(args);
      if (!valid.success) return { output: invalid(spec.name, valid.error), isError: true };
      let result: CallToolResult;
      try {
        result = await spec.run(valid.data, ctx);
      } catch (err) {
        return { output: `${spec.name} failed: ${(err as Error)?.message ?? String(err)}`, isError: true };
      }
      return { output: capMiddle(resultText(result)), isError: result.isError === true };
    },
  };
}

function parseArgs(call: ToolCallItem): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  const raw = call.type === 'function_call' ? call.arguments.trim() : call.input;
  if (raw === '') return { ok: true, value: {} };
  try {
    const value = JSON.parse(raw) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return { ok: true, value: value as Record<string, unknown> };
    return { ok: false, error: `Arguments for ${call.name} must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}.` };
  } catch (err) {
    return { ok: false, error: `Arguments for ${call.name} are not valid JSON (${(err as Error).message}). Send one JSON object.` };
  }
}

function invalid(name: string, error: z.ZodError): string {
  const issues = error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(arguments)'}: ${i.message}`);
  return `Invalid arguments for ${name}: ${issues.join('; ')}.`;
}

/** What the model reads from a tool result: its text; images and other content as a short note. */
export function resultText(result: CallToolResult): string {
  const parts: string[] = [];
  for (const c of result.content ?? []) {
    if (c.type === 'text') parts.push(c.text);
    else if (c.type === 'image') parts.push(`[image ${c.mimeType}, ${Math.round((c.data.length * 3) / 4)} bytes: not shown to you]`);
    else parts.push(`[${c.type} content]`);
  }
  if (parts.length === 0 && result.structuredContent) parts.push(JSON.stringify(result.structuredContent));
  const text = parts.join('\n');
  return result.isError && !/^(error|failed)/i.test(text) ? `Error: ${text}` : text;
}

function capMiddle(text: string): string {
  if (text.length <= MAX_OUTPUT_CHARS) return text;
  const half = MAX_OUTPUT_CHARS / 2;
  return `${text.slice(0, half)}\n[… ${text.length - MAX_OUTPUT_CHARS} characters cut …]\n${text.slice(-half)}`;
}

/** A tool's JSON Schema for a model: no $schema, no ±2^53 integer bounds that zod adds. */
function modelSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return prune(json) as Record<string, unknown>;
}

function prune(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(prune);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if ((k === 'maximum' && v === Number.MAX_SAFE_INTEGER) || (k === 'minimum' && v === Number.MIN_SAFE_INTEGER)) continue;
    out[k] = prune(v);
  }
  return out;
}

const FREEFORM_PATCH_DESCRIPTION =
  'Edit files with a patch in the apply_patch format: add, update (with context lines), move and delete files. This is a FREEFORM tool: send the patch text itself, not JSON.';

/** The apply_patch format as a Lark grammar, so a model with constrained decoding emits valid patches. */
const PATCH_GRAMMAR = `start: begin_patch hunk+ end_patch
begin_patch: "*** Begin Patch" LF
end_patch: "*** End Patch" LF?

hunk: add_hunk | delete_hunk | update_hunk
add_hunk: "*** Add File: " filename LF add_line+
delete_hunk: "*** Delete File: " filename LF
update_hunk: "*** Update File: " filename LF change_move? change?

filename: /(.+)/
add_line: "+" /(.*)/ LF -> line

change_move: "*** Move to: " filename LF
change: (change_context | change_line)+ eof_line?
change_context: ("@@" | "@@ " /(.+)/) LF
change_line: ("+" | "-" | " ") /(.*)/ LF
eof_line: "*** End of File" LF

%import common.LF
`;
