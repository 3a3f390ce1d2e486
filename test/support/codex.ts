// The real Codex CLI (@openai/codex, a devDependency) pointed at the scripted model server over the
// Responses wire, for tests of backend "codex". Codex writes state under $CODEX_HOME and (its
// helper links) under $HOME/.codex even with CODEX_HOME set, and refuses to create those helpers
// under the temp directory, so each test gets a HOME and CODEX_HOME of its own with TMPDIR beside
// them (not above them).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ModelServer } from './model-server.mjs';
import { PROJECT_ROOT } from './paths.js';
import { tempDir, type TempDir } from './workspace.js';

/** The Codex CLI as npm installs it (a Node launcher for the platform binary). */
export const CODEX_BIN = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'codex');

export interface CodexEnv {
  dir: TempDir;
  /** Environment for whatever starts codex (agentbox, or codex itself). */
  env: Record<string, string>;
}

/** A HOME with ~/.codex/config.toml naming the scripted server as provider "mock". */
export function codexEnv(model: ModelServer): CodexEnv {
  const dir = tempDir('agentbox-codex-');
  const home = dir.path('home');
  const codexHome = path.join(home, '.codex');
  const tmp = dir.path('tmp');
  mkdirSync(codexHome, { recursive: true });
  mkdirSync(tmp);
  dir.write(
    'home/.codex/config.toml',
    [
      'model = "test-model"',
      'model_provider = "mock"',
      '[model_providers.mock]',
      'name = "mock"',
      `base_url = "${model.url}"`,
      'wire_api = "responses"',
      'env_key = "MOCK_API_KEY"',
      'request_max_retries = 0',
      'stream_max_retries = 0',
      '',
    ].join('\n'),
  );
  return { dir, env: { HOME: home, CODEX_HOME: codexHome, TMPDIR: tmp, MOCK_API_KEY: 'mock-key' } };
}
