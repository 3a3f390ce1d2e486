// The environment of the Codex CLI backend, in two layers, so that neither agentbox's own secrets
// nor the server's other credentials reach what the model runs:
//
// 1. Codex itself (codexProcessEnv): the server's environment without agentbox's own variables
//    (AGENTBOX_*: the auth token, the home with config.toml and every thread) and without
//    secret-looking names (sandbox/env.ts: *KEY*, *TOKEN*, …), except the ones Codex needs to reach
//    its model (the `env_key` and `env_http_headers` of the providers in Codex's config.toml,
//    OPENAI_API_KEY, CODEX_API_KEY, and `codex.env_keys`) and the ones `shell.env.include` names
//    exactly. Secret-looking `shell.env.set` entries are added here too (see 2).
// 2. Codex's commands (codexShellEnvConfig: `-c shell_environment_policy.*`): what agentbox's own
//    commands get (sandbox/env.ts filterEnv): the core names, `shell.env.include` (a glob never lets
//    a secret through) and `shell.env.set`. Codex applies inherit, its default excludes, `exclude`,
//    `set`, then `include_only`; since agentbox built Codex's environment it knows every
//    secret-looking name in it, so `exclude` names exactly those the commands must not get (Codex's
//    credentials), and `include_only` keeps the rest to the core names, `include` and `set`. A
//    secret-looking `set` value travels in Codex's environment, not on its command line (where `ps`
//    would show it); the others go in `shell_environment_policy.set`.
//
// Codex adds its own markers (CODEX_THREAD_ID, CODEX_SANDBOX_NETWORK_DISABLED, …) after this.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { CORE_ENV_NAMES, isSecretName } from '../sandbox/index.js';

export interface CodexEnvPolicy {
  /** shell.env.include: names or globs the commands get from the server's environment. */
  include: readonly string[];
  /** shell.env.set: variables every command gets. */
  set: Readonly<Record<string, string>>;
  /** Secret-looking names Codex itself may read (its model credentials); its commands never get them. */
  credentials: readonly string[];
}

/** Credentials Codex reads without naming them in its config: its API key variables. */
export const CODEX_BUILTIN_CREDENTIALS: readonly string[] = ['OPENAI_API_KEY', 'CODEX_API_KEY'];

/** Names Codex's own `inherit = "core"` keeps, beyond agentbox's core names. */
const CODEX_CORE_NAMES: readonly string[] = ['USERNAME', 'TMPDIR', 'TEMP', 'TMP'];
/**
 * Set in Codex's environment to a value unique to one turn, and passed on to its commands: how the
 * turn's processes are found when stopping it, also those whose parent is gone (a command Codex
 * started in a sandbox of its own, with a session and PID namespace of its own, is reparented away
 * from Codex's tree when Codex exits). Not a secret.
 */
export const RUN_MARK_NAME = 'CODEX_RUN_OWNER';

const isAgentbox = (name: string) => name.toUpperCase().startsWith('AGENTBOX_');
const upper = (names: Iterable<string>) => new Set([...names].map((n) => n.toUpperCase()));

/** The environment the codex process starts with (layer 1). */
export function codexProcessEnv(vars: Readonly<Record<string, string | undefined>>, p: CodexEnvPolicy): Record<string, string> {
  const allowed = upper([...p.credentials, ...p.include]);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined || isAgentbox(name)) continue;
    if (isSecretName(name) && !allowed.has(name.toUpperCase())) continue;
    out[name] = value;
  }
  for (const [name, value] of Object.entries(p.set)) if (isSecretName(name)) out[name] = value;
  return out;
}

/** The `-c shell_environment_policy.*` arguments that give Codex's commands agentbox's command environment (layer 2). */
export function codexShellEnvConfig(codexEnv: Readonly<Record<string, string>>, p: CodexEnvPolicy): string[] {
  const wanted = upper([...p.include, ...Object.keys(p.set)]);
  // Every secret-looking name Codex has that the commands must not get, by its exact name (a
  // pattern would also drop the names `include` allows exactly).
  const withheld = Object.keys(codexEnv).filter((n) => isSecretName(n) && !wanted.has(n.toUpperCase()));
  const plainSet = Object.entries(p.set).filter(([n]) => !isSecretName(n));
  const list = (items: readonly string[]) => `[${items.map((i) => JSON.stringify(i)).join(',')}]`;
  const config = (key: string, value: string) => ['-c', `shell_environment_policy.${key}=${value}`];
  return [
    ...config('inherit', '"all"'),
    // agentbox's own exclusions below are a superset of Codex's defaults, which would also drop the
    // names `include` allows exactly.
    ...config('ignore_default_excludes', 'true'),
    ...config('exclude', list(['AGENTBOX_*', ...withheld])),
    ...(plainSet.length > 0 ? config('set', `{${plainSet.map(([n, v]) => `${JSON.stringify(n)}=${JSON.stringify(v)}`).join(',')}}`) : []),
    ...config('include_only', list([...new Set([...CORE_ENV_NAMES, ...CODEX_CORE_NAMES, RUN_MARK_NAME, ...p.include, ...Object.keys(p.set)])])),
  ];
}

/**
 * The variables Codex's configured providers read their credentials from (`env_key`, the values
 * of `env_http_headers`), from `$CODEX_HOME/config.toml` (default `~/.codex/config.toml`); none
 * when it cannot be read (Codex then reports its own configuration error).
 */
export function codexConfigCredentials(vars: Readonly<Record<string, string | undefined>>): string[] {
  const home = vars.CODEX_HOME || path.join(vars.HOME || os.homedir(), '.codex');
  let config: Record<string, unknown>;
  try {
    config = parseToml(readFileSync(path.join(home, 'config.toml'), 'utf8')) as Record<string, unknown>;
  } catch {
    return [];
  }
  const names: string[] = [];
  const providers = config.model_providers;
  if (!providers || typeof providers !== 'object') return names;
  for (const provider of Object.values(providers as Record<string, unknown>)) {
    if (!provider || typeof provider !== 'object') continue;
    const { env_key: key, env_http_headers: headers } = provider as { env_key?: unknown; env_http_headers?: unknown };
    if (typeof key === 'string') names.push(key);
    if (headers && typeof headers === 'object') for (const v of Object.values(headers)) if (typeof v === 'string') names.push(v);
  }
  return names;
}
