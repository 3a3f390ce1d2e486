// The opening of a thread, after the base instructions: a developer message with the sandbox and
// approval rules in force (plus the caller's developer instructions and the output format), a user
// message with the AGENTS.md files from the project root down to the cwd, and a user message with
// the environment (cwd, shell, date, sandbox). The task itself follows as its own user message.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ApprovalPolicy } from '../config/index.js';
import { confined } from '../fs/index.js';
import { resolveForRead, type Policy } from '../sandbox/index.js';
import type { Item } from './items.js';

/** Codex's `project_doc_max_bytes` default: AGENTS.md text beyond this is cut. */
export const AGENTS_MD_MAX_BYTES = 32 * 1024;

export interface ContextInput {
  cwd: string;
  policy: Policy;
  approvalPolicy: ApprovalPolicy;
  /** Names of the tools the subagent has (the rules mention only tools it can use). */
  toolNames: ReadonlySet<string>;
  developerInstructions?: string;
  outputSchema?: Record<string, unknown>;
  now?: Date;
}

export async function openingItems(input: ContextInput): Promise<Item[]> {
  const developer = [permissionsText(input.policy, input.approvalPolicy, input.toolNames)];
  if (input.developerInstructions?.trim()) developer.push(input.developerInstructions.trim());
  if (input.outputSchema) {
    developer.push(
      `Your final message must be only a JSON value that validates against this JSON Schema, with no prose and no code fence:\n${JSON.stringify(input.outputSchema)}`,
    );
  }
  const items: Item[] = [{ type: 'message', role: 'developer', content: developer.join('\n\n') }];
  const agents = await loadAgentsMd(input.cwd, input.policy);
  if (agents) items.push({ type: 'message', role: 'user', content: `# AGENTS.md instructions for ${input.cwd}\n\n<INSTRUCTIONS>\n${agents.text}\n</INSTRUCTIONS>` });
  items.push({ type: 'message', role: 'user', content: environmentContext(input) });
  return items;
}

/** The sandbox and approval rules, in words a model acts on. */
export function permissionsText(policy: Policy, approval: ApprovalPolicy, tools: ReadonlySet<string>): string {
  const lines = ['<permissions>'];
  switch (policy.mode) {
    case 'read-only':
      lines.push('Sandbox: read-only. You can read files, but commands cannot write anywhere and file edits are refused. If the task needs changes, describe them in your final message instead.');
      break;
    case 'workspace-write':
      lines.push(
        `Sandbox: workspace-write. Commands and edits may write only inside: ${policy.writableRoots.join(', ')} (the last is the private temp dir, also mounted as /tmp). .git and .agentbox inside them stay read-only. Reading is allowed everywhere.`,
      );
      break;
    case 'danger-full-access':
      lines.push('Sandbox: none (danger-full-access). Commands run with the user\'s full permissions: be careful with anything destructive or outside the working directory.');
      break;
  }
  if (policy.mode !== 'danger-full-access') {
    lines.push(policy.network ? 'Network access is enabled.' : 'Network access is disabled inside the sandbox: package installs and downloads will fail.');
  }
  if (tools.has('exec_command') && policy.mode === 'danger-full-access') {
    // No sandbox to leave, so sandbox_permissions changes nothing; untrusted still asks.
    lines.push(
      approval === 'untrusted'
        ? 'Approval policy: untrusted. Any command not known to be read-only needs the user\'s approval, which may be declined; prefer read_file, grep and glob for reading. A declined command must not be retried in another form.'
        : `Approval policy: ${approval}. Commands run without asking, with nothing around them to stop a mistake.`,
    );
  } else if (tools.has('exec_command')) {
    switch (approval) {
      case 'never':
        lines.push('Approval policy: never. Never set sandbox_permissions; escalation requests are refused. Work within the sandbox, and if the task cannot be done there, say so in your final message.');
        break;
      case 'on-request':
        lines.push(
          'Approval policy: on-request. Commands run in the sandbox. When a command genuinely needs more (network access, writing outside the writable roots), call exec_command with sandbox_permissions "require_escalated" and a one-sentence justification; the user is asked. A declined request must not be retried in another form: find another way or report it.',
        );
        break;
      case 'untrusted':
        lines.push('Approval policy: untrusted. Any command not known to be read-only needs the user\'s approval, which may be declined; prefer read_file, grep and glob for reading. A declined command must not be retried in another form.');
        break;
    }
  }
  lines.push('</permissions>');
  return lines.join('\n');
}

