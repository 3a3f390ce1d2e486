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

/** The longest command an approval request shows, in characters as displayed and in lines. */
const APPROVAL_MAX_CHARS = 2000;
const APPROVAL_MAX_LINES = 40;

/** What to do with a command before it runs. */
export function decideApproval(input: ApprovalInput): ApprovalDecision {
  const full = input.mode === 'danger-full-access';
  let decision: ApprovalDecision;
  if (input.escalate && !full) {
    if (input.policy === 'never') {
      return {
        kind: 'refuse',
        message: 'Escalation refused: the approval policy is "never", so commands cannot run outside the sandbox.',
        hint: 'Run the command without sandbox_permissions and work inside the sandbox: write only inside the workspace roots or /tmp, and without network unless it is enabled.',
      };
    }
    decision = { kind: 'ask', sandboxed: false };
  } else if (input.policy === 'untrusted' && !isKnownReadOnly(input.cmd)) decision = { kind: 'ask', sandboxed: !full };
  else return { kind: 'run', sandboxed: !full };
  // The user must see every character they approve: a command too long to show in full is never asked about.
  const shown = displayCommand(input.cmd);
  if (shown.chars > APPROVAL_MAX_CHARS || shown.lines > APPROVAL_MAX_LINES) {
    return {
      kind: 'refuse',
      message:
        `Not asked: the command is too long to show the user in full for approval (${shown.chars} characters in ${shown.lines} line${shown.lines === 1 ? '' : 's'} as displayed; ` +
        `the limit is ${APPROVAL_MAX_CHARS} characters and ${APPROVAL_MAX_LINES} lines), so it did not run.`,
      hint: decision.sandboxed
        ? 'Split it into shorter commands.'
        : 'Split it into shorter commands, and ask to leave the sandbox only for the one that needs it.',
    };
  }
  return decision;
}

/**
 * The question put to the host's user. Everything the model wrote is shown so that it cannot hide
 * or forge anything: the command in a fenced block, line-numbered when it has several lines (a
 * line of the command can never pass for a line of this message), with control characters, bidi
 * and zero-width characters escaped as ⟨U+XXXX⟩ and long runs of blanks counted; the directory as
 * an absolute path.
 */
export function approvalMessage(opts: { cmd: string; cwd: string; justification?: string; sandboxed: boolean; timeoutMs: number }): string {
  const shown = displayCommand(opts.cmd);
  const fence = '`'.repeat(Math.max(3, longestRun(shown.text, '`') + 1));
  const lines = [
    opts.sandboxed ? 'Allow this command to run (inside the sandbox)?' : 'Allow this command to run OUTSIDE the sandbox, with full access to this machine?',
    '',
    shown.lines > 1 ? `Command (${shown.lines} lines, numbered):` : 'Command:',
    fence,
    shown.text,
    fence,
    `Directory: ${escapeLine(opts.cwd)}`,
  ];
  if (opts.justification) {
    const reason = escapeLine(opts.justification);
    lines.push(`Reason given by the model: ${reason.length > 500 ? `${reason.slice(0, 500)}… [cut]` : reason}`);
  }
  lines.push('', `Accept runs it once; decline refuses it. No answer within ${Math.round(opts.timeoutMs / 1000)} s counts as decline.`);
  return lines.join('\n');
}

/** The command as the user sees it: escaped, and numbered when it has several lines. */
function displayCommand(cmd: string): { text: string; chars: number; lines: number } {
  const raw = cmd.replace(/\n$/, '').split('\n');
  const width = String(raw.length).length;
  const escaped = raw.map((line) => escapeLine(line));
  const text = raw.length > 1 ? escaped.map((l, i) => `${String(i + 1).padStart(width)} | ${l}`).join('\n') : escaped[0]!;
  return { text, chars: text.length, lines: raw.length };
}

/** Characters that could hide or rearrange what the user reads: controls, bidi overrides and isolates, zero-width characters. */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb]/gu;

/** One line of text, made safe to show: invisible characters as ⟨U+XXXX⟩, tabs as ⟨TAB⟩, runs of more than 4 blanks counted. */
function escapeLine(text: string): string {
  return text
    .replace(/\t/g, '⟨TAB⟩')
    .replace(INVISIBLE, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`)
    .replace(/ {5,}/g, (run) => ` ⟨${run.length} spaces⟩ `);
}

function longestRun(text: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === ch ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
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
      return fail('approval_unavailable', 'Nobody can answer an approval request here (the host has no MCP elicitation, or this run is in the background or has no terminal); treated as declined, the command did not run.', retry);
  }
}
