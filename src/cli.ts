#!/usr/bin/env node
// The `agentbox` command: `serve` (stdio or Streamable HTTP), `exec` (the agent loop from a
// terminal), `threads` (the persisted threads) and `doctor`.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import {
  agentboxHome,
  ALL_TOOL_GROUPS,
  ApprovalPolicy,
  assertDirectories,
  ConfigError,
  flagsLayer,
  loadConfig,
  LogLevel,
  ReasoningEffort,
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
  agentTools?: string;
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
  codexCompat?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'workspace root (repeatable); default: the host\'s MCP roots, else the current directory', collect)
    .option('--read-root <dir>', 'extra directory the file tools may read (repeatable)', collect)
    .addOption(new Option('--sandbox <mode>', 'sandbox mode').choices(SandboxMode.options))
    .addOption(new Option('--approval-policy <policy>', 'when to ask the host\'s user').choices(ApprovalPolicy.options))
    .option('--tools <groups>', `tool groups to publish, comma-separated (${ALL_TOOL_GROUPS.join(',')})`)
    .option('--agent-tools <groups>', 'tool groups a delegate\'s subagent may use (default: all; independent of --tools)')
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
  set('tools', '--tools', groupList(flags.tools));
  set('agent.tools', '--agent-tools', groupList(flags.agentTools));
  set('sandbox.network', '--network', flags.network);
  set('log_level', '--log-level', flags.logLevel);
  set('http.host', '--host', flags.host);
  set('http.port', '--port', flags.port);
  set('http.auth_token', '--auth-token', flags.authToken);
  set('codex.compat', '--codex-compat', flags.codexCompat);
  return flagsLayer(values, names);
}

const groupList = (value: string | undefined) => value?.split(',').map((s) => s.trim()).filter(Boolean);

function load(flags: ServeFlags): LoadedConfig {
  const loaded = loadConfig({ flags: flagsToLayer(flags) });
  for (const warning of loaded.warnings) process.stderr.write(`agentbox: warning: ${warning}\n`);
  if (loaded.config.codex.compat && !loaded.config.tools.includes('delegate')) {
    process.stderr.write('agentbox: warning: codex.compat (--codex-compat) publishes `codex` and `codex-reply` in the delegate group, which --tools leaves out: add delegate to --tools\n');
  }
  return loaded;
}

const program = new Command()
  .name('agentbox')
  .description('A sandboxed MCP server: files, shell, git and patches, plus a delegate tool that runs a whole agent loop.')
  .version(VERSION)
  .showHelpAfterError('(run the command with --help for every option)')
  // Usage errors come to the catch below (exit 2, and a JSON event for exec --json) instead of exit 1.
  .exitOverride();

