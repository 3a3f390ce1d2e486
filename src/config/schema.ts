// The one zod schema for agentbox's configuration: the config file, the environment and the
// command-line flags are all validated against it. Keys are snake_case, as in Codex's config.toml,
// so a Codex user recognises `model`, `model_provider`, `model_providers.<id>`, `approval_policy`.
import { z } from 'zod';

export const SandboxMode = z.enum(['read-only', 'workspace-write', 'danger-full-access']);
export type SandboxMode = z.infer<typeof SandboxMode>;

export const ApprovalPolicy = z.enum(['never', 'on-request', 'untrusted']);
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;

export const ToolGroup = z.enum(['files', 'shell', 'git', 'patch', 'delegate']);
export type ToolGroup = z.infer<typeof ToolGroup>;
export const ALL_TOOL_GROUPS: readonly ToolGroup[] = ToolGroup.options;

export const LogLevel = z.enum(['debug', 'info', 'warn', 'error', 'silent']);
export type LogLevel = z.infer<typeof LogLevel>;

export const ReasoningEffort = z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);
export type ReasoningEffort = z.infer<typeof ReasoningEffort>;

export const WireApi = z.enum(['responses', 'chat']);
export type WireApi = z.infer<typeof WireApi>;

const positiveInt = () => z.number().int().positive();

/**
 * Credential files and directories hidden from commands, grep/glob/git and the file tools unless
 * `sandbox.deny_read` says otherwise (a configured list replaces this one). `~` is the server's $HOME.
 */
export const DEFAULT_DENY_READ: readonly string[] = [
  '~/.ssh',
  '~/.aws',
  '~/.gnupg',
  '~/.config/gh',
  '~/.netrc',
  '~/.git-credentials',
  '~/.docker/config.json',
  '~/.npmrc',
  '~/.pypirc',
  '~/.kube',
  '~/.config/gcloud',
  '~/.azure',
];
/** setTimeout's largest delay (2^31 - 1 ms, about 24.8 days): a larger one fires at once. */
export const MAX_TIMEOUT_MS = 2_147_483_647;
const timeoutMs = () => positiveInt().max(MAX_TIMEOUT_MS);

const SandboxConfig = z
  .object({
    mode: SandboxMode.default('workspace-write'),
    network: z.boolean().default(false),
    writable_roots: z.array(z.string()).default([]),
    // Paths no command, search, git or file tool may read (absolute, or `~/...` for the server's $HOME).
    deny_read: z
      .array(z.string().refine((p) => p.startsWith('/') || p === '~' || p.startsWith('~/'), 'expected an absolute path or one starting with ~/'))
      .default([...DEFAULT_DENY_READ]),
    max_processes: positiveInt().default(1024),
    max_memory_mb: positiveInt().default(8192),
    max_cpu_seconds: positiveInt().default(3600),
    max_sessions: positiveInt().default(64),
  })
  .strict();

const ShellConfig = z
  .object({
    env: z
      .object({
        // Extra variable names (or globs such as `NPM_*`) passed from the server's environment.
        // This is the only way a secret-looking name (`*TOKEN*`, …) reaches a command.
        include: z.array(z.string()).default([]),
        // Variables set for every command, whatever the server's environment holds.
        set: z.record(z.string(), z.string()).default({}),
      })
      .strict()
      .prefault({}),
    default_timeout_ms: positiveInt().default(30 * 60_000),
    max_output_bytes: positiveInt().default(10_000),
  })
  .strict();

const FilesConfig = z
  .object({
    max_read_lines: positiveInt().default(2000),
    // Replies stay far below the SDK's 10 MiB stdio message limit.
    max_read_bytes: positiveInt().max(4 * 1024 * 1024).default(256 * 1024),
    max_results: positiveInt().default(500),
  })
  .strict();

const OutputConfig = z
  .object({
    // The most characters one tool result may carry to the host's model: comfortably under the
    // smallest common host limit (Claude Code keeps about 50,000 characters inline and saves larger
    // results to a file the model never reads). Per-tool limits (files.max_read_bytes,
    // shell.max_output_bytes, git.max_output_bytes) still apply where they are narrower.
    max_chars: positiveInt().min(2000).max(1_000_000).default(30_000),
  })
  .strict();

const StdioConfig = z
  .object({
    // The largest JSON-RPC message read from stdin (a write_file's content or a patch travels in
    // one). A longer request is refused with an error; memory use per message is a few times this.
    max_message_bytes: positiveInt()
      .min(64 * 1024)
      .max(1024 * 1024 * 1024)
      .default(32 * 1024 * 1024),
  })
  .strict();

