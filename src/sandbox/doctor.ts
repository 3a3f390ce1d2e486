// Checks whether the bubblewrap sandbox can run here, and says how to fix it when it cannot.
// `agentbox doctor` prints this; the shell tools give the same message when a command can't start.
import os from 'node:os';
import { execa } from 'execa';
import type { Config } from '../config/index.js';
import { buildBwrapArgs } from './bwrap.js';
import { CORE_ENV_NAMES } from './env.js';
import { buildPolicy, PROTECTED_NAMES } from './policy.js';
import { keyringSeccompFilter } from './seccomp.js';

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
  // The same options as a command, the seccomp program (no kernel keyring) included.
  const args = buildBwrapArgs({ policy, protectedMounts: [], seccompFd: 3, cwd: '/', newSession: true });
  const [version, run] = await Promise.all([
    execa(bwrap, ['--version'], { reject: false, timeout: 5000 }),
    execa(bwrap, [...args, 'true'], { reject: false, timeout: 10_000, stdio: ['pipe', 'pipe', 'pipe', new Uint8Array(keyringSeccompFilter())] }),
  ]);
  if (run.exitCode === 0) return { ok: true, version: String(version.stdout).trim() || 'bubblewrap' };
  return { ok: false, ...explainBwrapFailure(String(run.stderr)) };
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

/** One line of `agentbox doctor` (the same shape as doctor.ts's Check). */
export interface SandboxCheck {
  name: string;
  status: 'ok' | 'warn' | 'fix';
  detail: string;
}

/** What `agentbox doctor` knows about the sandbox, gathered by the caller. */
export interface SandboxFacts {
  config: Config;
  probe: SandboxProbe;
  /** A writable cgroup v1 pids hierarchy (process limits that hold for root too). */
  pidsCgroup: boolean;
  /** A writable cgroup v1 memory hierarchy (a memory limit for each command as a whole). */
  memoryCgroup?: boolean;
  isRoot: boolean;
  /** Names in the server's environment that commands will not see because they look like secrets. */
  withheld: readonly string[];
  /** sandbox.deny_read as shown to the user (`~/.ssh`), split by whether it exists here. */
  denyRead?: { present: readonly string[]; absent: readonly string[] };
  /** $AGENTBOX_HOME as shown to the user. */
  home?: string;
}

