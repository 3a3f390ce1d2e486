// Loads the configuration in layers, later wins: defaults < $AGENTBOX_HOME/config.toml <
// AGENTBOX_* environment < command-line flags. Every layer is checked against one schema, and a
// bad value stops start-up with a message that names the key, the value, where it came from and
// what is allowed.
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { ConfigSchema, type Config, type ConfigInput } from './schema.js';

/** One source of configuration values and how to name a key from it in an error. */
export interface ConfigLayer {
  source: 'file' | 'env' | 'flags';
  values: Record<string, unknown>;
  /** How a user would recognise the key in this layer, e.g. `AGENTBOX_SANDBOX_MODE`. */
  describe(keyPath: string): string;
}

export interface LoadedConfig {
  config: Config;
  /** Things worth telling the user that do not stop start-up (e.g. an unknown AGENTBOX_* variable). */
  warnings: string[];
  home: string;
  file: string;
  fileExists: boolean;
  /** Which layer set each dotted key; keys not listed come from the defaults. */
  sources: Map<string, ConfigLayer['source']>;
}

/** Thrown when the configuration cannot be used; the message is meant for the user as is. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The directory that holds config.toml, threads and other state. */
export function agentboxHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.AGENTBOX_HOME || path.join(os.homedir(), '.agentbox'));
}

export function loadConfig(opts: { env?: NodeJS.ProcessEnv; flags?: ConfigLayer } = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const home = agentboxHome(env);
  const file = path.join(home, 'config.toml');
  const fileLayer = readConfigFile(file);
  const layers = [fileLayer, envLayer(env), opts.flags].filter((l): l is ConfigLayer => l !== undefined);
  const config = parseLayers(layers);
  const sources = new Map<string, ConfigLayer['source']>();
  for (const layer of layers) for (const key of leafPaths(layer.values)) sources.set(key, layer.source);
  return { config, warnings: unknownEnvWarnings(env), home, file, fileExists: fileLayer !== undefined, sources };
}

/** Variables agentbox reads that are not configuration keys. */
const OTHER_ENV = new Set(['AGENTBOX_HOME']);

/** An AGENTBOX_* variable that sets nothing is most likely a typo: say which names exist. */
function unknownEnvWarnings(env: NodeJS.ProcessEnv): string[] {
  const known = envKeys();
  return Object.keys(env)
    .filter((name) => name.startsWith('AGENTBOX_') && !known.has(name) && !OTHER_ENV.has(name))
    .map((name) => {
      const names = [...known.keys()];
      const guess =
        names.find((k) => k.endsWith(name.slice('AGENTBOX_'.length)) || name.endsWith(k.slice('AGENTBOX_'.length))) ??
        closestName(name, names);
      return `environment variable ${name} sets nothing${guess ? `; did you mean ${guess}?` : ''} (every key has one: AGENTBOX_ + its path, e.g. AGENTBOX_SANDBOX_MODE)`;
    });
}

