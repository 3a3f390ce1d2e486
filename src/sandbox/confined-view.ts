// Starts ripgrep and git inside the confined view (view.ts): finds what the view needs on this
// machine and puts bwrap in front of the program. The I/O half of view.ts; one per Runtime.
//
// Per call it only builds the argv: the system directories and each program's real path are
// looked up once, the hidden paths and the user's git config files at most every few seconds
// (as the command sandbox does), and whether bwrap works at all is the one probe the shell shares.
// In danger-full-access nothing is confined and the program runs as is.
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Runtime } from '../runtime.js';
import { fail, ok, type Result } from '../util/result.js';
import type { HostPaths } from './bwrap.js';
import { probeSandbox, type SandboxProbe } from './doctor.js';
import { TtlMemo } from './memo.js';
import type { Policy } from './policy.js';
import { existingRoots, findHiddenPaths } from './protected.js';
import { buildViewArgs, inSystemDirs, SYSTEM_DIRS, SYSTEM_FILES, type SystemEntry, type ViewPurpose } from './view.js';

/** A program to start: what execa gets. */
export interface Launch {
  file: string;
  args: string[];
  cwd: string;
}

export interface ViewRequest {
  purpose: ViewPurpose;
  /** The program as found at start-up (runtime.bin). */
  bin: string;
  args: readonly string[];
  /** Working directory: a real path inside the roots. */
  cwd: string;
  /** Shown read-only besides the roots (a repository's git dir outside them). */
  readOnly?: readonly string[];
  /** git only: directories it may write besides the writable roots (a git dir outside them, a scratch dir). */
  writable?: readonly string[];
}

/** How long the hidden paths and git config files found are reused (as for the command sandbox). */
const LOOKUP_TTL_MS = 5000;

/** Whether bwrap works here: probed once per Runtime, shared by the shell tools and the view. */
export function sandboxProbe(runtime: Pick<Runtime, 'shared' | 'bin'>): Promise<SandboxProbe> {
  return runtime.shared('sandbox.probe', () => probeSandbox(runtime.bin.bwrap));
}

export class ConfinedView {
  readonly #bwrap: string | undefined;
  readonly #probeOnce: () => Promise<SandboxProbe>;
  #probed: Promise<SandboxProbe> | undefined;
  readonly #env: Readonly<Record<string, string | undefined>>;
  #system: SystemEntry[] | undefined;
  readonly #programs = new Map<string, { real: string; dir?: string }>();
  readonly #hidden = new TtlMemo<HostPaths['hidden']>(LOOKUP_TTL_MS);
  readonly #gitConfig = new TtlMemo<string[]>(LOOKUP_TTL_MS);

  constructor(opts: { bwrap: string | undefined; probe: () => Promise<SandboxProbe>; env: Readonly<Record<string, string | undefined>> }) {
    this.#bwrap = opts.bwrap;
    this.#probeOnce = opts.probe;
    this.#env = opts.env;
  }

  /** The view of `runtime`, created on first use. */
  static of(runtime: Runtime): ConfinedView {
    return runtime.shared('sandbox.view', () => new ConfinedView({ bwrap: runtime.bin.bwrap, probe: () => sandboxProbe(runtime), env: { ...process.env } }));
  }

