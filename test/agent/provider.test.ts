import { describe, expect, it } from 'vitest';
import { resolveProvider, useFreeformApplyPatch } from '../../src/agent/provider.js';
import { ConfigSchema } from '../../src/config/index.js';

const config = (input: Record<string, unknown> = {}) => ConfigSchema.parse(input);

describe('model providers', () => {
  it('defaults to OpenAI over the Responses wire with OPENAI_API_KEY, honouring OPENAI_BASE_URL', () => {
    const r = resolveProvider(config(), 'openai', { OPENAI_API_KEY: 'sk-test' });
    expect(r.ok && r.value).toMatchObject({ id: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-test', wire: 'responses', isOpenAI: true, maxRetries: 4 });
    const proxied = resolveProvider(config(), 'openai', { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1/' });
    expect(proxied.ok && proxied.value).toMatchObject({ baseUrl: 'http://127.0.0.1:9/v1', isOpenAI: false });
  });

  it('says which variable to set when the key is missing', () => {
    const r = resolveProvider(config(), 'openai', {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toBe('Model provider openai needs an API key in the environment variable OPENAI_API_KEY, which is not set.');
  });

  it('reads a configured provider and needs no key without env_key', () => {
    const c = config({ model_providers: { local: { base_url: 'http://127.0.0.1:8000/v1', wire_api: 'chat', context_window: 32768, max_retries: 1 } } });
    const r = resolveProvider(c, 'local', {});
    expect(r.ok && r.value).toMatchObject({ id: 'local', wire: 'chat', apiKey: undefined, contextWindow: 32768, maxRetries: 1, isOpenAI: false });
  });

  it('lets a [model_providers.openai] table override the built-in one', () => {
    const c = config({ model_providers: { openai: { base_url: 'https://gateway.example.com/v1', env_key: 'GATEWAY_KEY' } } });
    const r = resolveProvider(c, 'openai', { GATEWAY_KEY: 'g', OPENAI_BASE_URL: 'http://ignored/v1' });
    expect(r.ok && r.value).toMatchObject({ baseUrl: 'https://gateway.example.com/v1', apiKey: 'g' });
  });

  it('names the known providers for an unknown one', () => {
    const r = resolveProvider(config({ model_providers: { local: { base_url: 'http://127.0.0.1:1/v1' } } }), 'nope', {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.hint).toContain('Known providers: openai, local');
  });

  it('offers freeform apply_patch only on the Responses wire, to GPT-5/Codex models on OpenAI unless configured', () => {
    const openai = resolveProvider(config(), 'openai', { OPENAI_API_KEY: 'k' });
    if (!openai.ok) throw new Error('unreachable');
    expect(useFreeformApplyPatch(openai.value, 'gpt-5.5')).toBe(true);
    expect(useFreeformApplyPatch(openai.value, 'gpt-4.1')).toBe(false);
    expect(useFreeformApplyPatch({ ...openai.value, freeformApplyPatch: false }, 'gpt-5.5')).toBe(false);
    expect(useFreeformApplyPatch({ ...openai.value, isOpenAI: false, freeformApplyPatch: true }, 'anything')).toBe(true);
    expect(useFreeformApplyPatch({ ...openai.value, wire: 'chat', freeformApplyPatch: true }, 'gpt-5.5')).toBe(false);
  });
});
