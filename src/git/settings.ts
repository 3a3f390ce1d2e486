// What every git invocation runs with. git runs outside the command sandbox, in the confined view
// (run.ts: only the workspace is visible, and it can write the writable roots, .git included).
// Which repositories they open at all is decided in confine.ts (in workspace-write mode
// only those whose .git the sandbox protects); this module is the defence in depth for the
// repositories that pass: a repository's config (which an earlier session, a downloaded tree or
// the user wrote) must not be able to make git run a program. It builds, as pure functions:
//
// 1. the environment: an allow-list of the server's variables (no GIT_DIR, GIT_EXTERNAL_DIFF,
//    GIT_SSH_COMMAND, … from the server's environment), then no pager, no editor, no prompts, no
//    lazy fetch, and no transport at all (GIT_ALLOW_PROTOCOL, which beats any protocol.*.allow in
//    a config file) unless the network is allowed;
// 2. the `-c` settings given on every command line (command-line config beats every file):
//    hooks off (core.hooksPath=/dev/null, a path where no hook can ever be created), no
//    fsmonitor, no signing, no auto gc/maintenance, no submodule recursion or submodule diffs
//    (a submodule's .git file lies in the work tree, so a child git there would read a config a
//    sandboxed command wrote), no identity guessing, and protocol.allow=never;
// 3. per repository, empty overrides for filter drivers that the repository's own config defines
//    (clean/smudge/process run programs on add, status and checkout). Drivers from the user's
//    global or system config (git-lfs) are trusted and keep working.
//
// Diff drivers (diff.external, diff.<driver>.command/textconv) are switched off per command with
// --no-ext-diff --no-textconv, child gits in submodules with --ignore-submodules=dirty and
// --submodule=short (see diff.ts); pagers only ever start on a terminal, which git never has here.
import type { Config } from '../config/index.js';

export interface GitSettings {
  /** Absolute path of git, found once at start-up; undefined when git is not installed. */
  bin: string | undefined;
  allowHooks: boolean;
  allowNetwork: boolean;
  signCommits: boolean;
  author?: { name: string; email: string };
  maxOutputBytes: number;
  /** Kills a git command that produces no output for this long. */
  timeoutMs: number;
  /** The server's environment; only allow-listed variables reach git. */
  env: NodeJS.ProcessEnv;
}

/** Settings from the `git` config section. */
export function gitSettings(config: Config['git'], bin: string | undefined, env: NodeJS.ProcessEnv = process.env): GitSettings {
  return {
    bin,
    allowHooks: config.allow_hooks,
    allowNetwork: config.allow_network,
    signCommits: config.sign_commits,
    ...(config.author ? { author: config.author } : {}),
    maxOutputBytes: config.max_output_bytes,
    timeoutMs: 120_000,
    env,
  };
}