/** The known name at edit distance ≤ 2 from `name` (a typo such as AGENTBOX_SANDBOX_MOD), if one. */
function closestName(name: string, names: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const candidate of names) {
    const d = editDistance(name, candidate);
    if (d <= 2 && (!best || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * Directories the configuration names must exist: a server serving a workspace that is not there
 * would only fail on every call. Checked by `serve`, reported by `doctor`.
 */
export function assertDirectories(loaded: LoadedConfig): void {
  const { config, sources } = loaded;
  const checks: Array<[string, string, readonly string[]]> = [
    ['roots', '--root', config.roots],
    ['read_roots', '--read-root', config.read_roots],
    ['sandbox.writable_roots', 'sandbox.writable_roots', config.sandbox.writable_roots],
  ];
  for (const [key, flag, dirs] of checks) {
    for (const dir of dirs) {
      let isDir = false;
      try {
        isDir = statSync(dir).isDirectory();
      } catch {
        isDir = false;
      }
      if (isDir) continue;
      const from = sources.get(key) === 'flags' ? `flag ${flag}` : sources.get(key) === 'env' ? `environment variable AGENTBOX_${key.replace(/\./g, '_').toUpperCase()}` : `${key} in ${loaded.file}`;
      throw new ConfigError(`${key} = ${JSON.stringify(dir)} (from ${from}): expected an existing directory.`);
    }
  }
}

/** Merges the layers and validates the result; errors name the layer that set the bad key. */
export function parseLayers(layers: ConfigLayer[]): Config {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) deepMerge(merged, layer.values);
  const result = ConfigSchema.safeParse(merged);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => describeIssue(issue, merged, layers));
  throw new ConfigError(`invalid configuration:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
}

function readConfigFile(file: string): ConfigLayer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let values: Record<string, unknown>;
  try {
    values = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`${file} is not valid TOML: ${(err as Error).message}`);
  }
  return { source: 'file', values, describe: () => `in ${file}` };
}

// ---- environment ------------------------------------------------------------------------------

/** Environment variables that are not derived from a key name. */
const ENV_ALIASES: Record<string, string> = {
  AGENTBOX_AUTH_TOKEN: 'http.auth_token',
  AGENTBOX_SANDBOX: 'sandbox.mode',
};

interface EnvKey {
  keyPath: string;
  kind: 'string' | 'number' | 'boolean' | 'array';
}

/** Every scalar or array key of the schema, as the AGENTBOX_* variable that sets it. */
export function envKeys(): Map<string, EnvKey> {
  const out = new Map<string, EnvKey>();
  const walk = (schema: z.ZodType, prefix: string[]) => {
    const inner = unwrap(schema);
    const type = inner._zod.def.type;
    if (type === 'object') {
      const shape = (inner as z.ZodObject).shape as Record<string, z.ZodType>;
      for (const [key, child] of Object.entries(shape)) walk(child, [...prefix, key]);
      return;
    }
    if (type === 'record') return; // maps (model_providers, shell.env.set) come from the file only
    const kind: EnvKey['kind'] =
      type === 'number' ? 'number' : type === 'boolean' ? 'boolean' : type === 'array' ? 'array' : 'string';
    out.set(`AGENTBOX_${prefix.join('_').toUpperCase()}`, { keyPath: prefix.join('.'), kind });
  };
  walk(ConfigSchema, []);
  for (const [name, keyPath] of Object.entries(ENV_ALIASES)) {
    const target = [...out.values()].find((k) => k.keyPath === keyPath);
    if (target) out.set(name, target);
  }
  return out;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: z.ZodType };
    if (def.innerType && ['default', 'prefault', 'optional', 'nullable'].includes(def.type)) s = def.innerType;
    else return s;
  }
}

function envLayer(env: NodeJS.ProcessEnv): ConfigLayer | undefined {
  const values: Record<string, unknown> = {};
  const names = new Map<string, string>();
  for (const [name, key] of envKeys()) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(values, key.keyPath.split('.'), coerceEnv(raw, key.kind));
    names.set(key.keyPath, name);
  }
  if (names.size === 0) return undefined;
  return {
    source: 'env',
    values,
    describe: (key) => `from environment variable ${names.get(key) ?? `AGENTBOX_${key.replace(/\./g, '_').toUpperCase()}`}`,
  };
}

function coerceEnv(raw: string, kind: EnvKey['kind']): unknown {
  switch (kind) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw.trim())) return true;
      if (/^(0|false|no|off)$/i.test(raw.trim())) return false;
      return raw;
    case 'array':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    default:
      return raw;
  }
}

// ---- errors -----------------------------------------------------------------------------------

function describeIssue(issue: z.core.$ZodIssue, merged: Record<string, unknown>, layers: ConfigLayer[]): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((k) => {
        const keyPath = [...issue.path, k].join('.');
        return `unknown key ${keyPath}${where(keyPath, layers)}; allowed keys here: ${allowedKeysAt(issue.path).join(', ')}`;
      })
      .join('\n  - ');
  }
  const keyPath = formatKeyPath(issue.path);
  const value = getPath(merged, issue.path);
  const shown = value === undefined ? '(missing)' : SECRET_KEY.test(keyPath) ? '[redacted]' : JSON.stringify(value);
  return `${keyPath} = ${shown}${where(issue.path.filter((p) => typeof p !== 'number').join('.'), layers)}: ${allowedText(issue)}`;
}

/** " (in FILE)", " (from flag --x)": the highest layer that sets this key or one of its parents. */
function where(keyPath: string, layers: ConfigLayer[]): string {
  const parts = keyPath.split('.');
  // The longest prefix of the key that some layer sets, and of those layers the highest: a flag
  // setting http.host must not take the blame for http.auth_token from the environment.
  for (let n = parts.length; n > 0; n--) {
    const prefix = parts.slice(0, n);
    const layer = [...layers].reverse().find((l) => {
      const value = getPath(l.values, prefix);
      return value !== undefined && (n === parts.length || typeof value !== 'object' || Array.isArray(value));
    });
    if (layer) return ` (${layer.describe(prefix.join('.'))})`;
  }
  return '';
}

function allowedText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_small':
      return issue.message.includes('at least') ? issue.message : `expected at least ${String(issue.minimum)}`;
    case 'too_big':
      return `expected at most ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}

function allowedKeysAt(pathParts: PropertyKey[]): string[] {
  let schema: z.ZodType = ConfigSchema;
  for (const part of pathParts) {
    const inner = unwrap(schema);
    if (inner._zod.def.type === 'object') schema = ((inner as z.ZodObject).shape as Record<string, z.ZodType>)[String(part)]!;
    else if (inner._zod.def.type === 'record') schema = (inner._zod.def as unknown as { valueType: z.ZodType }).valueType;
    else return [];
    if (!schema) return [];
  }
  const inner = unwrap(schema);
  return inner._zod.def.type === 'object' ? Object.keys((inner as z.ZodObject).shape) : [];
}

// ---- small object helpers ---------------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const existing = target[key];
    if (isPlainObject(value) && isPlainObject(existing)) deepMerge(existing, value);
    else target[key] = isPlainObject(value) ? structuredClone(value) : value;
  }
}

function setPath(obj: Record<string, unknown>, parts: string[], value: unknown): void {
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(cur[part])) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

function getPath(obj: unknown, parts: PropertyKey[]): unknown {
  let cur = obj;
  for (const part of parts) {
    if (Array.isArray(cur) && typeof part === 'number') cur = cur[part];
    else if (isPlainObject(cur)) cur = cur[String(part)];
    else return undefined;
  }
  return cur;
}

/** `tools[1]`, `http.port`: a key path as a user writes it. */
function formatKeyPath(parts: readonly PropertyKey[]): string {
  return parts.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

/** Secrets are never echoed, not even in an error about them. */
const SECRET_KEY = /token|secret|password|api_key|apikey|authorization/i;

function leafPaths(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    isPlainObject(v) && Object.keys(v).length > 0 ? leafPaths(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

/** Builds a flags layer from already-parsed CLI options; `names` maps key paths to flag names. */
export function flagsLayer(values: ConfigInput, names: Record<string, string>): ConfigLayer {
  return {
    source: 'flags',
    values: values as Record<string, unknown>,
    describe: (key) => `from flag ${names[key] ?? `--${key}`}`,
  };
}
