// Shell tools: exec_command, write_stdin, kill_session, list_sessions. Each resolves its paths
// through the path policy, then calls one function in exec/. Output is plain text in a fixed form
// (exec/format.ts); list_sessions alone returns structured data.
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { execCommand, formatReport, killSession, listSessions, sessionTableFor, writeStdin, type ExecReport } from '../exec/index.js';
import { resolveForRead } from '../sandbox/index.js';
import type { SessionContext } from '../session.js';
import type { Result } from '../util/result.js';
import { defineTool, type AnyToolSpec } from './define.js';
import { dataResult, errorResult, textResult } from './result.js';

export function shellTools(ctx: SessionContext): AnyToolSpec[] {
  const table = sessionTableFor(ctx);
  const { shell } = ctx.runtime.config;
  const toText = (r: Result<ExecReport>) => (r.ok ? textResult(formatReport(r.value)) : errorResult(r.error));
  const maxOutput = z.number().positive().optional().describe(`Max output bytes shown (cut in the middle). Default ${shell.max_output_bytes}.`);

  const execCommandTool = defineTool({
    name: 'exec_command',
    title: 'Run a shell command',
    group: 'shell',
    description: describeExec(ctx),
    input: {
      cmd: z.string().min(1).describe('Shell command (bash).'),
      workdir: z.string().optional().describe('Working directory. Default: the workspace root.'),
      timeout_ms: z.number().positive().optional().describe(`Kill the command (exit code 124) after this many ms (at most 2147483647). Default ${shell.default_timeout_ms}.`),
      yield_time_ms: z.number().optional().describe('Wait this long before returning with a session_id. Default 10000, range 250-30000.'),
      tty: z.boolean().optional().describe('Run in a PTY (interactive programs). Default false: pipes.'),
      login: z.boolean().optional().describe('Login shell (bash -lc). Default false.'),
      max_output_bytes: maxOutput,
      sandbox_permissions: z.enum(['use_default', 'require_escalated']).optional().describe('require_escalated asks the user to run this once outside the sandbox.'),
      justification: z.string().optional().describe('With require_escalated: why, shown to the user.'),
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
      'after yield_time_ms (default 250). With no chars, waits for new output (up to 300 s), then keeps collecting until ' +
      'yield_time_ms (default 10000) since the call began or the end: no need to poll in a loop. close_stdin ends the input (EOF). ' +
      'Ctrl-C is "\\u0003" and interrupts only with tty: true; else use kill_session.',
    input: {
      session_id: z.number().describe('From exec_command.'),
      chars: z.string().optional().describe('Input to send, e.g. "yes\\n". Default: none.'),
      close_stdin: z.boolean().optional().describe('After chars, end the input (EOF; Ctrl-D with a tty), e.g. for cat or sort reading stdin.'),
      yield_time_ms: z.number().optional().describe('How long to wait (ms, 250-300000). Default 250 with chars, 10000 without.'),
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
    description: 'Stop a running exec_command session and everything it started; returns its last output.',
    input: { session_id: z.number() },
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
    description: 'List exec_command sessions: running ones, and ended ones whose last output was not read yet.',
    input: {},
    output: { sessions: z.array(sessionShape) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async run() {
      const sessions = listSessions(ctx, table);
      const text =
        sessions.length === 0
          ? 'No shell sessions.'
          : sessions
              .map((s) => `${s.session_id}  ${s.running ? 'running' : `exited ${s.exit_code}`}  ${(s.wall_time_ms / 1000).toFixed(1)}s  ${s.unread_bytes} bytes unread  ${s.cwd}  $ ${s.command}`)
              .join('\n');
      return dataResult({ sessions }, text);
    },
  });

  return [execCommandTool, writeStdinTool, killSessionTool, listSessionsTool];
}

/** exec_command's description, saying what the sandbox in force allows and naming only the tools that are published. */
function describeExec(ctx: SessionContext): string {
  const policy = ctx.policy();
  const approval = ctx.approvalPolicy();
  const groups = new Set(ctx.runtime.config.tools);
  const gitNote = groups.has('git') ? '.git is read-only: use the git tools' : '.git is read-only';
  const where =
    policy.mode === 'danger-full-access'
      ? 'No sandbox: full access to this machine.'
      : `Sandboxed: reads anywhere; writes ${policy.mode === 'read-only' ? 'only in /tmp' : `only in the workspace and /tmp (${gitNote})`}; network ${policy.network ? 'on' : 'off'}.`;
  const escalation =
    policy.mode === 'danger-full-access'
      ? ''
      : approval === 'never'
        ? ' Escalation is disabled.'
        : (approval === 'untrusted' ? ' Commands that may change things need the user\'s approval.' : '') +
          ' If the sandbox blocks something essential, retry with sandbox_permissions "require_escalated" and a justification (the user decides).';
  const prefer = groups.has('files')
    ? ' Prefer the file tools for reading and editing files.'
    : groups.has('patch')
      ? ' Prefer apply_patch for editing files.'
      : '';
  return `Run a bash command. ${where}${escalation} Returns exit code and output if it ends within yield_time_ms, else a session_id for write_stdin.${prefer}`;
}
