// Shell tools: exec_command, write_stdin, kill_session, list_sessions. Each resolves its paths
// through the path policy, then calls one function in exec/. Output is plain text in a fixed form
// (exec/format.ts); list_sessions alone returns structured data.
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { execCommand, formatReport, killSession, listSessions, sessionTableFor, writeStdin, type ExecReport } from '../exec/index.js';
import { resolveForRead } from '../sandbox/index.js';
import type { SessionContext } from '../session.js';
import type { Result } from '../util/result.js';
import { payloadRoom } from '../util/budget.js';
import { defineTool, type AnyToolSpec } from './define.js';
import { dataResult, errorResult, textResult } from './result.js';

export function shellTools(ctx: SessionContext): AnyToolSpec[] {
  const table = sessionTableFor(ctx);
  const { shell } = ctx.runtime.config;
  const toText = (r: Result<ExecReport>) => (r.ok ? textResult(formatReport(r.value)) : errorResult(r.error));
  const budget = payloadRoom(ctx.runtime.config.output.max_chars);
  const maxOutput = z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(`Max output bytes shown (cut in the middle). Default ${shell.max_output_bytes}, max ${budget}.`);

  const execCommandTool = defineTool({
    name: 'exec_command',
    title: 'Run a shell command',
    group: 'shell',
    description: describeExec(ctx),
    input: {
      cmd: z.string().min(1).describe('Shell command (bash).'),
      workdir: z.string().optional().describe('Working directory. Default: the workspace root.'),
      timeout_ms: z.number().int().min(1).optional().describe(`Kill it (exit code 124) after this many ms. Default ${shell.default_timeout_ms}.`),
      yield_time_ms: z.number().int().optional().describe('Return a session_id after this long if still running. Default 10000 (250-30000).'),
      tty: z.boolean().optional().describe('Run in a PTY. Default false.'),
      login: z.boolean().optional().describe('Login shell (bash -lc). Default false.'),
      max_output_bytes: maxOutput,
      sandbox_permissions: z.enum(['use_default', 'require_escalated']).optional().describe('require_escalated: ask the user to run it once unsandboxed. Default use_default.'),
      justification: z.string().optional().describe('Why (require_escalated), shown to the user.'),
    },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    async run(args, call) {
      const policy = ctx.policy();
      // The default, the first workspace root, is already a real path the policy allows.
      const dir = args.workdir === undefined && policy.roots[0] ? { ok: true as const, value: policy.roots[0] } : await resolveForRead(policy, args.workdir ?? '.');
      if (!dir.ok) return errorResult(dir.error);
      const isDir = (await stat(dir.value).catch(() => undefined))?.isDirectory() ?? false;
      if (!isDir) return errorResult(`workdir ${args.workdir ?? ctx.show(dir.value)} is not a directory.`);
      const request = {
        cmd: args.cmd,
        workdir: dir.value,
        timeoutMs: args.timeout_ms,
        yieldMs: args.yield_time_ms,
        tty: args.tty,
        login: args.login,
        maxOutputBytes: args.max_output_bytes,
        escalate: args.sandbox_permissions === 'require_escalated',
        justification: args.justification,
      };
      return toText(await execCommand(ctx, table, request, call));
    },
  });

  const writeStdinTool = defineTool({
    name: 'write_stdin',
    title: 'Write to a running command',
    group: 'shell',
    description:
      'Send input to a running exec_command session and return its new output. With chars, returns when the command ends or ' +
      'after yield_time_ms. With no chars, waits for new output (up to 300 s), then collects until yield_time_ms ' +
      'since the call began or the end: no need to poll in a loop. Ctrl-C is "\\u0003" and interrupts only with tty: true; else use kill_session.',
    input: {
      session_id: z.number().int().describe('From exec_command.'),
      chars: z.string().optional().describe('Input to send, e.g. "yes\\n". Default: none.'),
      close_stdin: z.boolean().optional().describe('After chars, end the input (EOF; Ctrl-D with a tty). Default false.'),
      yield_time_ms: z.number().int().optional().describe('How long to wait (ms, 250-300000). Default 250 with chars, 10000 without.'),
      max_output_bytes: maxOutput,
    },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    async run(args, call) {
      const request = { sessionId: args.session_id, chars: args.chars, closeStdin: args.close_stdin, yieldMs: args.yield_time_ms, maxOutputBytes: args.max_output_bytes };
      return toText(await writeStdin(ctx, table, request, call));
    },
  });

  const killSessionTool = defineTool({
    name: 'kill_session',
    title: 'Stop a running command',
    group: 'shell',
    description: 'Stop an exec_command session and all it started; returns its last output.',
    input: { session_id: z.number().int().describe('From exec_command.') },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    async run(args) {
      return toText(await killSession(ctx, table, args.session_id));
    },
  });

  const sessionShape = z.object({
    session_id: z.number(),
    command: z.string(),
    cwd: z.string(),
    running: z.boolean(),
    exit_code: z.number().nullable(),
    tty: z.boolean(),
    sandbox: z.string(),
    started_at: z.string(),
    wall_time_ms: z.number(),
    unread_bytes: z.number(),
  });
  const listSessionsTool = defineTool({
    name: 'list_sessions',
    title: 'List shell sessions',
    group: 'shell',
    description: 'exec_command sessions: running, or ended with output not yet read.',
    input: {},
    output: { summary: z.string(), sessions: z.array(sessionShape) },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run() {
      const sessions = listSessions(ctx, table);
      const text =
        sessions.length === 0
          ? 'No shell sessions.'
          : sessions
              .map((s) => `${s.session_id}  ${s.running ? 'running' : `exited ${s.exit_code}`}  ${(s.wall_time_ms / 1000).toFixed(1)}s  ${s.unread_bytes} bytes unread  ${s.cwd}  $ ${s.command}`)
              .join('\n');
      const running = sessions.filter((x) => x.running).length;
      const summary =
        sessions.length === 0
          ? 'No shell sessions.'
          : `${running} running, ${sessions.length - running} ended with unread output; write_stdin {"session_id": N} reads a session's output.`;
      return dataResult({ summary, sessions }, text);
    },
  });

  return [execCommandTool, writeStdinTool, killSessionTool, listSessionsTool];
}