  /** Whether bwrap works here: asked once, then remembered for the view's life. */
  #probe(): Promise<SandboxProbe> {
    this.#probed ??= this.#probeOnce();
    return this.#probed;
  }

  /** Whether `policy` can use the view: always in danger-full-access (nothing to confine), else when bwrap works. */
  async usable(policy: Policy): Promise<boolean> {
    return policy.mode === 'danger-full-access' || (await this.#probe()).ok;
  }

  /** How to start `req.bin` for `policy`: inside the view, or as is in danger-full-access; fails when bwrap cannot run. */
  async launch(policy: Policy, req: ViewRequest): Promise<Result<Launch>> {
    if (policy.mode === 'danger-full-access') return ok({ file: req.bin, args: [...req.args], cwd: req.cwd });
    const probe = await this.#probe();
    if (!probe.ok || !this.#bwrap) {
      const reason = probe.ok ? 'bubblewrap (bwrap) is not installed.' : probe.reason;
      const program = req.purpose === 'git' ? 'git' : 'ripgrep';
      return fail(
        'sandbox_unavailable',
        `Cannot run ${program}: the sandbox that confines it to the workspace is unavailable. ${reason} agentbox never runs ${program} unconfined on its own${req.purpose === 'git' ? ', so the git tools fail until this is fixed' : ''}.`,
        `Fix: ${probe.ok ? 'install bubblewrap' : probe.fix} (\`agentbox doctor\` checks it.)`,
      );
    }
    const program = this.#program(req.bin);
    const [mountable, hidden, gitConfig] = await Promise.all([
      existingRoots(policy),
      this.#hidden.get([...policy.hidden, '', ...policy.denyRead].join('\0'), () => findHiddenPaths(policy)),
      this.#gitConfig.get('', () => findGitConfig(this.#env)),
    ]);
    const args = buildViewArgs({
      policy: mountable,
      purpose: req.purpose,
      system: this.#systemEntries(),
      hidden,
      readOnly: [...gitConfig, ...(program.dir ? [program.dir] : []), ...(req.readOnly ?? [])],
      writable: req.writable ?? [],
      cwd: req.cwd,
    });
    return ok({ file: this.#bwrap, args: [...args, program.real, ...req.args], cwd: '/' });
  }

  /** /usr, /lib, ... as they are here: directories, or symlinks (merged /usr) kept as symlinks. Looked up once. */
  #systemEntries(): SystemEntry[] {
    this.#system ??= [...SYSTEM_DIRS, ...SYSTEM_FILES].flatMap((p): SystemEntry[] => {
      try {
        const info = lstatSync(p);
        if (info.isSymbolicLink()) return [{ path: p, kind: 'symlink', target: readlinkSync(p) }];
        return info.isDirectory() ? [{ path: p, kind: 'dir' }] : info.isFile() ? [{ path: p, kind: 'file' }] : [];
      } catch {
        return [];
      }
    });
    return this.#system;
  }

  /** A program's real path and, when it lies outside the system directories, its directory (shown read-only). */
  #program(bin: string): { real: string; dir?: string } {
    let found = this.#programs.get(bin);
    if (!found) {
      let real = bin;
      try {
        real = realpathSync(bin);
      } catch {
        // Not there (any more): bwrap says so when it cannot start it.
      }
      found = inSystemDirs(real) ? { real } : { real, dir: path.dirname(real) };
      this.#programs.set(bin, found);
    }
    return found;
  }
}

/**
 * The user's git config files that exist, which git reads for identity, excludes and attributes
 * (and ripgrep for the global gitignore): the global file (GIT_CONFIG_GLOBAL, else ~/.gitconfig and
 * the XDG directory `git/`), the system file (GIT_CONFIG_SYSTEM, else /etc/gitconfig, unless
 * GIT_CONFIG_NOSYSTEM) and /etc/gitattributes.
 */
export async function findGitConfig(env: Readonly<Record<string, string | undefined>>): Promise<string[]> {
  const usable = (p: string | undefined): p is string => p !== undefined && path.isAbsolute(p) && p !== '/dev/null';
  const candidates: string[] = [];
  if (env.GIT_CONFIG_GLOBAL !== undefined) {
    if (usable(env.GIT_CONFIG_GLOBAL)) candidates.push(env.GIT_CONFIG_GLOBAL);
  } else {
    if (usable(env.HOME)) candidates.push(path.join(env.HOME, '.gitconfig'));
    const xdg = usable(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : usable(env.HOME) ? path.join(env.HOME, '.config') : undefined;
    if (xdg) candidates.push(path.join(xdg, 'git'));
  }
  if (!isTrue(env.GIT_CONFIG_NOSYSTEM)) {
    const system = env.GIT_CONFIG_SYSTEM !== undefined ? env.GIT_CONFIG_SYSTEM : '/etc/gitconfig';
    if (usable(system)) candidates.push(system);
  }
  candidates.push('/etc/gitattributes');
  const present = await Promise.all(candidates.map((p) => stat(p).then(() => true, () => false)));
  return candidates.filter((_, i) => present[i]).map((p) => path.normalize(p));
}

/** git's boolean for an environment variable (GIT_CONFIG_NOSYSTEM=1, true, yes, on). */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

