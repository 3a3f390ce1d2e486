// `agentbox doctor`: prints the configuration in force (and where each value came from), then checks
// every dependency, one line each: OK, WARN (works with less) or FIX (with what to do).
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { LoadedConfig } from './config/index.js';
import { CommandCgroups } from './exec/index.js';
import { createLogger } from './log.js';
import { resolveProvider } from './agent/index.js';
import { expandDenyRead, probeSandbox, sandboxChecks, withheldSecretNames } from './sandbox/index.js';
import { which } from './util/which.js';
import { VERSION } from './version.js';

export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fix';
  detail: string;
}

const SECRET_KEYS = /token|key|secret|password|authorization/i;

/** Prints the report; resolves to false when something that agentbox needs is broken. */
export async function runDoctor(loaded: LoadedConfig, opts: { json: boolean }): Promise<boolean> {
  const checks = await collectChecks(loaded);
  const settings = flatten(loaded.config as unknown as Record<string, unknown>).map(([key, value]) => ({
    key,
    value: SECRET_KEYS.test(key) && value !== undefined ? '[set]' : value,
    source: loaded.sources.get(key) ?? sourceOfParent(loaded, key) ?? 'default',
  }));
  const healthy = checks.every((c) => c.status !== 'fix');
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ version: VERSION, home: loaded.home, configFile: loaded.file, settings, checks, healthy }, null, 2)}\n`);
    return healthy;
  }
  const out: string[] = [`agentbox ${VERSION}`, '', `Configuration (${loaded.file}${loaded.fileExists ? '' : ', not found: defaults apply'})`];
  for (const s of settings) out.push(`  ${s.key} = ${JSON.stringify(s.value)}${s.source === 'default' ? '' : `  (${s.source})`}`);
  out.push('', 'Checks');
  for (const c of checks) out.push(`  ${c.status.toUpperCase().padEnd(4)} ${c.name}: ${c.detail}`);
  out.push('', healthy ? 'Everything agentbox needs is in place.' : 'Some checks need a fix (see FIX lines above).');
  process.stdout.write(`${out.join('\n')}\n`);
  return healthy;
}

async function collectChecks(loaded: LoadedConfig): Promise<Check[]> {
  const { config } = loaded;
  const checks: Check[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  checks.push({ name: 'node', status: major >= 20 ? 'ok' : 'fix', detail: major >= 20 ? `v${process.versions.node}` : `v${process.versions.node}; agentbox needs Node.js 20 or later` });

  const roots = config.roots.length > 0 ? config.roots : [process.cwd()];
  for (const root of roots) {
    const abs = path.resolve(root);
    const isDir = existsSync(abs) && statSync(abs).isDirectory();
    checks.push({
      name: 'workspace root',
      status: isDir ? 'ok' : 'fix',
      detail: isDir ? `${abs}${config.roots.length === 0 ? ' (current directory; hosts with MCP roots replace it)' : ''}` : `${abs} is not a directory; pass an existing directory to --root`,
    });
  }

  checks.push(homeCheck(loaded.home));
  checks.push(httpCheck(config.http.host, Boolean(config.http.auth_token)));

  const git = which('git');
  const gitVersion = git ? await versionOf(git, ['--version']) : undefined;
  checks.push(git && gitVersion
    ? { name: 'git', status: 'ok', detail: `${gitVersion} (${git})` }
    : { name: 'git', status: 'fix', detail: 'not found; the git tools need it: `sudo apt-get install -y git`' });

  const rg = which('rg');
  const rgVersion = rg ? await versionOf(rg, ['--version']) : undefined;
  checks.push(rg && rgVersion
    ? { name: 'ripgrep', status: 'ok', detail: `${rgVersion} (${rg})` }
    : { name: 'ripgrep', status: 'warn', detail: 'not found; grep and glob fall back to a slower built-in search. Install: `sudo apt-get install -y ripgrep`' });

  checks.push(await modelCheck(loaded));

  // Not run: `codex --version` would write to ~/.codex. Only delegate's backend "codex" needs it.
  const codex = which(config.codex.path ?? 'codex');
  checks.push(
    codex
      ? { name: 'codex', status: 'ok', detail: `${codex} (for delegate backend "codex")` }
      : config.codex.path
        ? { name: 'codex', status: 'fix', detail: `codex.path = ${config.codex.path} is not an executable file; delegate backend "codex" fails until it is` }
        : { name: 'codex', status: 'warn', detail: 'not found; only delegate backend "codex" needs it: `npm install -g @openai/codex`' },
  );

  const probe = await probeSandbox(which('bwrap'));
  const cgroups = CommandCgroups.detect(createLogger('silent'));
  await cgroups?.removeAll();
  checks.push(
    ...sandboxChecks({
      config,
      probe,
      pidsCgroup: cgroups?.has('pids') ?? false,
      memoryCgroup: cgroups?.has('memory') ?? false,
      isRoot: process.getuid?.() === 0,
      withheld: withheldSecretNames(process.env, config.shell.env.include),
      denyRead: denyReadFacts(config.sandbox.deny_read),
      home: tildePath(loaded.home),
    }),
  );
  if (!which('bash')) checks.push({ name: 'bash', status: 'fix', detail: 'not found; exec_command runs every command with bash: `sudo apt-get install -y bash`' });
  return checks;
}

/**
 * The model delegate and `agentbox exec` use: the provider resolves (known, base_url, its API key
 * set) and its endpoint answers GET /models within 2 s. Only the delegate needs it: WARN, not FIX.
 */
async function modelCheck(loaded: LoadedConfig): Promise<Check> {
  const { config } = loaded;
  const resolved = resolveProvider(config, config.model_provider);
  const name = 'model';
  if (!resolved.ok) return { name, status: 'warn', detail: `${resolved.error.message} ${resolved.error.hint ?? ''} (only delegate and agentbox exec need a model)`.trim() };
  const provider = resolved.value;
  const url = `${provider.baseUrl}/models`;
  try {
    const res = await fetch(url, {
      headers: { ...provider.headers, ...(provider.apiKey ? { authorization: `Bearer ${provider.apiKey}` } : {}) },
      signal: AbortSignal.timeout(2000),
    });
    const what = `${config.model} on ${provider.id} (${provider.baseUrl}, ${provider.wire} wire)`;
    if (res.status === 401 || res.status === 403) return { name, status: 'warn', detail: `${what}: the endpoint refused the API key (HTTP ${res.status})` };
    return { name, status: 'ok', detail: `${what}: the endpoint answers (HTTP ${res.status})` };
  } catch (err) {
    return { name, status: 'warn', detail: `${config.model} on ${provider.id}: ${url} did not answer (${(err as Error).message}); delegate and agentbox exec will fail until it does` };
  }
}

function httpCheck(host: string, withToken: boolean): Check {
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  if (loopback) return { name: 'http', status: 'ok', detail: `binds ${host} (loopback)${withToken ? ', bearer token set' : ''}` };
  return withToken
    ? { name: 'http', status: 'ok', detail: `binds ${host} with a bearer token` }
    : { name: 'http', status: 'fix', detail: `http.host is ${host} but no auth token is set: serve --http will refuse to start. Set AGENTBOX_AUTH_TOKEN (16+ characters) or bind 127.0.0.1` };
}

/** sandbox.deny_read, `~` expanded as the server does, split by whether each entry exists here. */
function denyReadFacts(entries: readonly string[]): { present: string[]; absent: string[] } {
  const present: string[] = [];
  const absent: string[] = [];
  for (const p of expandDenyRead(entries, process.env.HOME)) (existsSync(p) ? present : absent).push(tildePath(p));
  return { present, absent };
}

/** `~/x` for a path in $HOME, as the user wrote it in the config. */
function tildePath(p: string): string {
  const home = process.env.HOME;
  return home && home !== '/' && (p === home || p.startsWith(`${home}/`)) ? `~${p.slice(home.length)}` : p;
}

function homeCheck(home: string): Check {
  const target = existsSync(home) ? home : path.dirname(home);
  try {
    accessSync(target, constants.W_OK);
    return { name: 'agentbox home', status: 'ok', detail: `${home}${existsSync(home) ? '' : ' (created on first use)'}` };
  } catch {
    return { name: 'agentbox home', status: 'fix', detail: `${target} is not writable; set AGENTBOX_HOME to a writable directory` };
  }
}

async function versionOf(bin: string, args: string[]): Promise<string | undefined> {
  const r = await execa(bin, args, { reject: false, timeout: 5000 });
  return r.exitCode === 0 ? String(r.stdout).split('\n')[0]?.trim() : undefined;
}

function flatten(obj: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0
      ? flatten(v as Record<string, unknown>, `${prefix}${k}.`)
      : [[`${prefix}${k}`, v] as [string, unknown]],
  );
}

function sourceOfParent(loaded: LoadedConfig, key: string): string | undefined {
  for (const [k, source] of loaded.sources) if (key.startsWith(`${k}.`)) return source;
  return undefined;
}