/**
 * exec_command's description: exactly what commands may read and write under the sandbox in force
 * (as docs/sandbox.md says), how that differs from the file tools, and only tools that are published.
 */
function describeExec(ctx: SessionContext): string {
  const policy = ctx.policy();
  const approval = ctx.approvalPolicy();
  const groups = new Set(ctx.runtime.config.tools);
  const files = groups.has('files');
  const gitTools = groups.has('git') && ctx.runtime.bin.git !== undefined;
  const gitNote = policy.mode === 'read-only' ? '' : gitTools ? ' (.git read-only: use the git tools)' : ' (.git read-only)';
  const where =
    policy.mode === 'danger-full-access'
      ? 'No sandbox: full access to this machine.'
      : `Sandboxed: reads all but agentbox's home and sandbox.deny_read${files ? ' (file tools: roots and /tmp)' : ''}; ` +
        `writes ${policy.mode === 'read-only' ? 'only /tmp' : `only the workspace and /tmp${gitNote}`}; network ${policy.network ? 'on' : 'off'}.`;
  const escalation =
    policy.mode === 'danger-full-access'
      ? ''
      : approval === 'never'
        ? ' Escalation is disabled.'
        : (approval === 'untrusted' ? " Commands that may change things need the user's approval." : '') +
          ' If the sandbox blocks something essential, retry with sandbox_permissions "require_escalated" and a justification.';
  const prefer = files
    ? ' For workspace files use the file tools, not cat or sed.'
    : groups.has('patch') && policy.mode !== 'read-only'
      ? ' Prefer apply_patch for editing files.'
      : '';
  return `Run a bash command. ${where}${escalation} Returns exit code and output if it ends within yield_time_ms, else a session_id for write_stdin.${prefer}`;
}