const HttpConfig = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8765),
    auth_token: z.string().min(16, 'must be at least 16 characters').optional(),
    max_body_bytes: positiveInt().default(8 * 1024 * 1024),
    max_sessions: positiveInt().default(256),
    // A session with no request in flight for this long is closed (clients that vanish without DELETE).
    session_idle_ms: positiveInt().default(30 * 60_000),
    allowed_hosts: z.array(z.string()).default([]),
    allowed_origins: z.array(z.string()).default([]),
  })
  .strict();

const GitConfig = z
  .object({
    allow_hooks: z.boolean().default(false),
    allow_network: z.boolean().default(false),
    // Identity for commits made through agentbox; overrides the repository's user.name/email.
    author: z.object({ name: z.string().min(1), email: z.string().min(1) }).strict().optional(),
    // Let git sign commits as its own config says (commit.gpgSign). Off: commits are never signed.
    sign_commits: z.boolean().default(false),
    max_output_bytes: positiveInt().default(60_000),
  })
  .strict();

export const ModelProviderConfig = z
  .object({
    name: z.string().optional(),
    base_url: z.string().url().optional(),
    env_key: z.string().optional(),
    wire_api: WireApi.default('responses'),
    request_timeout_ms: timeoutMs().default(300_000),
    max_retries: z.number().int().min(0).default(4),
    http_headers: z.record(z.string(), z.string()).default({}),
    context_window: positiveInt().optional(),
    // Whether the provider's models accept apply_patch as a freeform (custom) tool.
    freeform_apply_patch: z.boolean().optional(),
  })
  .strict();
export type ModelProviderConfig = z.infer<typeof ModelProviderConfig>;

const AgentConfig = z
  .object({
    // The tool groups a delegate's subagent may use (of files, shell, git, patch; `delegate` has no
    // subagent tools). Independent of `tools`, which chooses what the host sees: a server may
    // publish only `delegate` and still give its subagent every group.
    tools: z.array(ToolGroup).default([...ALL_TOOL_GROUPS]),
    max_turns: positiveInt().default(100),
    timeout_ms: timeoutMs().default(60 * 60_000),
    // Compact the history when a request's input tokens pass this share of the context window.
    compact_threshold: z.number().gt(0).lte(1).default(0.8),
    context_window: positiveInt().default(200_000),
  })
  .strict();

const CodexConfig = z
  .object({
    // The Codex CLI for delegate's backend "codex" (default: `codex` on PATH).
    path: z.string().optional(),
    // Secret-looking variables Codex itself may read besides OPENAI_API_KEY, CODEX_API_KEY and the
    // env_key of the providers in its config.toml (e.g. AWS_SECRET_ACCESS_KEY); its commands never get them.
    env_keys: z.array(z.string()).default([]),
    // Also publish `codex` and `codex-reply`, the tools of the removed `codex mcp-server` (0.153.4).
    compat: z.boolean().default(false),
  })
  .strict();

export const ConfigSchema = z
  .object({
    // Workspace roots. Empty: the host's MCP roots when it has them, else the current directory.
    roots: z.array(z.string()).default([]),
    // Extra directories the file tools may read (never write).
    read_roots: z.array(z.string()).default([]),
    tools: z.array(ToolGroup).min(1, 'name at least one tool group').default([...ALL_TOOL_GROUPS]),
    log_level: LogLevel.default('info'),
    approval_policy: ApprovalPolicy.default('on-request'),
    approval_timeout_ms: timeoutMs().default(120_000),
    model: z.string().min(1).default('gpt-5.5'),
    model_provider: z.string().min(1).default('openai'),
    model_reasoning_effort: ReasoningEffort.optional(),
    model_providers: z.record(z.string(), ModelProviderConfig).default({}),
    sandbox: SandboxConfig.prefault({}),
    shell: ShellConfig.prefault({}),
    files: FilesConfig.prefault({}),
    output: OutputConfig.prefault({}),
    stdio: StdioConfig.prefault({}),
    http: HttpConfig.prefault({}),
    git: GitConfig.prefault({}),
    agent: AgentConfig.prefault({}),
    codex: CodexConfig.prefault({}),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
/** What a config file, the environment or the flags may hold: any subset of the keys. */
export type ConfigInput = z.input<typeof ConfigSchema>;
