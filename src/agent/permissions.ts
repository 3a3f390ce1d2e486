// What a delegate run may do, given what the server allows: its sandbox mode, network and
// approval policy are never more permissive than the server's. Pure: the service asks, this
// module answers.
//
// Approval policies, by what needs the user's yes (src/exec/approval.ts):
//
// | policy     | sandboxed command           | escalation (leaving the sandbox) |
// |------------|-----------------------------|----------------------------------|
// | never      | runs                        | refused                          |
// | on-request | runs                        | asks                             |
// | untrusted  | asks unless known read-only | asks                             |
//
// A policy P is within the server's S when everything P runs without asking, S runs without
// asking too, and everything P can run at all (with a yes), S can run at all. That is a partial
// order: on-request is the most permissive; never and untrusted are each within on-request but not
// within each other (untrusted asks before commands never runs without asking; never refuses
// escalations untrusted lets the user allow). So under a server running
//   on-request: a delegate may use on-request, untrusted or never;
//   untrusted:  only untrusted;
//   never:      only never.
//
// The Codex backend always runs Codex with approval_policy never (headless, nobody could answer
// it), so it may run only where never is within the run's policy (on-request or never), and its
// thread records never.
//
// `delegate` refuses a wider request with a clear error (as for the sandbox mode). A thread
// continued by `delegate_reply` keeps its own settings but is narrowed to the server's current
// ones (the stricter of the two, for each of sandbox mode, network and approval policy); the
// result says what was narrowed. Two approval policies neither within the other cannot be
// combined into one of the three, so such a reply is refused.
import type { ApprovalPolicy, SandboxMode } from '../config/index.js';
import { fail, ok, type Result } from '../util/result.js';

const WITHIN: Record<ApprovalPolicy, readonly ApprovalPolicy[]> = {
  'on-request': ['on-request', 'untrusted', 'never'],
  untrusted: ['untrusted'],
  never: ['never'],
};

/** True when `policy` needs the user's yes for everything `server` does and allows nothing it refuses. */
export function approvalWithin(policy: ApprovalPolicy, server: ApprovalPolicy): boolean {
  return WITHIN[server].includes(policy);
}

/** The approval policy a new delegate run gets: the one asked for (when within the server's), else an error. */
export function checkApproval(wanted: ApprovalPolicy | undefined, server: ApprovalPolicy): Result<ApprovalPolicy> {
  if (wanted === undefined || approvalWithin(wanted, server)) return ok(wanted ?? server);
  const why =
    server === 'never'
      ? 'it would let commands leave the sandbox with the user\'s approval, and this server refuses every escalation'
      : 'it would run commands without asking that this server asks the user about';
  return fail(
    'approval_too_permissive',
    `This server runs with approval_policy ${server}; a delegate cannot ask for ${wanted}: ${why}.`,
    `Use ${WITHIN[server].join(' or ')}, or leave approval_policy out (default: ${server}).`,
  );
}

/** backend "codex" runs Codex with approval_policy never: allowed only when never is within the run's policy. */
export function checkCodexApproval(policy: ApprovalPolicy, context: string): Result<void> {
  if (approvalWithin('never', policy)) return ok(undefined);
  return fail(
    'approval_too_permissive',
    `backend "codex" runs Codex with approval_policy never (Codex cannot ask anyone when it runs headless), and ${context}: never would run commands without asking that ${policy} asks the user about.`,
    'Use backend "agentbox" (its own loop asks through the host), or a server started with --approval-policy on-request or never.',
  );
}

/** Sandbox modes from the narrowest to the widest. */
export const MODE_RANK: Record<SandboxMode, number> = { 'read-only': 0, 'workspace-write': 1, 'danger-full-access': 2 };

export interface RunLimits {
  mode: SandboxMode;
  network: boolean;
  approval: ApprovalPolicy;
}

/**
 * The settings a continued thread runs with: the stricter of what it started with and what the
 * server allows now, and a note for each setting that was narrowed.
 */
export function narrowForReply(threadId: string, stored: RunLimits, server: RunLimits): Result<RunLimits & { notes: string[] }> {
  const notes: string[] = [];
  let mode = stored.mode;
  if (MODE_RANK[server.mode] < MODE_RANK[stored.mode]) {
    mode = server.mode;
    notes.push(`sandbox narrowed to ${server.mode}: the thread started with ${stored.mode}, and this server now runs with ${server.mode}.`);
  }
  // danger-full-access always has the network; a narrowed mode falls back to the server's setting.
  const storedNetwork = stored.network || stored.mode === 'danger-full-access';
  const network = storedNetwork && server.network;
  if (storedNetwork && !network) notes.push('network access off: this server now runs without network in the sandbox.');
  let approval = stored.approval;
  if (!approvalWithin(stored.approval, server.approval)) {
    if (!approvalWithin(server.approval, stored.approval)) {
      return fail(
        'approval_conflict',
        `Thread ${threadId} was started with approval_policy ${stored.approval}, and this server now runs with ${server.approval}; neither is at least as strict as the other, so the thread cannot continue under both.`,
        `Start a new thread with delegate (it gets approval_policy ${server.approval}).`,
      );
    }
    approval = server.approval;
    notes.push(`approval_policy narrowed to ${server.approval}: the thread started with ${stored.approval}, and this server now runs with ${server.approval}.`);
  }
  return ok({ mode, network, approval, notes });
}
