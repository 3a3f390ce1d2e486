#!/usr/bin/env node
// The `agentbox` command: `serve` (stdio or Streamable HTTP) and `doctor`.
import { Command, Option } from 'commander';
import {
  ALL_TOOL_GROUPS,
  ApprovalPolicy,
  assertDirectories,
  ConfigError,
  flagsLayer,
  loadConfig,
  LogLevel,
  SandboxMode,
  type ConfigInput,
  type LoadedConfig,
} from './config/index.js';
import { VERSION } from './version.js';
// Commands import what they need when they run: a stdio server should not pay for express.

interface CommonFlags {
  root?: string[];
  readRoot?: string[];
  sandbox?: string;
  approvalPolicy?: string;
  tools?: string;
  network?: boolean;
  logLevel?: string;
}

interface ServeFlags extends CommonFlags {
  stdio?: boolean;
  http?: boolean;
  host?: string;
  port?: number;
  authToken?: string;
  banner?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'workspace root (repeatable); default: the host\'s MCP roots, else the current directory', collect)
    .option('--read-root <dir>', 'extra directory the file tools may read (repeatable)', collect)
    .addOption(new Option('--sandbox <mode>', 'sandbox mode').choices(SandboxMode.options))
    .addOption(new Option('--approval-policy <policy>', 'when to ask the host\'s user').choices(ApprovalPolicy.options))
    .option('--tools <groups>', `tool groups to publish, comma-separated (${ALL_TOOL_GROUPS.join(',')})`)
    .option('--network', 'allow network access inside the sandbox')
    .addOption(new Option('--log-level <level>', 'stderr log level').choices(LogLevel.options));
}

/** Turns the flags a user gave into the highest configuration layer. */
function flagsToLayer(flags: ServeFlags) {
  const values: ConfigInput & Record<string, unknown> = {};
  const names: Record<string, string> = {};
  const set = (key: string, flag: string, value: unknown) => {
    if (value === undefined) return;
    const parts = key.split('.');
    let cur: Record<string, unknown> = values;
    for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>;
    cur[parts[parts.length - 1]!] = value;
    names[key] = flag;
  };
  set('roots', '--root', flags.root);
  set('read_roots', '--read-root', flags.readRoot);
  set('sandbox.mode', '--sandbox', flags.sandbox);
  set('approval_policy', '--approval-policy', flags.approvalPolicy);
  set('tools', '--tools', flags.tools?.split(',').map((s) => s.trim()).filter(Boolean));
  set('sandbox.network', '--network', flags.network);
  set('log_level', '--log-level', flags.logLevel);
  set('http.host', '--host', flags.host);
  set('http.port', '--port', flags.port);
  set('http.auth_token', '--auth-token', flags.authToken);
  return flagsLayer(values, names);
}

function load(flags: ServeFlags): LoadedConfig {
  const loaded = loadConfig({ flags: flagsToLayer(flags) });
  for (const warning of loaded.warnings) process.stderr.write(`agentbox: warning: ${warning}\n`);
  return loaded;
}

const program = new Command()
  .name('agentbox')
  .description('A sandboxed MCP server: files, shell, git and patches, plus a delegate tool that runs a whole agent loop.')
  .version(VERSION)
  .showHelpAfterError('(run the command with --help for every option)');

addCommonOptions(
  program
    .command('serve')
    .description('serve MCP over stdio (what hosts launch) or Streamable HTTP')
    .option('--stdio', 'serve over stdin/stdout (the default)')
    .option('--http', 'serve Streamable HTTP at /mcp')
    .option('--host <host>', 'HTTP address to bind (default 127.0.0.1)')
    .option('--port <port>', 'HTTP port (default 8765; 0 picks a free one)', (v) => parsePort(v))
    .option('--auth-token <token>', 'bearer token HTTP clients must send (required off loopback)')
    .option('--banner', 'print the URL and host config snippets once listening'),
).action(async (flags: ServeFlags) => {
  if (flags.stdio && flags.http) throw new ConfigError('choose one transport: --stdio or --http, not both.');
  const loaded = load(flags);
  assertDirectories(loaded);
  const { createLogger } = await import('./log.js');
  const { createRuntime } = await import('./runtime.js');
  const log = createLogger(loaded.config.log_level);
  const runtime = createRuntime({ config: loaded.config, home: loaded.home, log });
  if (!flags.http) {
    const { serveStdio } = await import('./transports/stdio.js');
    return serveStdio(runtime);
  }
  // Loaded only when used: a stdio server that never holds express (and doctor's code) stays small,
  // which keeps every fork for a command cheap (fork time grows with the server's memory).
  const { serveHttp } = await import('./transports/http.js');
  const { printBanner } = await import('./banner.js');
  const { createSessionContext } = await import('./session.js');
  const handle = await serveHttp(runtime);
  if (flags.banner) {
    const workspace = createSessionContext(runtime).workspace.roots;
    printBanner({ url: handle.url, withToken: Boolean(loaded.config.http.auth_token), workspace, mode: loaded.config.sandbox.mode });
  } else process.stderr.write(`agentbox ${VERSION} listening on ${handle.url}\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'http server stopping');
    await handle.close();
    await runtime.shutdown();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
});

addCommonOptions(
  program.command('doctor').description('print the configuration in force and check every dependency').option('--json', 'machine-readable output'),
).action(async (flags: CommonFlags & { json?: boolean }) => {
  const loaded = load(flags);
  const { runDoctor } = await import('./doctor.js');
  const ok = await runDoctor(loaded, { json: Boolean(flags.json) });
  process.exitCode = ok ? 0 : 1;
});

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`--port = ${JSON.stringify(value)}: expected an integer from 0 to 65535.`);
  return n;
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`agentbox: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`agentbox: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
