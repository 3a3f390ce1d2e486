// The environment a command gets. Codex passes the server's whole environment, secrets included;
// agentbox starts from a short list of harmless names instead, adds what the config names, and
// never lets a secret-looking name through unless the config names it exactly.
//
// 1. Keep the core names (PATH, HOME, LANG, LC_*, TERM, USER, SHELL, ...) and the names or globs
//    in `shell.env.include`.
// 2. Drop names that look like secrets (*KEY*, *TOKEN*, *SECRET*, *PASSWORD*, *CREDENTIAL*, ...)
//    unless `include` lists that exact name (a glob such as `NPM_*` never lets `NPM_TOKEN` pass).
// 3. Add agentbox's markers (AGENTBOX_SANDBOX, NO_COLOR, PAGER, TMPDIR, ...).
// 4. Apply `shell.env.set`, which wins over everything but AGENTBOX_SANDBOX.

export interface EnvPolicy {
  /** Extra names or globs (case-insensitive) passed from the server's environment. */
  include: readonly string[];
  /** Variables set for every command. */
  set: Readonly<Record<string, string>>;
  /** The mode the command runs under, announced as AGENTBOX_SANDBOX. */
  sandbox: string;
  /** False adds AGENTBOX_SANDBOX_NETWORK_DISABLED=1. */
  network: boolean;
  /** TMPDIR as the command sees it (/tmp inside the sandbox). */
  tmpDir: string;
  /** TERM: a terminal type for a PTY, `dumb` for pipes. */
  term: string;
}

/** Names every command gets from the server's environment when they are set. */
export const CORE_ENV_NAMES: readonly string[] = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'LC_*', 'TZ', 'TERM',
];

/** Names that look like secrets: never passed unless `include` names them exactly. */
export const SECRET_NAME_PATTERNS: readonly string[] = [
  '*KEY*', '*TOKEN*', '*SECRET*', '*PASSWORD*', '*PASSWD*', '*PASSPHRASE*', '*CREDENTIAL*', '*PRIVATE*', '*AUTH*', '*COOKIE*',
];

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const SECRET_NAME = globsToRegExp(SECRET_NAME_PATTERNS);

/** True when a variable name looks like it holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** One case-insensitive regular expression matching any of the globs (`*` and `?` are the only wildcards in names). */
function globsToRegExp(globs: readonly string[]): RegExp {
  const one = (g: string) => g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^(?:${globs.map(one).join('|')})$`, 'i');
}

/** The environment for one command, from `vars` (the server's environment) and the policy. */
export function filterEnv(vars: Readonly<Record<string, string | undefined>>, policy: EnvPolicy): Record<string, string> {
  const wanted = globsToRegExp([...CORE_ENV_NAMES, ...policy.include]);
  const exact = new Set(policy.include.map((n) => n.toUpperCase()));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined || !wanted.test(name)) continue;
    if (isSecretName(name) && !exact.has(name.toUpperCase())) continue;
    out[name] = value;
  }
  out.PATH ??= DEFAULT_PATH;
  Object.assign(out, {
    // bash sources ~/.bashrc when its stdin is a socket (Node's pipes are socketpairs) and SHLVL
    // is below 2, as if run by sshd; SHLVL=1 (bash makes it 2) keeps `bash -c` free of rc files.
    SHLVL: '1',
    TMPDIR: policy.tmpDir,
    TERM: policy.term,
    NO_COLOR: '1',
    PAGER: 'cat',
    GIT_PAGER: 'cat',
  });
  if (!policy.network) out.AGENTBOX_SANDBOX_NETWORK_DISABLED = '1';
  Object.assign(out, policy.set);
  out.AGENTBOX_SANDBOX = policy.sandbox;
  return out;
}

/** Names in `vars` that filterEnv withholds only because they look like secrets (for `agentbox doctor`). */
export function withheldSecretNames(vars: Readonly<Record<string, string | undefined>>, include: readonly string[]): string[] {
  const exact = new Set(include.map((n) => n.toUpperCase()));
  return Object.keys(vars).filter((n) => isSecretName(n) && !exact.has(n.toUpperCase())).sort();
}
