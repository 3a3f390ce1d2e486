// Which endpoint a run talks to: `model_providers.<id>` from the config, or the built-in `openai`
// provider (OPENAI_BASE_URL or api.openai.com, key in OPENAI_API_KEY, Responses wire). A user's
// `[model_providers.openai]` table overrides the built-in one key by key.
import type { Config, ModelProviderConfig, WireApi } from '../config/index.js';
import { fail, ok, type Result } from '../util/result.js';

export interface ResolvedProvider {
  id: string;
  baseUrl: string;
  /** The API key, or undefined for endpoints that need none. Never logged. */
  apiKey: string | undefined;
  wire: WireApi;
  requestTimeoutMs: number;
  maxRetries: number;
  headers: Record<string, string>;
  contextWindow: number | undefined;
  /** Whether apply_patch may be offered as a freeform (custom) tool; undefined: decide by model. */
  freeformApplyPatch: boolean | undefined;
  /** True for OpenAI itself: prompt_cache_key and encrypted reasoning are sent only there. */
  isOpenAI: boolean;
}

const BUILT_IN: Record<string, Partial<ModelProviderConfig> & { base_url: string }> = {
  openai: { name: 'OpenAI', base_url: 'https://api.openai.com/v1', env_key: 'OPENAI_API_KEY', wire_api: 'responses' },
};

/** The providers a user can name: the built-ins plus every configured one. */
export function providerIds(config: Config): string[] {
  return [...new Set([...Object.keys(BUILT_IN), ...Object.keys(config.model_providers)])];
}

export function resolveProvider(config: Config, id: string, env: NodeJS.ProcessEnv = process.env): Result<ResolvedProvider> {
  const builtIn = BUILT_IN[id];
  const configured = config.model_providers[id];
  if (!builtIn && !configured) {
    return fail(
      'unknown_provider',
      `Unknown model provider ${JSON.stringify(id)}.`,
      `Known providers: ${providerIds(config).join(', ')}. Add [model_providers.${id}] with base_url (and wire_api, env_key) to config.toml.`,
    );
  }
  // Keys the user set explicitly win over the built-in defaults; zod filled the rest with defaults.
  const merged = { ...defaults(), ...builtIn, ...stripUndefined(configured ?? {}) };
  let baseUrl = configured?.base_url ?? builtIn?.base_url;
  if (id === 'openai' && !configured?.base_url && env.OPENAI_BASE_URL) baseUrl = env.OPENAI_BASE_URL;
  if (!baseUrl) {
    return fail('provider_config', `Model provider ${id} has no base_url.`, `Set model_providers.${id}.base_url in config.toml, e.g. "http://127.0.0.1:8000/v1".`);
  }
  let apiKey: string | undefined;
  if (merged.env_key) {
    apiKey = env[merged.env_key];
    if (!apiKey) {
      return fail(
        'missing_api_key',
        `Model provider ${id} needs an API key in the environment variable ${merged.env_key}, which is not set.`,
        `Set ${merged.env_key} in the environment agentbox starts with (the host's MCP server config, or your shell for agentbox exec), or change model_providers.${id}.env_key.`,
      );
    }
  }
  return ok({
    id,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    apiKey,
    wire: merged.wire_api ?? 'responses',
    requestTimeoutMs: merged.request_timeout_ms ?? 300_000,
    maxRetries: merged.max_retries ?? 4,
    headers: merged.http_headers ?? {},
    contextWindow: merged.context_window,
    freeformApplyPatch: merged.freeform_apply_patch,
    isOpenAI: id === 'openai' && /(^|\.)openai\.com$/.test(safeHost(baseUrl)),
  });
}

/** Whether `model` gets apply_patch as a freeform tool: only on Responses, and for GPT-5/Codex models unless configured. */
export function useFreeformApplyPatch(provider: ResolvedProvider, model: string): boolean {
  if (provider.wire !== 'responses') return false;
  if (provider.freeformApplyPatch !== undefined) return provider.freeformApplyPatch;
  return provider.isOpenAI && /^(gpt-5|codex)/i.test(model);
}

/**
 * Whether `model` is one of OpenAI's reasoning models (GPT-5, Codex, o-series) on OpenAI itself:
 * with `store: false` their reasoning can be replayed only with its encrypted content, which
 * is then always asked for.
 */
export function isOpenAIReasoningModel(provider: ResolvedProvider, model: string): boolean {
  return provider.isOpenAI && /^(gpt-5|codex|o\d)/i.test(model) && !/chat/i.test(model);
}

function defaults(): Partial<ModelProviderConfig> {
  return { wire_api: 'responses', request_timeout_ms: 300_000, max_retries: 4, http_headers: {} };
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}
