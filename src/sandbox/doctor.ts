// Checks whether the bubblewrap sandbox can run here, and says how to fix it when it cannot.
// `agentbox doctor` prints this; the shell tools give the same message when a command can't start.
import os from 'node:os';
import { execa } from 'execa';
import { buildBwrapArgs } from './bwrap.js';
import { buildPolicy } from './policy.js';

export type SandboxProbe = { ok: true; version: string } | { ok: false; reason: string; fix: string };

export const BWRAP_INSTALL_FIX = 'Install bubblewrap: `sudo apt-get install -y bubblewrap` (Debian/Ubuntu) or `sudo dnf install bubblewrap` (Fedora).';

/** Explains a bwrap start-up failure from its stderr. */
export function explainBwrapFailure(stderr: string): { reason: string; fix: string } {
  const text = stderr.trim();
  if (/No permissions to create new namespace|setting up uid map|Operation not permitted|Creating new namespace failed/i.test(text)) {
    return {
      reason: `bubblewrap cannot create user namespaces here (${firstLine(text)}).`,
      fix:
        'Enable unprivileged user namespaces (`sudo sysctl -w kernel.unprivileged_userns_clone=1`; on Ubuntu 24.04+ also ' +
        '`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`), or in Docker run with `--security-opt seccomp=unconfined`. ' +
        'Only if the machine is itself a disposable sandbox, use --sandbox danger-full-access.',
    };
  }
  return { reason: `bubblewrap failed to start: ${firstLine(text) || 'no error output'}.`, fix: 'Run `agentbox doctor` for details.' };
}

/** Starts one trivial sandbox with the same options (namespaces, mounts, capabilities) commands get. */
export async function probeSandbox(bwrap: string | undefined): Promise<SandboxProbe> {
  if (!bwrap) return { ok: false, reason: 'bubblewrap (bwrap) is not installed.', fix: BWRAP_INSTALL_FIX };
  const tmp = os.tmpdir();
  const policy = buildPolicy({ mode: 'workspace-write', roots: [tmp], tmpDir: tmp });
  const args = buildBwrapArgs({ policy, protectedMounts: [], cwd: '/', newSession: true });
  const [version, run] = await Promise.all([
    execa(bwrap, ['--version'], { reject: false, timeout: 5000 }),
    execa(bwrap, [...args, 'true'], { reject: false, timeout: 10_000 }),
  ]);
  if (run.exitCode === 0) return { ok: true, version: String(version.stdout).trim() || 'bubblewrap' };
  return { ok: false, ...explainBwrapFailure(String(run.stderr)) };
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