/** The sandbox's state as doctor lines: sandbox, process limit, resource limits, environment, approvals. */
export function sandboxChecks(f: SandboxFacts): SandboxCheck[] {
  const { config, probe } = f;
  const { sandbox, shell } = config;
  const needed = sandbox.mode !== 'danger-full-access';
  const checks: SandboxCheck[] = [];
  const writes =
    sandbox.mode === 'read-only'
      ? 'nothing is writable but a private /tmp'
      : sandbox.mode === 'workspace-write'
        ? `writable: the workspace roots${sandbox.writable_roots.length > 0 ? `, ${sandbox.writable_roots.join(', ')}` : ''} and a private /tmp; read-only inside them: ${PROTECTED_NAMES.join(', ')}`
        : 'no sandbox: commands run with full access';
  checks.push(
    probe.ok
      ? { name: 'sandbox', status: 'ok', detail: `${probe.version} works (user, pid, net, ipc, uts namespaces; all capabilities dropped; no kernel keyring); mode ${sandbox.mode}: ${writes}; network ${sandbox.network || !needed ? 'on' : 'off'}` }
      : { name: 'sandbox', status: needed ? 'fix' : 'warn', detail: `${probe.reason} ${probe.fix}${needed ? ' Until then every command fails.' : ' (mode is danger-full-access: commands run unsandboxed)'}` },
  );
  checks.push(
    f.pidsCgroup
      ? { name: 'process limit', status: 'ok', detail: `max_processes = ${sandbox.max_processes} per command, enforced by a pids cgroup` }
      : f.isRoot
        ? {
            name: 'process limit',
            status: 'warn',
            detail: `running as root without a writable cgroup v1 pids hierarchy: the kernel does not apply RLIMIT_NPROC to root, so max_processes (${sandbox.max_processes}) is not enforced and a fork bomb is stopped only by its timeout. Run agentbox as an ordinary user, or where /sys/fs/cgroup/pids is writable.`,
          }
        : { name: 'process limit', status: 'ok', detail: `max_processes = ${sandbox.max_processes} per command (RLIMIT_NPROC)` },
  );
  checks.push({
    name: 'resource limits',
    status: 'ok',
    detail:
      (f.memoryCgroup
        ? `memory: ${sandbox.max_memory_mb} MB per command, all its processes and tmpfs pages together (memory cgroup), and per process (RLIMIT_DATA); `
        : `memory: ${sandbox.max_memory_mb} MB per process only (RLIMIT_DATA; no writable cgroup v1 memory hierarchy, so a command's processes together may use more); `) +
      `/dev/shm ${sandbox.max_memory_mb} MB; CPU: ${sandbox.max_cpu_seconds} s per process (RLIMIT_CPU); at most ${sandbox.max_sessions} commands at once; default timeout ${shell.default_timeout_ms} ms`,
  });
  checks.push(viewCheck(sandbox.mode, probe));
  if (f.denyRead) checks.push(hiddenCheck(sandbox.mode, f.denyRead, f.home));
  checks.push({
    name: 'environment',
    status: 'ok',
    detail:
      `commands get ${CORE_ENV_NAMES.join(', ')}${shell.env.include.length > 0 ? `, ${shell.env.include.join(', ')}` : ''}` +
      `${Object.keys(shell.env.set).length > 0 ? ` and set ${Object.keys(shell.env.set).join(', ')}` : ''}; ` +
      (f.withheld.length > 0 ? `withheld as secret-looking: ${f.withheld.join(', ')}` : 'no secret-looking variables in this environment'),
  });
  checks.push({
    name: 'approvals',
    status: 'ok',
    detail:
      config.approval_policy === 'never'
        ? 'approval_policy = never: requests to leave the sandbox are refused'
        : `approval_policy = ${config.approval_policy}: asks the host's user (MCP elicitation) ${config.approval_policy === 'untrusted' ? 'for every command not known read-only and ' : ''}before running a command outside the sandbox; no answer in ${Math.round(config.approval_timeout_ms / 1000)} s or no elicitation support means decline`,
  });
  return checks;
}

/** Where grep, glob and git run: the confined view (sandbox/view.ts), or unconfined in danger-full-access. */
function viewCheck(mode: Config['sandbox']['mode'], probe: SandboxProbe): SandboxCheck {
  const name = 'search and git';
  if (mode === 'danger-full-access') return { name, status: 'ok', detail: 'danger-full-access: ripgrep (grep, glob) and git run unconfined, as any command does' };
  if (!probe.ok) {
    return { name, status: 'fix', detail: `no sandbox to confine them: grep and glob use the slower built-in walker, and every git tool fails until bubblewrap works (${probe.fix})` };
  }
  return {
    name,
    status: 'ok',
    detail:
      'ripgrep (grep, glob) and git run in a confined view: a mount namespace that shows only the system directories, the workspace roots ' +
      '(read-only for searches; writable roots writable for git) and your git config, with no network; a symlink out of the roots leads nowhere',
  };
}

/** What sandbox.deny_read and agentbox's home hide, and from what. */
function hiddenCheck(mode: Config['sandbox']['mode'], deny: NonNullable<SandboxFacts['denyRead']>, home: string | undefined): SandboxCheck {
  const from = mode === 'danger-full-access' ? 'the file tools (commands run unsandboxed in danger-full-access and can read them)' : 'commands, grep, glob, git and the file tools';
  const listed = deny.present.length > 0 ? deny.present.join(', ') : 'nothing that exists here';
  const absent = deny.absent.length > 0 ? ` (also listed, not present: ${deny.absent.join(', ')})` : '';
  const own = home ? `; agentbox's home ${home} is hidden too` : '';
  return {
    name: 'hidden',
    status: 'ok',
    detail: `sandbox.deny_read hides ${listed} from ${from}${absent}${own}. Change the list with sandbox.deny_read in config.toml (it replaces the default)`,
  };
}
