// When a command needs the host's user's approval, and what the answer means. Pure: the caller
// asks (MCP elicitation through CallContext.askApproval) and passes the answer back.
//
// | policy     | sandboxed command                 | sandbox_permissions: require_escalated |
// |------------|-----------------------------------|----------------------------------------|
// | never      | runs                              | refused: work inside the sandbox       |
// | on-request | runs                              | asks; accept runs it once unsandboxed  |
// | untrusted  | asks unless known read-only       | asks; accept runs it once unsandboxed  |
//
// In danger-full-access there is no sandbox to leave, so escalation changes nothing; `untrusted`
// still asks for commands that are not known read-only. Every answer other than accept (decline,
// cancel, no elicitation support, no answer in time) refuses: the command does not run.
import type { ApprovalPolicy, SandboxMode } from '../config/index.js';
import type { ApprovalAnswer } from '../types/call.js';
import { fail, ok, type Result } from '../util/result.js';
import { isKnownReadOnly } from './safe-commands.js';

export interface ApprovalInput {
  policy: ApprovalPolicy;
  mode: SandboxMode;
  /** The model asked to run outside the sandbox (`sandbox_permissions: "require_escalated"`). */
  escalate: boolean;
  cmd: string;
}

export type ApprovalDecision =
  | { kind: 'run'; sandboxed: boolean }
  | { kind: 'ask'; sandboxed: boolean }
  | { kind: 'refuse'; message: string; hint: string };

/** What to do with a command before it runs. */
export function decideApproval(input: ApprovalInput): ApprovalDecision {
  const full = input.mode === 'danger-full-access';
  if (input.escalate && !full) {
    if (input.policy === 'never') {
      return {
        kind: 'refuse',
        message: 'Escalation refused: the approval policy is "never", so commands cannot run outside the sandbox.',
        hint: 'Run the command without sandbox_permissions and work inside the sandbox: write only inside the workspace roots or /tmp, and without network unless it is enabled.',
      };
    }
    return { kind: 'ask', sandboxed: false };
  }
  if (input.policy === 'untrusted' && !isKnownReadOnly(input.cmd)) return { kind: 'ask', sandboxed: !full };
  return { kind: 'run', sandboxed: !full };
}

/** The question put to the host's user. */
export function approvalMessage(opts: { cmd: string; cwd: string; justification?: string; sandboxed: boolean; timeoutMs: number }): string {
  const lines = [
    opts.sandboxed ? 'Allow this command to run (inside the sandbox)?' : 'Allow this command to run OUTSIDE the sandbox, with full access to this machine?',
    '',
    opts.cmd.length > 2000 ? `${opts.cmd.slice(0, 2000)} [... ${opts.cmd.length - 2000} more characters]` : opts.cmd,
    '',
    `Directory: ${opts.cwd}`,
  ];
  if (opts.justification) lines.push(`Reason given: ${opts.justification}`);
  lines.push('', `Accept runs it once; decline refuses it. No answer within ${Math.round(opts.timeoutMs / 1000)} s counts as decline.`);
  return lines.join('\n');
}

/** Turns the user's answer into go-ahead or a refusal the model can act on. */
export function approvalOutcome(answer: ApprovalAnswer, opts: { sandboxed: boolean; timeoutMs: number }): Result<void> {
  const retry = opts.sandboxed
    ? 'Do not retry the same command; ask the user or choose another approach.'
    : 'Do not retry it unsandboxed; run it inside the sandbox (without sandbox_permissions) or choose another approach.';
  switch (answer) {
    case 'accept':
      return ok(undefined);
    case 'decline':
      return fail('approval_declined', 'The user declined to run this command.', retry);
    case 'cancel':
      return fail('approval_cancelled', 'The user dismissed the approval request; the command did not run.', retry);
    case 'timeout':
      return fail('approval_timeout', `No answer to the approval request within ${Math.round(opts.timeoutMs / 1000)} s; treated as declined, the command did not run.`, retry);
    case 'unavailable':
      return fail('approval_unavailable', 'This host cannot ask its user for approval (no MCP elicitation support); treated as declined, the command did not run.', retry);
  }
}