export function environmentContext(input: Pick<ContextInput, 'cwd' | 'policy' | 'approvalPolicy' | 'now'>): string {
  const now = input.now ?? new Date();
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
  const date = now.toLocaleDateString('en-CA', { timeZone: tz });
  return [
    '<environment_context>',
    `  <cwd>${input.cwd}</cwd>`,
    '  <shell>bash</shell>',
    `  <current_date>${date}</current_date>`,
    `  <timezone>${tz}</timezone>`,
    `  <sandbox_mode>${input.policy.mode}</sandbox_mode>`,
    `  <network_access>${input.policy.network ? 'enabled' : 'restricted'}</network_access>`,
    `  <approval_policy>${input.approvalPolicy}</approval_policy>`,
    ...(input.policy.writableRoots.length > 0 ? [`  <writable_roots>${input.policy.writableRoots.map((r) => `<root>${r}</root>`).join('')}</writable_roots>`] : []),
    '</environment_context>',
  ].join('\n');
}

/**
 * The AGENTS.md files from the project root (the nearest directory above `cwd` holding `.git`,
 * else `cwd` itself) down to `cwd`, root first; in each directory AGENTS.override.md wins over
 * AGENTS.md. The joined text stops at `maxBytes`.
 */
export async function loadAgentsMd(cwd: string, policy?: Policy, maxBytes = AGENTS_MD_MAX_BYTES): Promise<{ text: string; files: string[] } | undefined> {
  const root = (await projectRoot(cwd)) ?? cwd;
  const dirs: string[] = [];
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    dirs.unshift(dir);
    if (dir === root || path.dirname(dir) === dir) break;
  }
  const parts: string[] = [];
  const files: string[] = [];
  let budget = maxBytes;
  for (const dir of dirs) {
    if (budget <= 0) break;
    for (const name of ['AGENTS.override.md', 'AGENTS.md']) {
      const file = path.join(dir, name);
      const text = await readInstructions(file, policy);
      if (text === undefined || text.trim() === '') continue;
      const bytes = Buffer.from(text.trim(), 'utf8');
      const kept = bytes.length <= budget ? text.trim() : `${bytes.subarray(0, budget).toString('utf8').replace(/\uFFFD$/, '')}\n[… AGENTS.md text cut at ${maxBytes} bytes]`;
      budget -= Math.min(bytes.length, budget);
      parts.push(kept);
      files.push(file);
      break;
    }
  }
  return parts.length > 0 ? { text: parts.join('\n\n'), files } : undefined;
}

async function projectRoot(cwd: string): Promise<string | undefined> {
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    if (await isRepositoryTop(dir)) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * A `.git` file (a worktree or submodule), or a `.git` directory that holds a repository: git
 * ignores an empty `.git` directory, and agentbox itself leaves empty ones as sandbox mount points.
 */
async function isRepositoryTop(dir: string): Promise<boolean> {
  const info = await stat(path.join(dir, '.git')).catch(() => undefined);
  if (!info) return false;
  if (info.isFile()) return true;
  return stat(path.join(dir, '.git', 'HEAD')).then(() => true, () => false);
}

/**
 * An instructions file as the subagent's read_file would read it: with a policy, through the same
 * path check (a link to agentbox's home or a sandbox.deny_read path is refused) and through its
 * verified directory (fs/confined.ts); only a regular file counts.
 */
async function readInstructions(file: string, policy: Policy | undefined): Promise<string | undefined> {
  let real: string;
  if (policy) {
    const checked = await resolveForRead(policy, file);
    if (!checked.ok) return undefined;
    real = checked.value;
  } else {
    const resolved = await realpath(file).catch(() => undefined);
    if (!resolved) return undefined;
    real = resolved;
  }
  const info = await confined.lstat(real).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  return confined.readFile(real).then((b) => b.toString('utf8'), () => undefined);
}
