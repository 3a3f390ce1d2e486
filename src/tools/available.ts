// Which tools can work in a session, so that only those are published: every tool in tools/list
// costs the host's model context on every turn, and one that can only refuse teaches it nothing.
// Under a read-only sandbox the writing file, patch and git tools go; without git, or without the
// bubblewrap that confines git to the workspace, the git tools.
// The shell tools stay whatever the sandbox's state: without bubblewrap each command fails saying
// why and how to fix it (docs/sandbox.md), which is the message a user needs.
import type { SessionContext } from '../session.js';
import type { AnyToolSpec } from './define.js';

export interface Availability {
  tools: AnyToolSpec[];
  /** One line per reason some tools were left out, for the server's instructions. */
  withheld: string[];
}

/** `tools` without those that cannot work in `session` (its sandbox mode, the executables found). */
export function availableTools(tools: readonly AnyToolSpec[], session: SessionContext): Availability {
  const readOnly = session.policy().mode === 'read-only';
  // Without bubblewrap the git tools cannot run git confined to the workspace, so they could only refuse.
  const noSandbox = session.policy().mode !== 'danger-full-access' && session.runtime.bin.bwrap === undefined;
  const noGit = session.runtime.bin.git === undefined || noSandbox;
  const writes = (t: AnyToolSpec) => (t.group === 'files' || t.group === 'patch' || t.group === 'git') && t.annotations.readOnlyHint !== true;
  const kept = tools.filter((t) => !(readOnly && writes(t)) && !(noGit && t.group === 'git'));
  const withheld: string[] = [];
  if (noGit && tools.some((t) => t.group === 'git')) {
    withheld.push(
      session.runtime.bin.git === undefined
        ? 'git is not installed, so the git tools are not available.'
        : 'bubblewrap (bwrap) is not installed, so the git tools, which run git confined to the workspace, are not available (`agentbox doctor` says how to install it).',
    );
  }
  if (readOnly && tools.some((t) => writes(t) && !(noGit && t.group === 'git'))) withheld.push('The sandbox is read-only, so no tool that writes is published.');
  return { tools: kept, withheld };
}