addCommonOptions(
  program
    .command('serve')
    .description('serve MCP over stdio (what hosts launch) or Streamable HTTP')
    .option('--stdio', 'serve over stdin/stdout (the default)')
    .option('--http', 'serve Streamable HTTP at /mcp')
    .option('--host <host>', 'HTTP address to bind (default 127.0.0.1)')
    .option('--port <port>', 'HTTP port (default 8765; 0 picks a free one)', (v) => parsePort(v))
    .option('--auth-token <token>', 'bearer token HTTP clients must send (required off loopback)')
    .option('--banner', 'print the URL and host config snippets once listening')
    .option('--codex-compat', 'also publish `codex` and `codex-reply`, a drop-in for the removed `codex mcp-server`'),
).action(async (flags: ServeFlags) => {
  if (flags.stdio && flags.http) throw new ConfigError('choose one transport: --stdio or --http, not both.');
  const loaded = load(flags);
  assertDirectories(loaded);
  const { createLogger } = await import('./log.js');
  const { createRuntime } = await import('./runtime.js');
  const log = createLogger(loaded.config.log_level);
  const runtime = createRuntime({ config: loaded.config, home: loaded.home, log });
  // Before serving: what a crashed server's writes left half done is rolled back (patch/journal.ts).
  const { writeJournal } = await import('./patch/index.js');
  await writeJournal(runtime).recover();
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

interface ExecFlags {
  json?: boolean;
  model?: string;
  provider?: string;
  sandbox?: string;
  cwd?: string;
  resume?: string;
  backend?: 'agentbox' | 'codex';
  reasoningEffort?: string;
  approvalPolicy?: string;
  network?: boolean;
  maxTurns?: number;
  timeoutMs?: number;
  logLevel?: string;
}

program
  .command('exec')
  .description('run the agent loop on a task from a terminal: the same run as a delegate call')
  .argument('[task]', 'the task; "-" (or none, with stdin not a terminal) reads it from stdin')
  .option('--json', 'print JSONL events on stdout (the shape of `codex exec --json`)')
  .option('-m, --model <model>', 'model (default: `model` in config.toml)')
  .option('--provider <id>', 'a model_providers id (default: `model_provider`)')
  .addOption(new Option('-s, --sandbox <mode>', 'sandbox mode').choices(SandboxMode.options))
  .option('-C, --cwd <dir>', 'where the agent works, and the workspace (default: the current directory)')
  .option('--resume <threadId>', 'continue a thread (its settings are kept)')
  .addOption(new Option('--backend <backend>', 'agentbox\'s own loop, or the Codex CLI').choices(['agentbox', 'codex']))
  .addOption(new Option('--reasoning-effort <effort>').choices(ReasoningEffort.options))
  .addOption(new Option('--approval-policy <policy>', 'when to ask (on this terminal)').choices(ApprovalPolicy.options))
  .option('--network', 'allow network access inside the sandbox')
  .option('--max-turns <n>', 'most model responses', (v) => positive(v, '--max-turns'))
  .option('--timeout-ms <ms>', 'most time for the run', (v) => positive(v, '--timeout-ms'))
  .addOption(new Option('--log-level <level>', 'stderr log level (default warn)').choices(LogLevel.options))
  .action(async (task: string | undefined, flags: ExecFlags) => {
    const prompt = await readPrompt(task);
    const home = agentboxHome();
    let cwd = flags.cwd ? existingDir(flags.cwd, '--cwd') : realpathSync(process.cwd());
    if (flags.resume && !flags.cwd) {
      // A thread continues where it started: its directory is the workspace.
      const { ThreadStore } = await import('./agent/index.js');
      const thread = await new ThreadStore(path.join(home, 'threads')).load(flags.resume);
      if (thread.ok) cwd = thread.value.meta.worktree?.repo ?? thread.value.meta.cwd;
    }
    const values: ConfigInput & Record<string, unknown> = { roots: [cwd], log_level: (flags.logLevel ?? 'warn') as LogLevel };
    const names: Record<string, string> = { roots: '--cwd', log_level: '--log-level' };
    if (flags.sandbox) {
      values.sandbox = { mode: flags.sandbox as SandboxMode };
      names['sandbox.mode'] = '--sandbox';
    }
    if (flags.network) {
      values.sandbox = { ...(values.sandbox as object), network: true };
      names['sandbox.network'] = '--network';
    }
    if (flags.approvalPolicy) {
      values.approval_policy = flags.approvalPolicy as ApprovalPolicy;
      names.approval_policy = '--approval-policy';
    }
    const loaded = loadConfig({ flags: flagsLayer(values, names) });
    for (const warning of loaded.warnings) process.stderr.write(`agentbox: warning: ${warning}\n`);
    const { createLogger } = await import('./log.js');
    const { createRuntime } = await import('./runtime.js');
    const { runExec } = await import('./terminal/exec.js');
    const runtime = createRuntime({ config: loaded.config, home: loaded.home, log: createLogger(loaded.config.log_level), cwd });
    let code = 1;
    try {
      code = await runExec(runtime, {
        prompt,
        json: Boolean(flags.json),
        cwd,
        ...(flags.resume ? { resume: flags.resume } : {}),
        ...(flags.model ? { model: flags.model } : {}),
        ...(flags.provider ? { provider: flags.provider } : {}),
        ...(flags.backend ? { backend: flags.backend } : {}),
        ...(flags.reasoningEffort ? { reasoningEffort: flags.reasoningEffort as ReasoningEffort } : {}),
        ...(flags.approvalPolicy ? { approvalPolicy: flags.approvalPolicy as ApprovalPolicy } : {}),
        ...(flags.maxTurns ? { maxTurns: flags.maxTurns } : {}),
        ...(flags.timeoutMs ? { timeoutMs: flags.timeoutMs } : {}),
      });
    } finally {
      await runtime.shutdown();
    }
    process.exit(code);
  });

const threads = program.command('threads').description('the persisted delegate threads ($AGENTBOX_HOME/threads)');
threads
  .command('list')
  .description('every thread, most recent first')
  .option('--json', 'as JSON')
  .action(async (flags: { json?: boolean }) => {
    const { listThreads } = await import('./terminal/threads.js');
    process.exitCode = await listThreads(agentboxHome(), Boolean(flags.json));
  });
threads
  .command('show')
  .description('one thread\'s transcript')
  .argument('<id>', 'the thread id')
  .option('--json', 'the thread\'s settings, state and every line, as JSON')
  .action(async (id: string, flags: { json?: boolean }) => {
    const { showThread } = await import('./terminal/threads.js');
    process.exitCode = await showThread(agentboxHome(), id, Boolean(flags.json));
  });

/** The task from the argument, or stdin for "-" or no argument (a terminal on stdin must give one). */
async function readPrompt(task: string | undefined): Promise<string> {
  if (task !== undefined && task !== '-') {
    if (!task.trim()) throw new ConfigError('the task is empty.');
    return task;
  }
  if (process.stdin.isTTY) throw new ConfigError('give the task as an argument: agentbox exec "fix the failing test" (or pipe it in with -).');
  const text = readFileSync(0, 'utf8');
  if (!text.trim()) throw new ConfigError('no task on stdin.');
  return text;
}

function existingDir(dir: string, flag: string): string {
  try {
    if (statSync(dir).isDirectory()) return realpathSync(dir);
  } catch {
    // reported below
  }
  throw new ConfigError(`${flag} = ${JSON.stringify(dir)}: not an existing directory.`);
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${flag} = ${JSON.stringify(value)}: expected a positive integer.`);
  return n;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`--port = ${JSON.stringify(value)}: expected an integer from 0 to 65535.`);
  return n;
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // --help and --version end here too (exit 0); commander has already printed the message.
    if (err.exitCode === 0) process.exit(0);
    usageError(err.message.replace(/^error: /, ''));
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`agentbox: ${err.message}\n`);
    usageError(err.message);
  }
  process.stderr.write(`agentbox: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

/** Exit 2 for a usage error; `agentbox exec --json` also prints it as one JSON error event on stdout. */
function usageError(message: string): never {
  const args = process.argv.slice(2);
  if (args.find((a) => !a.startsWith('-')) === 'exec' && args.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ type: 'error', message })}\n`);
  }
  process.exit(2);
}