/** Variables passed from the server's environment as they are. */
const PASSED = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'TZ',
  'TMPDIR',
  'XDG_CONFIG_HOME',
  // Which config files git reads (an empty HOME or GIT_CONFIG_GLOBAL=/dev/null isolates it).
  'GIT_CONFIG_GLOBAL',
  'GIT_CONFIG_SYSTEM',
  'GIT_CONFIG_NOSYSTEM',
  // An identity given to the server this way is used for commits.
  'GIT_AUTHOR_NAME',
  'GIT_AUTHOR_EMAIL',
  'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL',
]);
/** Passed only when the network is allowed: what transports and credential lookups need. */
const PASSED_WITH_NETWORK = new Set(['SSH_AUTH_SOCK', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']);

export interface EnvOptions {
  /**
   * Let read commands save what they learn (git status refreshes the index). Off in read-only
   * mode, where nothing may change, and for repositories the sandbox does not protect.
   */
  optionalLocks?: boolean;
}

/** The environment of every git command. */
export function gitEnv(s: Pick<GitSettings, 'env' | 'allowNetwork' | 'author'>, opts: EnvOptions = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(s.env)) {
    if (value === undefined) continue;
    if (PASSED.has(name) || (s.allowNetwork && PASSED_WITH_NETWORK.has(name))) out[name] = value;
  }
  Object.assign(out, {
    // English messages: errors are recognised by their text.
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_EDITOR: 'true',
    GIT_SEQUENCE_EDITOR: 'true',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    // Paths are passed as literal paths, already checked by the path policy: no pathspec magic.
    GIT_LITERAL_PATHSPECS: '1',
    // A promisor (partial clone) remote is never contacted for a missing object.
    GIT_NO_LAZY_FETCH: '1',
  });
  if (!opts.optionalLocks) out.GIT_OPTIONAL_LOCKS = '0';
  // Beats protocol.<name>.allow=always in a repository's config, which -c protocol.allow does not.
  if (!s.allowNetwork) out.GIT_ALLOW_PROTOCOL = 'none';
  if (s.author) {
    out.GIT_AUTHOR_NAME = out.GIT_COMMITTER_NAME = s.author.name;
    out.GIT_AUTHOR_EMAIL = out.GIT_COMMITTER_EMAIL = s.author.email;
  }
  return out;
}

/** `key=value` settings passed as `-c` on every command line. */
export function safeConfig(s: Pick<GitSettings, 'allowHooks' | 'allowNetwork' | 'signCommits'>): string[] {
  return [
    ...(s.allowHooks ? [] : ['core.hooksPath=/dev/null']),
    'core.fsmonitor=false',
    'core.quotePath=false',
    'color.ui=false',
    'submodule.recurse=false',
    // Never start a git in a submodule: not for a diff of it, a summary, or to see if it is dirty.
    'diff.submodule=short',
    'status.submoduleSummary=false',
    'diff.ignoreSubmodules=dirty',
    'gc.auto=0',
    'maintenance.auto=false',
    // Fail with "Author identity unknown" instead of inventing user@hostname.
    'user.useConfigOnly=true',
    // Verifying signatures runs gpg.program.
    'log.showSignature=false',
    // The diff helpers' output is read by tools: keep git's standard format.
    'diff.noprefix=false',
    'diff.mnemonicPrefix=false',
    'diff.relative=false',
    'advice.detachedHead=false',
    ...(s.signCommits ? [] : ['commit.gpgSign=false', 'tag.gpgSign=false']),
    ...(s.allowNetwork ? [] : ['protocol.allow=never']),
  ];
}

/** One config entry as `git config --show-scope --show-origin -z --get-regexp` lists it. */
export interface ScopedEntry {
  scope: string;
  /** Where it was read: `file:<path>` (relative to the work tree), `command line:`, … */
  origin: string;
  key: string;
  value: string;
}

/** Parses `git config --show-scope --show-origin -z --get-regexp …` output: `scope\0origin\0key\nvalue\0`. */
export function parseScopedConfig(out: string): ScopedEntry[] {
  const parts = out.split('\0');
  const entries: ScopedEntry[] = [];
  for (let i = 0; i + 2 < parts.length; i += 3) {
    const scope = parts[i]!;
    const origin = parts[i + 1]!;
    const kv = parts[i + 2]!;
    const nl = kv.indexOf('\n');
    // git prints section and variable names lowercased; a subsection keeps its case.
    entries.push({ scope, origin, key: nl < 0 ? kv : kv.slice(0, nl), value: nl < 0 ? '' : kv.slice(nl + 1) });
  }
  return entries;
}

/** An `include.path` or `includeIf.<condition>.path` entry: the file it reads, as written. */
export function includedFiles(entries: readonly ScopedEntry[]): Array<{ file: string; from: string }> {
  return entries
    .filter((e) => /^include(if\..*)?\.path$/is.test(e.key) && e.value !== '')
    .map((e) => ({ file: e.value, from: e.origin.replace(/^file:/, '') }));
}

const REPO_SCOPES = new Set(['local', 'worktree']);

export type RepoConfigCheck = { ok: true; overrides: string[] } | { ok: false; key: string };

/**
 * The `-c` overrides that switch off filter drivers defined by the repository's own config; fails
 * (naming the key) when a driver name cannot be written safely on a command line.
 */
export function repoConfigOverrides(entries: readonly ScopedEntry[]): RepoConfigCheck {
  const drivers = new Set<string>();
  for (const e of entries) {
    if (!REPO_SCOPES.has(e.scope)) continue;
    const m = /^filter\.(.+)\.(clean|smudge|process|required)$/s.exec(e.key);
    if (!m) continue;
    // `-c` splits at the first "=": a driver name holding one could not be overridden.
    if (/[=\n\0]/.test(m[1]!)) return { ok: false, key: e.key };
    drivers.add(m[1]!);
  }
  const overrides: string[] = [];
  for (const d of drivers) {
    overrides.push(`filter.${d}.clean=`, `filter.${d}.smudge=`, `filter.${d}.process=`, `filter.${d}.required=false`);
  }
  return { ok: true, overrides };
}

/** A signing program set by the repository's own config (only matters when signing is on). */
export function repoSigningProgram(entries: readonly ScopedEntry[]): string | undefined {
  return entries.find((e) => REPO_SCOPES.has(e.scope) && /^gpg\.(.+\.)?(program|defaultkeycommand)$/i.test(e.key))?.key;
}

/** The `-c` arguments for a list of settings. */
export function configArgs(settings: readonly string[]): string[] {
  return settings.flatMap((s) => ['-c', s]);
}
