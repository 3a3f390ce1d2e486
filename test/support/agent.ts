// Helpers for delegate tests: an $AGENTBOX_HOME whose config.toml points at the scripted model
// server, a server connected over stdio with that home, and the delegate result's data.
import { readdirSync, readFileSync } from 'node:fs';
import type { CallToolResult, ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { connectStdio, type Connected } from './client.js';
import type { ModelServer } from './model-server.mjs';
import { tempDir, type TempDir } from './workspace.js';

export interface HomeOptions {
  wire?: 'responses' | 'chat';
  /** Extra keys for [model_providers.mock], as TOML lines. */
  provider?: string[];
  /** Extra top-level TOML (e.g. an [agent] table). */
  extra?: string;
}

/** A fresh $AGENTBOX_HOME with model "test-model" on provider "mock" (the scripted server). */
export function agentHome(model: ModelServer, opts: HomeOptions = {}): TempDir {
  const home = tempDir('agentbox-home-');
  home.write(
    'config.toml',
    [
      'model = "test-model"',
      'model_provider = "mock"',
      'approval_policy = "never"',
      opts.extra ?? '',
      '[model_providers.mock]',
      `base_url = "${model.url}"`,
      `wire_api = "${opts.wire ?? 'responses'}"`,
      'max_retries = 1',
      ...(opts.provider ?? []),
      '',
    ].join('\n'),
  );
  return home;
}

/** agentHome's model settings (without retries) as a flags layer, for an in-process testRuntime. */
export function mockModelConfig(model: ModelServer) {
  return {
    approval_policy: 'never' as const,
    model: 'test-model',
    model_provider: 'mock',
    model_providers: { mock: { base_url: model.url, wire_api: 'responses' as const, max_retries: 0 } },
  };
}

export interface AgentServerOptions {
  capabilities?: ClientCapabilities;
  env?: Record<string, string>;
  args?: string[];
  /** The server process's working directory (default: the test runner's). */
  cwd?: string;
}

/** agentbox over stdio with `home` as $AGENTBOX_HOME and `root` as the workspace. */
export function connectAgent(home: TempDir, root: string, opts: AgentServerOptions = {}): Promise<Connected> {
  return connectStdio({
    args: ['--root', root, ...(opts.args ?? [])],
    env: { AGENTBOX_HOME: home.dir, ...opts.env },
    ...(opts.capabilities ? { capabilities: opts.capabilities } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
}

export interface DelegateData {
  thread_id: string;
  status: 'completed' | 'failed' | 'cancelled' | 'timeout' | 'max_turns';
  content: string;
  output?: unknown;
  error?: string;
  diff: string;
  files_changed: Array<{ path: string; kind: string; from?: string }>;
  usage: { input_tokens: number; cached_input_tokens: number; output_tokens: number; reasoning_tokens: number };
  duration_ms: number;
  branch?: string;
  notes?: string[];
}

export function data(result: CallToolResult): DelegateData {
  if (!result.structuredContent) throw new Error(`no structuredContent in ${JSON.stringify(result)}`);
  return result.structuredContent as unknown as DelegateData;
}

/** The thread's JSONL lines, parsed. */
export function threadLines(home: TempDir, id: string): Array<Record<string, unknown> & { type: string }> {
  return readFileSync(home.path('threads', `${id}.jsonl`), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

/** Polls `check` every 25 ms until it returns true; throws after `timeoutMs` (a bound, not a timing assertion). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Items of a recorded Responses request's input, or chat messages, as plain objects. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** Names of the tools this build has (tests for tools still being built elsewhere skip without them). */
export async function availableTools(): Promise<Set<string>> {
  const { testRuntime } = await import('./runtime.js');
  const { createSessionContext } = await import('../../src/session.js');
  const { allTools } = await import('../../src/server.js');
  const runtime = testRuntime();
  try {
    return new Set(allTools(createSessionContext(runtime)).map((t) => t.name));
  } finally {
    await runtime.shutdown();
  }
}

/** Pids of live processes whose command line contains `needle` (from /proc). */
export function processesMatching(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}
