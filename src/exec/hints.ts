// One line for the model when a sandboxed command failed because of the sandbox, saying what to do
// instead. Pure: looks at the output the model is shown. Only when it applies: a command that
// failed, with an error the sandbox explains (a read-only file system, no network).

export interface HintContext {
  mode: 'read-only' | 'workspace-write';
  network: boolean;
  /** The model may ask to run a command outside the sandbox (approval policy is not `never`). */
  escalation: boolean;
  /** The git tools are published. */
  gitTools: boolean;
}

/** Errors of a command without network: DNS, unreachable networks, refused connections (only the sandbox's own loopback exists). */
const NETWORK_ERROR =
  /Could not resolve host|Temporary failure in name resolution|Name or service not known|No address associated with hostname|getaddrinfo\s+(ENOTFOUND|EAI_AGAIN)|\bEAI_AGAIN\b|Network is unreachable|\bENETUNREACH\b|ECONNREFUSED\s+(127\.0\.0\.1|::1|localhost)|Failed to connect to (localhost|127\.0\.0\.1)|Could not connect to server|Connection refused/i;

/** The hint for a failed command's `output`, or undefined when the sandbox does not explain the failure. */
export function sandboxHint(output: string, ctx: HintContext): string | undefined {
  const escalate = ctx.escalation ? ', or retry with sandbox_permissions: "require_escalated" and a justification (the user decides)' : '';
  const readOnly = output.split('\n').filter((l) => /Read-only file system/.test(l));
  const network = ctx.network ? -1 : output.search(NETWORK_ERROR);
  const roAt = readOnly.length > 0 ? output.indexOf(readOnly[0]!) : -1;
  if (network >= 0 && (roAt < 0 || network < roAt)) {
    return `The network is off in the sandbox (no DNS, no connections, not even to services on this machine's localhost): it needs agentbox --network${escalate}.`;
  }
  if (roAt < 0) return undefined;
  if (readOnly.every((l) => /(^|[\s'"/])\.git([/'":\s]|$)/.test(l))) {
    return ctx.gitTools
      ? '.git is read-only in the sandbox: change the repository with the git tools (git_add, git_commit, git_branch_create, ...), not with git commands that write.'
      : `.git is read-only in the sandbox: git commands that write cannot run here${escalate}.`;
  }
  return ctx.mode === 'read-only'
    ? `The sandbox is read-only: only /tmp is writable${escalate}.`
    : `The sandbox allows writes only in the workspace roots and /tmp${escalate}.`;
}
